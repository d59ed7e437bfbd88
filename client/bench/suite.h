// A bench suite, and the registry of them. A new suite is one file (a Suite subclass and its
// factory) plus its line in suite_registry.cc.
#ifndef CLIENT_BENCH_SUITE_H_
#define CLIENT_BENCH_SUITE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/bench/bench_config.h"
#include "client/bench/load_stats.h"
#include "client/bench/results.h"

namespace claude {
namespace bench {

class LoadEnvironment;

// When and on what a suite runs.
enum class SuiteStage {
  // On the fake-anthropic, servers and echo service started once for every such suite
  // (LoadEnvironment), interleaving scenarios round by round.
  kSharedProcesses,
  // After those are stopped, on fresh processes of its own (memory figures need a fresh heap).
  kFreshProcesses,
  // Only when --suite names it: its own processes, its own output, nothing else in the run.
  kAlone,
};

// Calls that failed in the load suites: counted, the first one's reason kept for the report.
struct CallFailures {
  int64_t count = 0;
  std::string first;

  void Note(const RunResult& r);
};

// What a suite gets to run and report. `load` is set for kSharedProcesses suites only.
struct SuiteContext {
  const BenchConfig& config;
  LoadEnvironment* load = nullptr;
  Results* results = nullptr;
  CallFailures* failures = nullptr;
};

class Suite {
 public:
  virtual ~Suite() = default;

  virtual SuiteStage stage() const = 0;
  // Whether --suite=all runs it (kAlone suites never are).
  virtual bool in_all() const { return stage() != SuiteStage::kAlone; }
  // Whether the shared processes must include the quota servers (redis-server and two
  // claude-grpc-servers with a per-caller limit).
  virtual bool needs_quota_servers() const { return false; }

  // Runs the measurements. Not OK: the suite produced nothing to report.
  virtual absl::Status Run(SuiteContext& context) = 0;
  // After an OK Run: why the result counts as a failure (the run exits 1); "" if it does not.
  virtual std::string Failure() const { return ""; }
  // After an OK Run: the value of the suite's member of the JSON report, and its text section.
  virtual std::string Json(const SuiteContext& context) const = 0;
  virtual void PrintText(const SuiteContext& context) const = 0;
};

// A suite whose run is one call that starts processes of its own and returns everything the
// suite reports (the memory, slow_reader, soak and batch_results suites): Run keeps that result
// for Failure, Json and PrintText.
template <typename Result>
class MeasurementSuite : public Suite {
 public:
  absl::Status Run(SuiteContext& context) final {
    absl::StatusOr<Result> result = Measure(context.config);
    if (!result.ok()) return result.status();
    result_ = *std::move(result);
    return absl::OkStatus();
  }

 protected:
  virtual absl::StatusOr<Result> Measure(const BenchConfig& config) const = 0;
  // After an OK Run: what Measure returned.
  const Result& result() const { return result_; }

 private:
  Result result_;
};

struct SuiteEntry {
  const char* name;
  std::unique_ptr<Suite> (*make)();
};

// Every suite, in the order --help lists them; suites run and report by stage, then this order.
const std::vector<SuiteEntry>& AllSuites();

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_SUITE_H_
