// The bench's configuration: every flag of claude-grpc-bench, parsed and checked once into one
// BenchConfig that main() hands to the suites. Nothing reads a flag after ParseBenchConfig.
#ifndef CLIENT_BENCH_BENCH_CONFIG_H_
#define CLIENT_BENCH_BENCH_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/bench/batch_results_suite.h"
#include "client/bench/failover_suite.h"
#include "client/bench/memory_suites.h"
#include "client/bench/soak_suite.h"

namespace claude {
namespace bench {

// The dialect the shared front-end speaks to fake-anthropic (--upstream_api).
enum class UpstreamApi { kMessages, kChatCompletions, kBoth };

struct BenchConfig {
  std::string suite;  // "all" or one suite's name
  bool json = false;
  absl::Duration duration;  // measured time of each measurement
  absl::Duration warmup;    // unrecorded load before it
  int rounds = 0;
  std::vector<int> concurrency;  // unary suite's calls in flight, sorted
  int channels = 0;
  int streams = 0;        // stream suite's streams in flight
  int stream_events = 0;  // text deltas per stream
  int64_t calls = 0;      // > 0: closed-loop gRPC runs make exactly this many calls
  double rate = 0;        // open_loop's calls per second
  UpstreamApi upstream_api = UpstreamApi::kMessages;
  // --ab_server_flags: non-empty, a second server with these flags too runs as frontend_b.
  std::vector<std::string> ab_server_flags;
  std::string redis_server_binary;
  SuiteBinaries binaries;
  MemoryOptions memory;
  SlowReaderOptions slow_reader;
  SoakOptions soak;                   // checked only when --suite=soak
  BatchResultsOptions batch_results;  // checked only when --suite=batch_results
  FailoverOptions failover;           // checked only when --suite=failover
};

// The source file that defines the flags, for ShowFlagsOfFile.
inline constexpr char kBenchFlagsFile[] = "bench/bench_config.cc";

// Reads and checks the flags (after absl::ParseCommandLine); `suite_names` are the suites
// --suite may name besides "all". On a bad value, INVALID_ARGUMENT whose message is the text for
// stderr, one line per complaint, each starting with the program's name.
absl::StatusOr<BenchConfig> ParseBenchConfig(const std::vector<std::string>& suite_names);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_BENCH_CONFIG_H_
