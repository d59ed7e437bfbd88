// The soak suite: thousands of concurrent streams for a set time, each cancelled at a random
// moment (before the upstream answers, mid-stream, or never: it completes), against a fresh
// fake-anthropic and claude-grpc-server of its own. Afterwards nothing may be left behind: the
// server's live and paused transfers and live streams are 0, its resident memory is within a
// bound of its level after the warm-up, and its open descriptors are back to its idle
// baseline plus at most the idle connection pool.
#ifndef CLIENT_BENCH_SOAK_SUITE_H_
#define CLIENT_BENCH_SOAK_SUITE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "claude/v1/messages.pb.h"
#include "client/bench/memory_suites.h"

namespace claude {
namespace bench {

struct SoakOptions {
  int streams = 2000;                          // kept open at once
  absl::Duration duration = absl::Seconds(60);  // of load, after the warm-up
  absl::Duration warmup = absl::Seconds(10);
  int channels = 8;
  // Each stream's upstream reply: `deltas` events `drip` apart; half of the streams are
  // cancelled at a uniformly random time within that length, the others run to their end.
  int deltas = 20;
  absl::Duration drip = absl::Milliseconds(50);
  // The server's idle pool (--max_idle_connections): descriptors may stay open for it.
  int max_idle_connections = 256;
  // Allowed growth of the server's RSS over the run, after the warm-up's level.
  double rss_bound_mb = 32;
};

struct SoakResult {
  int64_t streams_started = 0;
  int64_t completed = 0;  // status OK
  int64_t cancelled = 0;  // CANCELLED (by the bench)
  int64_t failed = 0;     // any other status
  std::string first_failure;
  int64_t rss_idle_kb = 0;         // fresh server, before any stream
  int64_t rss_after_warmup_kb = 0;  // once the warm-up's streams all ended
  int64_t rss_after_kb = 0;         // once the run's streams all ended
  int64_t fds_idle = 0;            // server's open descriptors before any stream
  int64_t fds_after = 0;
  // Gauges scraped from the server's /metrics after the run.
  double live_transfers = -1, paused_transfers = -1, live_streams = -1;
  bool passed = false;
  std::string verdict;  // what failed, when !passed
};

absl::StatusOr<SoakResult> RunSoakSuite(const SuiteBinaries& binaries,
                                        const claude::v1::CreateMessageRequest& request,
                                        const SoakOptions& options);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_SOAK_SUITE_H_
