// The quota suite (not part of --suite=all: it needs redis-server, and the perf table does not
// show it): one CreateMessage in flight against two servers with the same per-caller limit,
// counted in memory and in Redis. Its headline: what the Redis-checked admission adds, p50 and
// p99, same run: the difference of the two scenarios' medians, and per round (the rounds
// interleave the two, so each round is a pair measured under the same load) the median and the
// range of the pairs' differences.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "client/bench/load_environment.h"
#include "client/bench/load_rounds.h"
#include "client/bench/report.h"
#include "client/bench/results.h"
#include "client/bench/suite.h"

namespace claude {
namespace bench {
namespace {

constexpr char kSuite[] = "quota";

class QuotaSuite : public LoadSuite {
 public:
  QuotaSuite() : LoadSuite(kSuite) {}

  bool in_all() const override { return false; }
  bool needs_quota_servers() const override { return true; }

  absl::Status Run(SuiteContext& context) override {
    RunUnaryRounds(context, kSuite, {kLocalQuota, kRedisQuota}, {1});
    return absl::OkStatus();
  }

  void PrintText(const SuiteContext& context) const override {
    const DerivedFigures figures = Figures(context);
    PrintUnaryTable(*context.results, kSuite,
                    "per-caller limit counted in memory / in Redis (1 in flight)");
    std::printf("added by the Redis-checked admission: p50 %.0f us, p99 %.0f us\n",
                figures.Get("redis_added_p50_us"), figures.Get("redis_added_p99_us"));
    std::printf(
        "  per round (pairs): p50 %.0f (%.0f..%.0f) us, p99 %.0f (%.0f..%.0f) us\n",
        figures.Get("redis_added_p50_us_pairs_median"), figures.Get("redis_added_p50_us_pairs_min"),
        figures.Get("redis_added_p50_us_pairs_max"), figures.Get("redis_added_p99_us_pairs_median"),
        figures.Get("redis_added_p99_us_pairs_min"), figures.Get("redis_added_p99_us_pairs_max"));
  }

 private:
  DerivedFigures Figures(const SuiteContext& context) const override {
    const Results& results = *context.results;
    DerivedFigures figures;
    for (const char* p : {"p50", "p99"}) {
      const std::string metric = std::string(p) + "_us";
      figures.Add("redis_added_" + metric, results.Get(kSuite, kRedisQuota, 1, metric).median -
                                               results.Get(kSuite, kLocalQuota, 1, metric).median);
    }
    const std::vector<Metrics>& local = results.Suite(kSuite).at(kLocalQuota).at(1);
    const std::vector<Metrics>& redis = results.Suite(kSuite).at(kRedisQuota).at(1);
    for (const char* p : {"p50", "p99"}) {
      const std::string metric = std::string(p) + "_us";
      std::vector<double> differences;
      for (size_t round = 0; round < local.size() && round < redis.size(); ++round) {
        differences.push_back(redis[round].at(metric) - local[round].at(metric));
      }
      const Summary pairs = Summarize(differences);
      figures.Add("redis_added_" + metric + "_pairs_median", pairs.median);
      figures.Add("redis_added_" + metric + "_pairs_min", pairs.min);
      figures.Add("redis_added_" + metric + "_pairs_max", pairs.max);
    }
    return figures;
  }
};

}  // namespace

std::unique_ptr<Suite> MakeQuotaSuite() { return std::make_unique<QuotaSuite>(); }

}  // namespace bench
}  // namespace claude
