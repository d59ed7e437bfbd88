#include "client/bench/bench_config.h"

#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

ABSL_FLAG(
    std::string, suite, "all",
    "Which suite to run: unary, stream, latency, open_loop, memory, slow_reader, soak, quota, "
    "batch_results, failover, or all (every one but soak, quota, batch_results and failover).");
ABSL_FLAG(bool, json, false, "Print one JSON object instead of tables.");
// Durations are string flags parsed with absl::ParseDuration ("2s", "500ms"): absl::Duration
// flags are sequence-locked, whose fences GCC warns about under -fsanitize=thread.
ABSL_FLAG(std::string, duration, "2s", "Measured time of each measurement (e.g. 2s, 200ms).");
ABSL_FLAG(std::string, warmup, "0.5s", "Load before each measurement that is not recorded.");
ABSL_FLAG(int, rounds, 3, "Rounds; each runs every scenario once (A B C A B C ...).");
ABSL_FLAG(std::vector<std::string>, concurrency, std::vector<std::string>({"1", "16", "64", "256"}),
          "Calls in flight for the unary suite (comma-separated list).");
ABSL_FLAG(int, channels, 4, "gRPC channels (connections) the calls are spread over.");
ABSL_FLAG(int, streams, 64, "Streams in flight for the stream suite.");
ABSL_FLAG(int, stream_events, 100, "Text deltas per stream in the stream suite.");
ABSL_FLAG(int64_t, calls, 0,
          "With a positive value, each closed-loop gRPC run makes exactly this many calls (no "
          "warm-up, no time limit) instead of running for --duration: for profilers, whose "
          "instruction counts are then comparable run to run.");
ABSL_FLAG(double, rate, 2000, "Calls per second of the open_loop suite.");
ABSL_FLAG(std::vector<std::string>, memory_streams,
          std::vector<std::string>({"1000", "5000", "10000"}),
          "Open streams at which the memory suite measures the server's RSS (comma-separated).");
ABSL_FLAG(std::string, memory_drip, "2s", "Time between two events of a memory-suite stream.");
ABSL_FLAG(int64_t, slow_reader_mb, 50, "MiB of text in the slow-reader suite's stream.");
ABSL_FLAG(double, slow_reader_mb_per_s, 10, "The slow reader's pace, MB/s.");
ABSL_FLAG(int64_t, batch_results_count, 100000,
          "batch_results suite: results in the throughput batch.");
ABSL_FLAG(int, batch_result_bytes, 1024, "batch_results suite: bytes of text per result.");
ABSL_FLAG(int64_t, batch_results_mb, 1024,
          "batch_results suite: MiB of results the paced reader reads.");
ABSL_FLAG(double, batch_results_mb_per_s, 10,
          "batch_results suite: the paced reader's pace, MB/s.");
ABSL_FLAG(std::vector<std::string>, failover_concurrency, std::vector<std::string>({"1", "16"}),
          "Failover suite: calls in flight, one measurement each (comma-separated).");
ABSL_FLAG(int, soak_streams, 2000, "Soak suite: streams kept open at once.");
ABSL_FLAG(std::string, soak_duration, "60s", "Soak suite: time under load after its warm-up.");
ABSL_FLAG(std::string, soak_warmup, "10s",
          "Soak suite: warm-up under the same load before RSS is taken.");
ABSL_FLAG(
    double, soak_rss_bound_mb, 32,
    "Soak suite: the most the server's RSS may grow after the warm-up (MB) for the soak to pass.");
ABSL_FLAG(std::vector<std::string>, server_flags, {},
          "Extra claude-grpc-server flags, comma-separated (e.g. --stream_buffer_bytes=65536).");
ABSL_FLAG(
    std::vector<std::string>, ab_server_flags, {},
    "With flags given (comma-separated, on top of --server_flags), a second claude-grpc-server "
    "runs with them as scenario frontend_b, interleaved beside frontend in the unary, stream "
    "and latency suites: a same-run A/B of a server setting.");
ABSL_FLAG(std::string, upstream_api, "messages",
          "The dialect claude-grpc-server speaks to fake-anthropic in the unary, stream, latency "
          "and open_loop suites: messages, chat_completions, or both (a second server speaks "
          "chat_completions; its front-end runs interleaved beside the messages one in the unary "
          "and stream suites and is reported as a ratio to it).");
ABSL_FLAG(std::string, server_binary, CLAUDE_BENCH_SERVER_BINARY, "The claude-grpc-server binary.");
ABSL_FLAG(std::string, fake_binary, CLAUDE_BENCH_FAKE_BINARY, "The fake-anthropic binary.");
ABSL_FLAG(std::string, redis_server_binary, "/usr/bin/redis-server",
          "The redis-server binary the quota suite starts (Debian: redis-server).");

