// The bench's report: numbers, JSON members and text tables built from Results. Each suite
// writes its own section with these; bench_main.cc puts the sections together.
#ifndef CLIENT_BENCH_REPORT_H_
#define CLIENT_BENCH_REPORT_H_

#include <string>
#include <vector>

#include "client/bench/results.h"

namespace claude {
namespace bench {

// A number as the JSON report writes it (%.6g).
std::string Num(double v);

// {"<scenario>":{"<level>":{"<metric>":{"median":..,"min":..,"max":..},...},...},...,
//  "<figure>":value,...}: a load suite's JSON member.
std::string SuiteJson(const Results& results, const std::string& suite,
                      const DerivedFigures& figures);

// A table of the unary metrics (QPS and latency percentiles) of every scenario and level of
// `suite`, under `title`; the level column is headed `level_name`.
void PrintUnaryTable(const Results& results, const std::string& suite, const char* title,
                     const char* level_name = "in-fl");

// A column of a text table of spreads: its heading, the metric whose spread across rounds each
// cell shows (SpreadIfMeasured), the printf format of its numbers, and the width the column is
// padded to (the last column is not padded).
struct SpreadColumn {
  const char* heading;
  const char* metric;
  const char* format;
  int width;
};
// The table's heading cells, and the cells of (suite, scenario, level)'s row.
std::string SpreadHeadings(const std::vector<SpreadColumn>& columns);
std::string SpreadCells(const Results& results, const std::string& suite,
                        const std::string& scenario, int level,
                        const std::vector<SpreadColumn>& columns);

// "median (min..max)", each with `format`.
std::string Spread(const Summary& s, const char* format);
// The same for `metric` of (suite, scenario, level), or "-" when its runs did not measure it
// (server_switches_per_call of a scenario without a server).
std::string SpreadIfMeasured(const Results& results, const std::string& suite,
                             const std::string& scenario, int level, const std::string& metric,
                             const char* format);

// Over every load run that RunConditions watched: how many saw other runnable processes.
struct LoadSummary {
  int runs = 0;
  int runs_flagged = 0;
  double others_max = 0;
  double loadavg_max = 0;
  std::string warning;  // "" when no run was flagged
};
LoadSummary SummarizeLoad(const Results& results);
// The JSON report's "load" member's value.
std::string LoadJson(const LoadSummary& load);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_REPORT_H_
