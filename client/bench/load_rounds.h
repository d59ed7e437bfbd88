// What the load suites share: rounds of closed-loop unary load over a list of scenarios, the
// scenario order of a round, and the front-end's overhead figure.
#ifndef CLIENT_BENCH_LOAD_ROUNDS_H_
#define CLIENT_BENCH_LOAD_ROUNDS_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "client/bench/bench_config.h"
#include "client/bench/load_environment.h"
#include "client/bench/results.h"
#include "client/bench/suite.h"

namespace claude {
namespace bench {

LoadTiming TimingOf(const BenchConfig& config);

// The scenarios of one round: as given, except that two compared front-ends
// (--upstream_api=both, --ab_server_flags) swap places every other round, so neither always
// runs right after the other's load.
std::vector<std::string> RoundOrder(std::vector<std::string> scenarios, int round);

// `scenarios` with frontend_b after them when --ab_server_flags starts its server.
std::vector<std::string> WithAbScenario(const BenchConfig& config,
                                        std::vector<std::string> scenarios);

// One measured run against `scenario`, watched by RunConditions (the server's context switches,
// not with --calls; other runnable processes): `metrics_of` the run's result, plus the
// conditions' figures.
Metrics MeasureRun(SuiteContext& context, const std::string& scenario,
                   const std::function<RunResult()>& run, Metrics (*metrics_of)(const RunResult&));

// --rounds rounds of unary CreateMessage calls, closed loop: each round runs every level, and
// within it every scenario (direct_http over HTTP, the others over gRPC). Results go to
// `suite` in the context's Results; failed calls to its CallFailures.
void RunUnaryRounds(SuiteContext& context, const std::string& suite,
                    const std::vector<std::string>& scenarios, const std::vector<int>& levels);

// What the front-end adds: frontend - (raw + direct_http), medians of `metric` at `level`; of
// `frontend` (kFrontend, or kFrontendB).
double FrontendOverhead(const Results& results, const std::string& suite, int level,
                        const std::string& metric, const char* frontend = kFrontend);

// The headline of a throughput suite (unary, stream): "ratio_vs_raw", the front-end's median
// `metric` at `level` as a fraction of raw gRPC's; then `about_level` (what the level was); then
// with --upstream_api=both "chat_completions_vs_messages", the chat_completions front-end's as a
// fraction of the messages one's. A ratio over a median that is not positive is 0.
DerivedFigures ThroughputRatios(const SuiteContext& context, const std::string& suite, int level,
                                const std::string& metric,
                                const std::vector<std::pair<std::string, double>>& about_level);

// A load suite (kSharedProcesses): it adds its runs to the context's Results under its name, and
// its JSON member is those results followed by the figures it derives from them.
class LoadSuite : public Suite {
 public:
  explicit LoadSuite(const char* name) : name_(name) {}

  SuiteStage stage() const final { return SuiteStage::kSharedProcesses; }
  std::string Json(const SuiteContext& context) const final;

 protected:
  // The suite's headline figures, in the order its JSON member lists them.
  virtual DerivedFigures Figures(const SuiteContext& context) const = 0;

 private:
  const char* const name_;
};

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_LOAD_ROUNDS_H_
