#include "service/security/caller_limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace claude {

void CallerLimiter::Expire(State& state, absl::Time now) {
  const absl::Time horizon = now - kWindow;
  while (!state.requests.empty() && state.requests.front().first <= horizon) {
    state.request_sum -= state.requests.front().second;
    state.requests.pop_front();
  }
  // A token bucket stamped with the start of its second leaves when its whole second has.
  while (!state.tokens.empty() && state.tokens.front().first + absl::Seconds(1) <= horizon) {
    state.token_sum -= state.tokens.front().second;
    state.tokens.pop_front();
  }
}

std::optional<LimitRefusal> CallerLimiter::Acquire(const std::string& caller,
                                                   const CallerLimits& limits, absl::Time now,
                                                   int64_t requests) {
  std::lock_guard<std::mutex> lock(mu_);
  State& state = callers_[caller];
  Expire(state, now);
  if (limits.concurrent_streams > 0 && state.active >= limits.concurrent_streams) {
    return LimitRefusal{absl::StrCat("at its limit of ", limits.concurrent_streams,
                                     " concurrent streams"),
                        "caller_concurrent_streams", kConcurrencyRetryAfter};
  }
  if (limits.requests_per_minute > 0 && state.request_sum >= limits.requests_per_minute) {
    // The admission whose expiry brings the count below the limit.
    int64_t sum = state.request_sum;
    absl::Time frees = now;
    for (const auto& [admitted, count] : state.requests) {
      sum -= count;
      frees = admitted + kWindow;
      if (sum < limits.requests_per_minute) break;
    }
    return LimitRefusal{absl::StrCat("at its limit of ", limits.requests_per_minute,
                                     " requests per minute"),
                        "caller_requests_per_minute", std::max(frees - now, absl::ZeroDuration())};
  }
  if (limits.tokens_per_minute > 0 && state.token_sum >= limits.tokens_per_minute) {
    int64_t sum = state.token_sum;
    absl::Duration wait = absl::ZeroDuration();
    for (const auto& [second, tokens] : state.tokens) {
      sum -= tokens;
      wait = second + absl::Seconds(1) + kWindow - now;
      if (sum < limits.tokens_per_minute) break;
    }
    return LimitRefusal{absl::StrCat("at its limit of ", limits.tokens_per_minute,
                                     " tokens per minute"),
                        "caller_tokens_per_minute", std::max(wait, absl::ZeroDuration())};
  }
  ++state.active;
  if (limits.requests_per_minute > 0) {
    state.requests.emplace_back(now, std::max<int64_t>(requests, 1));
    state.request_sum += state.requests.back().second;
  }
  return std::nullopt;
}

void CallerLimiter::Release(const std::string& caller) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = callers_.find(caller);
  if (it == callers_.end()) return;
  State& state = it->second;
  if (state.active > 0) --state.active;
  // Forget idle callers, so the map holds only callers with something to remember.
  if (state.active == 0 && state.requests.empty() && state.tokens.empty()) callers_.erase(it);
}

void CallerLimiter::RecordTokens(const std::string& caller, int64_t tokens, absl::Time now) {
  if (tokens <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  State& state = callers_[caller];
  Expire(state, now);
  const absl::Time second = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
  if (!state.tokens.empty() && state.tokens.back().first == second) {
    state.tokens.back().second += tokens;
  } else {
    state.tokens.emplace_back(second, tokens);
  }
  state.token_sum += tokens;
}

int64_t CallerLimiter::active(const std::string& caller) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = callers_.find(caller);
  return it == callers_.end() ? 0 : it->second.active;
}

}  // namespace claude
