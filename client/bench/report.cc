#include "client/bench/report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/bench/run_conditions.h"

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

// `cells`, one per column, each but the last padded to its column's width, a space apart.
std::string PaddedLine(const std::vector<SpreadColumn>& columns,
                       const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < columns.size(); ++i) {
    const bool last = i + 1 == columns.size();
    absl::StrAppend(&line, last ? cells[i] : absl::StrFormat("%-*s ", columns[i].width, cells[i]));
  }
  return line;
}

}  // namespace

std::string Num(double v) { return absl::StrFormat("%.6g", v); }

std::string SuiteJson(const Results& results, const std::string& suite,
                      const DerivedFigures& figures) {
  std::vector<std::string> parts;
  for (const auto& [scenario, levels] : results.Suite(suite)) {
    parts.push_back(absl::StrCat("\"", scenario, "\":", ScenarioJson(levels)));
  }
  for (const auto& [key, value] : figures.in_order())
    parts.push_back(absl::StrCat("\"", key, "\":", Num(value)));
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string Spread(const Summary& s, const char* format) {
  return absl::StrCat(absl::StrFormat(format, s.median), " (", absl::StrFormat(format, s.min), "..",
                      absl::StrFormat(format, s.max), ")");
}

std::string SpreadIfMeasured(const Results& results, const std::string& suite,
                             const std::string& scenario, int level, const std::string& metric,
                             const char* format) {
  const bool measured = results.Suite(suite).at(scenario).at(level).front().count(metric) > 0;
  return measured ? Spread(results.Get(suite, scenario, level, metric), format) : "-";
}

LoadSummary SummarizeLoad(const Results& results) {
  LoadSummary load;
  for (const char* suite : {"unary", "stream", "latency", "quota"}) {
    if (!results.HasSuite(suite)) continue;
    for (const auto& [scenario, levels] : results.Suite(suite)) {
      for (const auto& [level, rounds] : levels) {
        for (const Metrics& m : rounds) {
          if (m.count("others_runnable_max") == 0) continue;
          ++load.runs;
          if (m.at("others_runnable_max") > 0) ++load.runs_flagged;
          load.others_max = std::max(load.others_max, m.at("others_runnable_max"));
          load.loadavg_max = std::max(load.loadavg_max, m.at("loadavg_1m"));
        }
      }
    }
  }
  load.warning = LoadWarning(load.runs_flagged, load.runs, load.others_max, load.loadavg_max);
  return load;
}

std::string LoadJson(const LoadSummary& load) {
  return absl::StrCat(R"({"runs":)", load.runs, R"(,"runs_with_others_runnable":)",
                      load.runs_flagged, R"(,"others_runnable_max":)", Num(load.others_max),
                      R"(,"loadavg_1m_max":)", Num(load.loadavg_max), R"(,"warning":")",
                      absl::CHexEscape(load.warning), "\"}");
}

std::string SpreadHeadings(const std::vector<SpreadColumn>& columns) {
  std::vector<std::string> headings;
  for (const SpreadColumn& column : columns) headings.push_back(column.heading);
  return PaddedLine(columns, headings);
}

std::string SpreadCells(const Results& results, const std::string& suite,
                        const std::string& scenario, int level,
                        const std::vector<SpreadColumn>& columns) {
  std::vector<std::string> cells;
  for (const SpreadColumn& column : columns) {
    cells.push_back(
        SpreadIfMeasured(results, suite, scenario, level, column.metric, column.format));
  }
  return PaddedLine(columns, cells);
}

void PrintUnaryTable(const Results& results, const std::string& suite, const char* title,
                     const char* level_name) {
  static const std::vector<SpreadColumn> kColumns = {
      {"QPS", "qps", "%.0f", 28},
      {"p50", "p50_us", "%.0f", 26},
      {"mean", "mean_us", "%.0f", 26},
      {"p90", "p90_us", "%.0f", 26},
      {"p99", "p99_us", "%.0f", 26},
      {"max", "max_us", "%.0f", 26},
      {"server switches/call", "server_switches_per_call", "%.2f", 0},
  };
  std::printf("\n%s: median over rounds (min..max across rounds); latencies in microseconds\n",
              title);
  std::printf("%-12s %6s  %s\n", "scenario", level_name, SpreadHeadings(kColumns).c_str());
  for (const auto& [scenario, levels] : results.Suite(suite)) {
    for (const auto& [level, rounds] : levels) {
      (void)rounds;
      std::printf("%-12s %6d  %s\n", scenario.c_str(), level,
                  SpreadCells(results, suite, scenario, level, kColumns).c_str());
    }
  }
}

}  // namespace bench
}  // namespace claude
