// The load suites' measurements, addressed by name: per (suite, scenario, level) the metrics of
// every round, summarized as median, min and max across rounds; and the figures each suite
// derives from them.
#ifndef CLIENT_BENCH_RESULTS_H_
#define CLIENT_BENCH_RESULTS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/bench/load_stats.h"

namespace claude {
namespace bench {

// One run's figures by metric name ("qps", "p50_us", ...).
using Metrics = std::map<std::string, double>;

struct Summary {
  double median = 0;
  double min = 0;
  double max = 0;
};

Summary Summarize(std::vector<double> values);

// A unary run's metrics: qps, calls, errors, p50/p90/p99/max and mean latency in µs.
Metrics UnaryMetrics(const RunResult& r);
// A stream run's: the unary ones with streams_per_s for qps, plus events/s, first-event and
// gap percentiles.
Metrics StreamMetrics(const RunResult& r);

class Results {
 public:
  // level: calls or streams in flight, or the open loop's rate.
  using Levels = std::map<int, std::vector<Metrics>>;

  void Add(const std::string& suite, const std::string& scenario, int level, const Metrics& m);
  bool Has(const std::string& suite, const std::string& scenario, int level) const;
  // The metric across the rounds of (suite, scenario, level), which must have been added.
  Summary Get(const std::string& suite, const std::string& scenario, int level,
              const std::string& metric) const;
  bool HasSuite(const std::string& suite) const { return rounds_.count(suite) > 0; }
  // The suite's scenarios by name, each with its levels.
  const std::map<std::string, Levels>& Suite(const std::string& suite) const;

 private:
  std::map<std::string, std::map<std::string, Levels>> rounds_;
};

// Figures a suite derives from its results (ratios, overheads), in the order the report lists
// them, read back by name.
class DerivedFigures {
 public:
  void Add(std::string name, double value);
  // The figure added as `name`; 0 if none was.
  double Get(absl::string_view name) const;
  const std::vector<std::pair<std::string, double>>& in_order() const { return figures_; }

 private:
  std::vector<std::pair<std::string, double>> figures_;
};

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_RESULTS_H_
