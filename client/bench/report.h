// The bench's report: numbers, JSON members and text tables built from Results. Each suite
// writes its own section with these; bench_main.cc puts the sections together.
#ifndef CLIENT_BENCH_REPORT_H_
#define CLIENT_BENCH_REPORT_H_

#include <string>

#include "client/bench/results.h"

namespace claude {
namespace bench {

// A number as the JSON report writes it (%.6g).
std::string Num(double v);

// {"<scenario>":{"<level>":{"<metric>":{"median":..,"min":..,"max":..},...},...},...,
//  "<figure>":value,...}: a load suite's JSON member.
std::string SuiteJson(const Results& results, const std::string& suite, const DerivedFigures& figures);

// A table of the unary metrics (QPS and latency percentiles) of every scenario and level of
// `suite`, under `title`; the level column is headed `level_name`.
void PrintUnaryTable(const Results& results, const std::string& suite, const char* title,
                     const char* level_name = "in-fl");

// "median (min..max)", each with `format`.
std::string Spread(const Summary& s, const char* format);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_REPORT_H_
