#include "client/bench/results.h"

#include <algorithm>

namespace claude {
namespace bench {

Summary Summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  s.min = v.front();
  s.max = v.back();
  return s;
}

Metrics UnaryMetrics(const RunResult& r) {
  return {{"qps", static_cast<double>(r.total.calls) / r.seconds},
          {"calls", static_cast<double>(r.total.calls)},
          {"errors", static_cast<double>(r.total.errors)},
          {"p50_us", Us(r.total.latency.Percentile(0.50))},
          {"p90_us", Us(r.total.latency.Percentile(0.90))},
          {"p99_us", Us(r.total.latency.Percentile(0.99))},
          {"mean_us", r.total.latency.Mean() / 1000.0},
          {"max_us", Us(r.total.latency.max())}};
}

Metrics StreamMetrics(const RunResult& r) {
  Metrics m = UnaryMetrics(r);
  m["streams_per_s"] = m["qps"];
  m.erase("qps");
  m["events_per_s"] = static_cast<double>(r.total.events) / r.seconds;
  m["first_event_p50_us"] = Us(r.total.first_event.Percentile(0.50));
  m["first_event_p99_us"] = Us(r.total.first_event.Percentile(0.99));
  m["gap_p50_us"] = Us(r.total.gap.Percentile(0.50));
  m["gap_p99_us"] = Us(r.total.gap.Percentile(0.99));
  return m;
}

void Results::Add(const std::string& suite, const std::string& scenario, int level,
                  const Metrics& m) {
  rounds_[suite][scenario][level].push_back(m);
}

bool Results::Has(const std::string& suite, const std::string& scenario, int level) const {
  auto s = rounds_.find(suite);
  if (s == rounds_.end()) return false;
  auto c = s->second.find(scenario);
  return c != s->second.end() && c->second.count(level) > 0;
}

Summary Results::Get(const std::string& suite, const std::string& scenario, int level,
                     const std::string& metric) const {
  std::vector<double> values;
  for (const Metrics& m : rounds_.at(suite).at(scenario).at(level)) values.push_back(m.at(metric));
  return Summarize(values);
}

const std::map<std::string, Results::Levels>& Results::Suite(const std::string& suite) const {
  return rounds_.at(suite);
}

void DerivedFigures::Add(std::string name, double value) {
  figures_.emplace_back(std::move(name), value);
}

double DerivedFigures::Get(absl::string_view name) const {
  for (const auto& [figure, value] : figures_) {
    if (figure == name) return value;
  }
  return 0;
}

}  // namespace bench
}  // namespace claude
