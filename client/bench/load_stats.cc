#include "client/bench/load_stats.h"

#include <chrono>
#include <utility>

namespace claude {
namespace bench {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double Us(int64_t nanos) { return static_cast<double>(nanos) / 1000.0; }

Window MakeWindow(const LoadTiming& timing) {
  Window w;
  w.start = NowNs() + absl::ToInt64Nanoseconds(timing.warmup);
  w.end = w.start + absl::ToInt64Nanoseconds(timing.duration);
  return w;
}

void SlotStats::Fail(std::string why) {
  ++errors;
  if (first_error.empty()) first_error = std::move(why);
}

void SlotStats::CountCall(std::string error, bool recorded, int64_t latency_ns) {
  if (!error.empty()) {
    Fail(std::move(error));
  } else if (recorded) {
    ++calls;
    latency.Record(latency_ns);
  }
}

RunResult Merge(const std::vector<SlotStats>& slots, const Window& w) {
  RunResult r;
  r.seconds = w.seconds();
  for (const SlotStats& s : slots) {
    r.total.latency.Merge(s.latency);
    r.total.first_event.Merge(s.first_event);
    r.total.gap.Merge(s.gap);
    r.total.calls += s.calls;
    r.total.events += s.events;
    r.total.errors += s.errors;
    if (r.total.first_error.empty()) r.total.first_error = s.first_error;
  }
  return r;
}

}  // namespace bench
}  // namespace claude
