// What a load run measures: the recorded window of time, and per-slot counters and latency
// histograms merged after the run. Shared by the gRPC and HTTP loads.
#ifndef CLIENT_BENCH_LOAD_STATS_H_
#define CLIENT_BENCH_LOAD_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/bench/histogram.h"

namespace claude {
namespace bench {

// Monotonic nanoseconds (steady_clock).
int64_t NowNs();
// Nanoseconds as microseconds.
double Us(int64_t nanos);

// The recorded part of a run: [start, end) in NowNs() time.
struct Window {
  int64_t start = 0;
  int64_t end = 0;
  bool Contains(int64_t t) const { return t >= start && t < end; }
  double seconds() const { return static_cast<double>(end - start) / 1e9; }
};

// How long a load runs: `duration` recorded after `warmup` unrecorded; with `calls` > 0 a
// closed loop instead makes exactly that many calls, every one recorded (for profilers).
struct LoadTiming {
  absl::Duration warmup;
  absl::Duration duration;
  int64_t calls = 0;
};

// A window that starts after the warm-up from now and lasts the duration.
Window MakeWindow(const LoadTiming& timing);

// What one slot (one call in flight at a time) saw. Touched only by that slot's callbacks,
// which follow one another, and read after the run.
struct SlotStats {
  LatencyHistogram latency;  // whole call (unary) or whole stream
  LatencyHistogram first_event;
  LatencyHistogram gap;
  int64_t calls = 0;
  int64_t events = 0;
  int64_t errors = 0;
  std::string first_error;

  // Counts a failed call; the first failure's reason is kept for the report.
  void Fail(std::string why);
  // Counts a finished call: failed when `error` is not empty (as Fail), else a call of
  // `latency_ns` when `recorded` (it falls in the run's window; the rest is warm-up).
  void CountCall(std::string error, bool recorded, int64_t latency_ns);
};

struct RunResult {
  SlotStats total;
  double seconds = 0;
};

// The slots' stats summed over the window `w`.
RunResult Merge(const std::vector<SlotStats>& slots, const Window& w);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_LOAD_STATS_H_
