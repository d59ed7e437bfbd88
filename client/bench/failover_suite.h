// The bench's failover suite: what one failover costs. Two fake-anthropic processes, one
// refusing every call with 529 (--fail_status), one answering; two claude-grpc-server processes
// with upstreams files: "direct" routes every model to the answering fake alone, "failover" to
// the refusing one first, then the answering one, with outlier ejection off (--ejection_failures
// =0) so that every call pays exactly one failover. Both run in the same rounds (alternating),
// under the same closed-loop load, and are compared: the latency a failover adds (p50, p99) and
// the throughput ratio. The server's per-upstream counters check that every failover call made
// exactly two attempts.
#ifndef CLIENT_BENCH_FAILOVER_SUITE_H_
#define CLIENT_BENCH_FAILOVER_SUITE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "claude/v1/messages.pb.h"
#include "client/bench/memory_suites.h"

namespace claude {
namespace bench {

struct FailoverOptions {
  std::vector<int> concurrency = {1, 16};  // calls in flight, one measurement each
  absl::Duration duration = absl::Seconds(2);  // measured, per scenario, level and round
  absl::Duration warmup = absl::Milliseconds(500);
  int rounds = 3;
  int channels = 4;
};

struct FailoverScenario {
  int64_t calls = 0;
  int64_t failed = 0;  // calls not OK
  double qps = 0;      // calls per second, summed over the rounds' measured time
  double p50_us = 0;
  double p99_us = 0;
};

struct FailoverLevel {
  int concurrency = 0;
  FailoverScenario direct;
  FailoverScenario failover;
  double added_p50_us = 0;  // failover's p50 minus direct's
  double added_p99_us = 0;
  double qps_ratio = 0;     // failover's qps / direct's
};

struct FailoverResult {
  std::vector<FailoverLevel> levels;
  // From the failover server's /metrics after the run: failovers away from the refusing
  // upstream, and attempts on each upstream. Every failover call: one of each.
  double failovers = -1;
  double refused_attempts = -1;
  double answered_attempts = -1;
  int64_t failover_calls = 0;  // all the failover server's calls, warm-ups included
};

absl::StatusOr<FailoverResult> RunFailoverSuite(const SuiteBinaries& binaries,
                                                const claude::v1::CreateMessageRequest& request,
                                                const FailoverOptions& options);

// Prints `result` as a table, or as one JSON object.
void PrintFailover(const FailoverResult& result, const FailoverOptions& options);
std::string FailoverJson(const FailoverResult& result);

// --suite=failover: runs the suite with `options` (its concurrency levels from
// --failover_concurrency, defined here) and prints it; the process's exit code.
int RunFailoverCommand(const SuiteBinaries& binaries, const claude::v1::CreateMessageRequest& request,
                       FailoverOptions options, bool json);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_FAILOVER_SUITE_H_
