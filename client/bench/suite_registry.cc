// The registry of suites. A new suite: its file, and a line in each list below.
#include <memory>
#include <vector>

#include "client/bench/suite.h"

namespace claude {
namespace bench {

std::unique_ptr<Suite> MakeUnarySuite();
std::unique_ptr<Suite> MakeStreamSuite();
std::unique_ptr<Suite> MakeLatencySuite();
std::unique_ptr<Suite> MakeOpenLoopSuite();
std::unique_ptr<Suite> MakeMemorySuite();
std::unique_ptr<Suite> MakeSlowReaderSuite();
std::unique_ptr<Suite> MakeSoakSuite();
std::unique_ptr<Suite> MakeQuotaSuite();
std::unique_ptr<Suite> MakeBatchResultsSuite();
std::unique_ptr<Suite> MakeFailoverSuite();

const std::vector<SuiteEntry>& AllSuites() {
  static const std::vector<SuiteEntry> suites = {
      {"unary", &MakeUnarySuite},
      {"stream", &MakeStreamSuite},
      {"latency", &MakeLatencySuite},
      {"open_loop", &MakeOpenLoopSuite},
      {"memory", &MakeMemorySuite},
      {"slow_reader", &MakeSlowReaderSuite},
      {"soak", &MakeSoakSuite},
      {"quota", &MakeQuotaSuite},
      {"batch_results", &MakeBatchResultsSuite},
      {"failover", &MakeFailoverSuite},
  };
  return suites;
}

void CallFailures::Note(const RunResult& r) {
  count += r.total.errors;
  if (first.empty()) first = r.total.first_error;
}

}  // namespace bench
}  // namespace claude
