#include "client/bench/report.h"

#include <cstdio>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace claude {
namespace bench {
namespace {

std::string SummaryJson(const Summary& s) {
  return absl::StrCat(R"({"median":)", Num(s.median), R"(,"min":)", Num(s.min), R"(,"max":)",
                      Num(s.max), "}");
}

std::string ScenarioJson(const Results::Levels& levels) {
  std::vector<std::string> level_parts;
  for (const auto& [level, rounds] : levels) {
    std::vector<std::string> metric_parts;
    for (const auto& [metric, value] : rounds.front()) {
      (void)value;
      std::vector<double> values;
      for (const Metrics& m : rounds) values.push_back(m.at(metric));
      metric_parts.push_back(absl::StrCat("\"", metric, "\":", SummaryJson(Summarize(values))));
    }
    level_parts.push_back(absl::StrCat("\"", level, "\":{", absl::StrJoin(metric_parts, ","), "}"));
  }
  return absl::StrCat("{", absl::StrJoin(level_parts, ","), "}");
}

}  // namespace

std::string Num(double v) { return absl::StrFormat("%.6g", v); }

std::string SuiteJson(const Results& results, const std::string& suite, const DerivedFigures& figures) {
  std::vector<std::string> parts;
  for (const auto& [scenario, levels] : results.Suite(suite)) {
    parts.push_back(absl::StrCat("\"", scenario, "\":", ScenarioJson(levels)));
  }
  for (const auto& [key, value] : figures.in_order()) parts.push_back(absl::StrCat("\"", key, "\":", Num(value)));
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string Spread(const Summary& s, const char* format) {
  return absl::StrCat(absl::StrFormat(format, s.median), " (", absl::StrFormat(format, s.min),
                      "..", absl::StrFormat(format, s.max), ")");
}

void PrintUnaryTable(const Results& results, const std::string& suite, const char* title,
                     const char* level_name) {
  std::printf("\n%s: median over rounds (min..max across rounds); latencies in microseconds\n", title);
  std::printf("%-12s %6s  %-28s %-26s %-26s %-26s %s\n", "scenario", level_name, "QPS", "p50", "p90",
              "p99", "max");
  for (const auto& [scenario, levels] : results.Suite(suite)) {
    for (const auto& [level, rounds] : levels) {
      (void)rounds;
      std::printf("%-12s %6d  %-28s %-26s %-26s %-26s %s\n", scenario.c_str(), level,
                  Spread(results.Get(suite, scenario, level, "qps"), "%.0f").c_str(),
                  Spread(results.Get(suite, scenario, level, "p50_us"), "%.0f").c_str(),
                  Spread(results.Get(suite, scenario, level, "p90_us"), "%.0f").c_str(),
                  Spread(results.Get(suite, scenario, level, "p99_us"), "%.0f").c_str(),
                  Spread(results.Get(suite, scenario, level, "max_us"), "%.0f").c_str());
    }
  }
}

}  // namespace bench
}  // namespace claude
