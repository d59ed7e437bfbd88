// The bench's memory suites. Each starts its own fake-anthropic (a generated stream) and its own
// claude-grpc-server as child processes, so that the server's resident memory (VmRSS in
// /proc/PID/status) is measured on a fresh process whose heap nothing else has grown: figures
// are the server's RSS minus its idle baseline, taken after a few warm-up streams.
#ifndef CLIENT_BENCH_MEMORY_SUITES_H_
#define CLIENT_BENCH_MEMORY_SUITES_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "claude/v1/messages.pb.h"
#include "client/bench/child_process.h"

namespace claude {
namespace bench {

struct SuiteBinaries {
  std::string server;
  std::string fake;
  std::vector<std::string> server_flags;  // extra claude-grpc-server flags
};

// A fresh fake-anthropic serving `fake_flags` and a fresh claude-grpc-server in front of it.
struct SuiteProcesses {
  Child fake;
  Child server;
  std::string upstream;  // the fake's base URL
  int port = 0;          // the server's gRPC port
  absl::Status Start(const SuiteBinaries& binaries, const std::vector<std::string>& fake_flags);
};

// Holds a reader to a pace of `bytes_per_s` from construction (none when not positive): Read
// counts what was just read and sleeps while the reader is ahead of the pace.
class ReadPacer {
 public:
  explicit ReadPacer(double bytes_per_s);
  void Read(int64_t bytes);
  // Since construction.
  double seconds() const;

 private:
  const double bytes_per_s_;
  const std::chrono::steady_clock::time_point start_;
  int64_t bytes_ = 0;
};

// ---- memory: many concurrently open, slowly dripping streams --------------------------------

struct MemoryOptions {
  std::vector<int> levels = {1000, 5000, 10000};  // open streams, in increasing order
  absl::Duration drip = absl::Seconds(2);         // between two events of a stream
  int channels = 8;                               // gRPC connections the streams share
  absl::Duration open_timeout = absl::Seconds(60);  // to have every stream of a level open
};

struct MemoryLevel {
  int streams = 0;
  int64_t rss_kb = 0;
  double kb_per_stream = 0;  // (rss_kb - baseline_kb) / streams
};

struct MemoryResult {
  int64_t fd_limit = 0;
  int64_t baseline_kb = 0;
  std::vector<MemoryLevel> levels;  // the levels reached, every stream open
  std::string stopped_by;           // why a level was not reached; empty if all were
};

absl::StatusOr<MemoryResult> RunMemorySuite(const SuiteBinaries& binaries,
                                            const claude::v1::CreateMessageRequest& request,
                                            const MemoryOptions& options);

// ---- slow-reader: one big stream read slowly --------------------------------------------------

struct SlowReaderOptions {
  int64_t megabytes = 50;             // text in the stream, MiB
  int delta_bytes = 1024;             // text per event
  double read_bytes_per_s = 10e6;     // the reader's pace
};

struct SlowReaderResult {
  int64_t baseline_kb = 0;
  int64_t peak_kb = 0;  // the server's peak RSS during the stream
  double growth_mb = 0;  // (peak_kb - baseline_kb) / 1024
  int64_t text_bytes = 0;
  int64_t events = 0;
  double seconds = 0;
  std::string status;  // the stream's gRPC status, "OK" when it completed
};

absl::StatusOr<SlowReaderResult> RunSlowReaderSuite(const SuiteBinaries& binaries,
                                                    const claude::v1::CreateMessageRequest& request,
                                                    const SlowReaderOptions& options);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_MEMORY_SUITES_H_