namespace claude {
namespace bench {
namespace {

constexpr char kProgram[] = "claude-grpc-bench: ";

// A positive integer per value, sorted; every bad value adds a line to `*errors`.
std::vector<int> ParseLevels(const std::vector<std::string>& values, const char* flag,
                             std::string* errors) {
  std::vector<int> levels;
  for (const std::string& s : values) {
    int level = 0;
    if (!absl::SimpleAtoi(s, &level) || level < 1) {
      absl::StrAppend(errors, kProgram, "bad ", flag, " value \"", s, "\"\n");
    }
    levels.push_back(level);
  }
  std::sort(levels.begin(), levels.end());
  return levels;
}

absl::Status Usage(absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(kProgram, message, "\n"));
}

absl::Status CheckSoak(SoakOptions* soak) {
  soak->streams = absl::GetFlag(FLAGS_soak_streams);
  soak->rss_bound_mb = absl::GetFlag(FLAGS_soak_rss_bound_mb);
  if (!absl::ParseDuration(absl::GetFlag(FLAGS_soak_duration), &soak->duration) ||
      !absl::ParseDuration(absl::GetFlag(FLAGS_soak_warmup), &soak->warmup) || soak->streams < 1 ||
      soak->duration <= absl::ZeroDuration() || soak->warmup < absl::ZeroDuration()) {
    return Usage(
        "--soak_streams must be positive, --soak_duration and --soak_warmup durations like 60s");
  }
  return absl::OkStatus();
}

absl::Status CheckBatchResults(BatchResultsOptions* batch) {
  batch->throughput_results = absl::GetFlag(FLAGS_batch_results_count);
  batch->result_bytes = absl::GetFlag(FLAGS_batch_result_bytes);
  batch->megabytes = absl::GetFlag(FLAGS_batch_results_mb);
  batch->read_bytes_per_s = absl::GetFlag(FLAGS_batch_results_mb_per_s) * 1e6;
  if (batch->throughput_results < 1 || batch->result_bytes < 1 || batch->megabytes < 1 ||
      batch->read_bytes_per_s <= 0) {
    return Usage(
        "--batch_results_count, --batch_result_bytes, --batch_results_mb and "
        "--batch_results_mb_per_s must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BenchConfig> ParseBenchConfig(const std::vector<std::string>& suite_names) {
  BenchConfig c;
  c.suite = absl::GetFlag(FLAGS_suite);
  if (c.suite != "all" &&
      std::find(suite_names.begin(), suite_names.end(), c.suite) == suite_names.end()) {
    return Usage(absl::StrCat("--suite must be all or one of ", absl::StrJoin(suite_names, ", ")));
  }
  c.json = absl::GetFlag(FLAGS_json);
  std::string errors;
  c.concurrency = ParseLevels(absl::GetFlag(FLAGS_concurrency), "--concurrency", &errors);
  c.memory.levels = ParseLevels(absl::GetFlag(FLAGS_memory_streams), "--memory_streams", &errors);
  c.rounds = absl::GetFlag(FLAGS_rounds);
  c.channels = absl::GetFlag(FLAGS_channels);
  c.streams = absl::GetFlag(FLAGS_streams);
  c.stream_events = absl::GetFlag(FLAGS_stream_events);
  c.calls = absl::GetFlag(FLAGS_calls);
  c.rate = absl::GetFlag(FLAGS_rate);
  if (!absl::ParseDuration(absl::GetFlag(FLAGS_duration), &c.duration) ||
      !absl::ParseDuration(absl::GetFlag(FLAGS_warmup), &c.warmup) ||
      !absl::ParseDuration(absl::GetFlag(FLAGS_memory_drip), &c.memory.drip)) {
    return absl::InvalidArgumentError(absl::StrCat(
        errors,
        Usage("--duration, --warmup and --memory_drip take durations like 2s or 500ms").message()));
  }
  c.slow_reader.megabytes = absl::GetFlag(FLAGS_slow_reader_mb);
  c.slow_reader.read_bytes_per_s = absl::GetFlag(FLAGS_slow_reader_mb_per_s) * 1e6;
  if (!errors.empty() || c.concurrency.empty() || c.memory.levels.empty() || c.rounds < 1 ||
      c.channels < 1 || c.streams < 1 || c.stream_events < 1 || c.rate <= 0 ||
      c.duration <= absl::ZeroDuration() || c.warmup < absl::ZeroDuration() ||
      c.memory.drip <= absl::ZeroDuration() || c.slow_reader.megabytes < 1 ||
      c.slow_reader.read_bytes_per_s <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        errors,
        Usage("--concurrency, --memory_streams, --rounds, --channels, --streams, --stream_events, "
              "--rate, --duration, --memory_drip, --slow_reader_mb and --slow_reader_mb_per_s "
              "must be positive")
            .message()));
  }
  const std::string upstream_api = absl::GetFlag(FLAGS_upstream_api);
  if (upstream_api == "messages") {
    c.upstream_api = UpstreamApi::kMessages;
  } else if (upstream_api == "chat_completions") {
    c.upstream_api = UpstreamApi::kChatCompletions;
  } else if (upstream_api == "both") {
    c.upstream_api = UpstreamApi::kBoth;
  } else {
    return Usage("--upstream_api must be messages, chat_completions or both");
  }
  c.redis_server_binary = absl::GetFlag(FLAGS_redis_server_binary);
  c.binaries.server = absl::GetFlag(FLAGS_server_binary);
  c.binaries.fake = absl::GetFlag(FLAGS_fake_binary);
  c.binaries.server_flags = absl::GetFlag(FLAGS_server_flags);
  c.ab_server_flags = absl::GetFlag(FLAGS_ab_server_flags);
  if (c.binaries.fake.empty()) return Usage("--fake_binary is required (built without tests)");
  if (c.suite == "soak") {
    if (absl::Status s = CheckSoak(&c.soak); !s.ok()) return s;
  }
  if (c.suite == "batch_results") {
    if (absl::Status s = CheckBatchResults(&c.batch_results); !s.ok()) return s;
  }
  if (c.suite == "failover") {
    c.failover.concurrency =
        ParseLevels(absl::GetFlag(FLAGS_failover_concurrency), "--failover_concurrency", &errors);
    if (!errors.empty() || c.failover.concurrency.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          errors, Usage("--failover_concurrency must list positive numbers").message()));
    }
  }
  return c;
}

}  // namespace bench
}  // namespace claude
