// Outlier ejection of one upstream: after `consecutive_failures` failed attempts in a row the
// upstream is skipped for an ejection period that doubles each time it is ejected again (from
// `base_ejection` up to `max_ejection`); when the period is over, one call is let through to
// probe it (half-open): its success makes the upstream healthy again, its failure ejects it for
// the next, longer period. An upstream's retry-after (a 429 or 529 that named one) also keeps
// calls away until then, without counting as an ejection.
//
// Thread-safe: every call that picks or reports on the upstream shares one UpstreamHealth. Time
// is passed in, so tests need no clock.
#ifndef SERVICE_ROUTING_UPSTREAM_HEALTH_H_
#define SERVICE_ROUTING_UPSTREAM_HEALTH_H_

#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace claude {

struct EjectionPolicy {
  int consecutive_failures = 5;  // 0: never ejected
  absl::Duration base_ejection = absl::Seconds(10);
  absl::Duration max_ejection = absl::Minutes(5);
};

class UpstreamHealth {
 public:
  enum class State {
    kHealthy,   // calls go to it
    kEjected,   // skipped until its ejection (or retry-after) ends
    kProbing,   // its ejection ended: one call finds out whether it recovered, the others skip it
  };

  explicit UpstreamHealth(EjectionPolicy policy = {}) : policy_(policy) {}

  // Whether a call may try the upstream at `now`; ask only when about to try it. True when
  // healthy and not under a retry-after; after an ejection ends, true for one call (the probe)
  // until it reports, or until `base_ejection` has passed without a report (a probe whose call
  // was cancelled), when another call may probe.
  bool TryAdmit(absl::Time now);
  // The attempt's outcome. A failure is one the call would retry elsewhere (connection error,
  // 408, 409, 429, 5xx, 529), not the caller's fault (400, 404...), which says nothing about the
  // upstream's health and is not reported.
  void OnSuccess();
  void OnFailure(absl::Time now);
  // The upstream asked for no calls before `until` (retry-after).
  void BackOffUntil(absl::Time until);

  // For the per-upstream gauge; kEjected also while under a retry-after.
  State state(absl::Time now) const;
  // Times it was ejected since it was last healthy (0 while healthy).
  int ejections() const;

 private:
  const EjectionPolicy policy_;
  mutable std::mutex mu_;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;  // consecutive
  int ejections_ ABSL_GUARDED_BY(mu_) = 0;
  bool probing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time probe_started_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time ejected_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time backoff_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace claude

#endif  // SERVICE_ROUTING_UPSTREAM_HEALTH_H_
