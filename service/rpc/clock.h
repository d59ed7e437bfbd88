// The time the call logic reads (deadlines, retry delays), injectable so tests of the call run
// on a fake clock: no sleeps.
#ifndef SERVICE_RPC_CLOCK_H_
#define SERVICE_RPC_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace claude {

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread-safe.
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // One for the whole process; lives forever.
  static const Clock* Get() {
    static const SystemClock* const clock = new SystemClock();
    return clock;
  }
};

}  // namespace claude

#endif  // SERVICE_RPC_CLOCK_H_
