#include "service/routing/key_pool.h"

#include <algorithm>

namespace claude {

KeyPool::KeyPool(size_t keys, KeyPoolPolicy policy)
    : policy_(policy), parked_until_(std::max<size_t>(keys, 1), absl::InfinitePast()) {}

std::optional<size_t> KeyPool::Next(absl::Time now) {
  MutexLock lock(mu_);
  for (size_t tried = 0; tried < parked_until_.size(); ++tried) {
    const size_t key = next_;
    next_ = (next_ + 1) % parked_until_.size();
    if (parked_until_[key] <= now) return key;
  }
  return std::nullopt;
}

absl::Time KeyPool::FirstFreeAt(absl::Time now) const {
  MutexLock lock(mu_);
  absl::Time first = absl::InfiniteFuture();
  for (absl::Time until : parked_until_) {
    if (until <= now) return absl::InfinitePast();
    first = std::min(first, until);
  }
  return first;
}

void KeyPool::Report(size_t key, int http_status, std::optional<absl::Duration> retry_after,
                     absl::Time now) {
  MutexLock lock(mu_);
  if (key >= parked_until_.size()) return;
  absl::Time until = absl::InfinitePast();
  if (http_status == 401 || http_status == 403) {
    until = now + policy_.auth_failure_park;
  } else if (http_status == 429) {
    until = now + (retry_after.has_value() && *retry_after > absl::ZeroDuration() ? *retry_after
                                                                                   : policy_.rate_limit_park);
  } else if (http_status >= 200 && http_status < 300) {
    parked_until_[key] = absl::InfinitePast();  // a success clears whatever it was parked for
    return;
  }
  parked_until_[key] = std::max(parked_until_[key], until);
}

}  // namespace claude
