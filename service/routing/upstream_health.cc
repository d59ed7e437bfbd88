#include "service/routing/upstream_health.h"

#include <algorithm>

namespace claude {

bool UpstreamHealth::TryAdmit(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (now < backoff_until_ || now < ejected_until_) return false;
  if (ejections_ == 0) return true;  // healthy
  // Half-open: one probe at a time, unless the last one never reported.
  if (probing_ && now - probe_started_ < policy_.base_ejection) return false;
  probing_ = true;
  probe_started_ = now;
  return true;
}

void UpstreamHealth::OnSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  failures_ = 0;
  ejections_ = 0;
  probing_ = false;
  ejected_until_ = absl::InfinitePast();
}

void UpstreamHealth::OnFailure(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  ++failures_;
  if (policy_.consecutive_failures <= 0) return;  // ejection turned off
  // A failed probe ejects again at once; a healthy upstream after enough failures in a row.
  if (!probing_ && (ejections_ > 0 || failures_ < policy_.consecutive_failures)) return;
  probing_ = false;
  ++ejections_;
  absl::Duration period = policy_.base_ejection;
  for (int i = 1; i < ejections_ && period < policy_.max_ejection; ++i) period *= 2;
  ejected_until_ = now + std::min(period, policy_.max_ejection);
}

void UpstreamHealth::BackOffUntil(absl::Time until) {
  std::lock_guard<std::mutex> lock(mu_);
  backoff_until_ = std::max(backoff_until_, until);
}

UpstreamHealth::State UpstreamHealth::state(absl::Time now) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (now < backoff_until_ || now < ejected_until_) return State::kEjected;
  if (ejections_ > 0) return State::kProbing;  // a probe is out, or the next call is one
  return State::kHealthy;
}

int UpstreamHealth::ejections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ejections_;
}

}  // namespace claude
