// The seam between the admission step (CallerGate) and a store of the windowed limits that
// several replicas share (service/quota/redis_quota.h). The gate keeps the calls in flight of
// its own replica; the store counts requests, tokens and budgets for all of them.
#ifndef SERVICE_SECURITY_SHARED_LIMITS_H_
#define SERVICE_SECURITY_SHARED_LIMITS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/security/caller_limiter.h"

namespace claude {

// The store's answer to one admission.
struct SharedDecision {
  // Set when a limit refuses the call.
  std::optional<LimitRefusal> refusal;
  // Not OK when the store could not decide and the server is configured to refuse then
  // (UNAVAILABLE, with the reason); an admission decided locally instead (fail open) is OK.
  absl::Status unavailable;
};

class SharedLimits {
 public:
  virtual ~SharedLimits() = default;
  // Decides whether `caller` may start a call under `limits` (its windowed ones; calls in
  // flight are the gate's), counting `requests` against requests_per_minute when admitted (1;
  // a batch: 1 + its requests), all of them or none, atomically across replicas. `done` runs
  // exactly once, on whatever thread the answer arrives (never blocking the caller of Admit).
  virtual void Admit(const std::string& caller, const CallerLimits& limits, absl::Time now,
                     int64_t requests, std::function<void(SharedDecision)> done) = 0;
  // Charges a finished call's tokens and cost (millionths of a US dollar) to its caller.
  virtual void Charge(const std::string& caller, int64_t tokens, int64_t usd_micros, absl::Time now) = 0;
  // The caller's counts in the windows in force; `done` runs exactly once.
  virtual void Read(const std::string& caller, absl::Time now,
                    std::function<void(absl::StatusOr<CallerUsageCounts>)> done) = 0;
};

}  // namespace claude

#endif  // SERVICE_SECURITY_SHARED_LIMITS_H_
