#include "service/security/caller_limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace claude {

LimitRefusal RefusalFor(LimitKind kind, int64_t limit, absl::Duration retry_after) {
  retry_after = std::max(retry_after, absl::ZeroDuration());
  const auto dollars = [limit] { return absl::StrFormat("$%.2f", static_cast<double>(limit) / 1e6); };
  switch (kind) {
    case LimitKind::kRequestsPerMinute:
      return {absl::StrCat("at its limit of ", limit, " requests per minute"), "caller_requests_per_minute",
              retry_after};
    case LimitKind::kTokensPerMinute:
      return {absl::StrCat("at its limit of ", limit, " tokens per minute"), "caller_tokens_per_minute",
              retry_after};
    case LimitKind::kTokensPerDay:
      return {absl::StrCat("over its budget of ", limit, " tokens per day (UTC)"), "caller_tokens_per_day",
              retry_after};
    case LimitKind::kTokensPerMonth:
      return {absl::StrCat("over its budget of ", limit, " tokens per month (UTC)"), "caller_tokens_per_month",
              retry_after};
    case LimitKind::kUsdPerDay:
      return {absl::StrCat("over its budget of ", dollars(), " per day (UTC)"), "caller_usd_per_day", retry_after};
    case LimitKind::kUsdPerMonth:
      break;
  }
  return {absl::StrCat("over its budget of ", dollars(), " per month (UTC)"), "caller_usd_per_month", retry_after};
}

LimitRefusal RequestsRefusal(int64_t limit, int64_t requests, int64_t left,
                             absl::Duration retry_after) {
  LimitRefusal refusal = RefusalFor(LimitKind::kRequestsPerMinute, limit, retry_after);
  if (requests <= 1) return refusal;
  if (requests > limit) {
    refusal.message = absl::StrCat(
        "at its limit of ", limit, " requests per minute, which a batch of ", requests - 1,
        " requests (", requests, " with its create) can never fit: split the batch");
    refusal.never_fits = true;
    return refusal;
  }
  refusal.message =
      absl::StrCat("at its limit of ", limit, " requests per minute: a batch of ", requests - 1,
                   " requests counts ", requests, " with its create, and ",
                   std::max<int64_t>(left, 0), " are left in the window");
  return refusal;
}

void CallerLimiter::Expire(State& state, absl::Time now) const {
  if (const int64_t day = windows_.DayAt(now).id; day != state.day) {
    state.day = day;
    state.day_tokens = state.day_micros = 0;
  }
  if (const int64_t month = windows_.MonthAt(now).id; month != state.month) {
    state.month = month;
    state.month_tokens = state.month_micros = 0;
  }
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
  MutexLock lock(mu_);
  State& state = callers_[caller];
  Expire(state, now);
  if (limits.concurrent_streams > 0 && state.active >= limits.concurrent_streams) {
    return LimitRefusal{absl::StrCat("at its limit of ", limits.concurrent_streams,
                                     " concurrent streams"),
                        "caller_concurrent_streams", kConcurrencyRetryAfter};
  }
  if (std::optional<LimitRefusal> refusal = CheckWindows(state, limits, now, requests))
    return refusal;
  ++state.active;
  CountRequests(state, limits, now, requests);
  return std::nullopt;
}

std::optional<LimitRefusal> CallerLimiter::AdmitWindows(const std::string& caller,
                                                        const CallerLimits& limits, absl::Time now,
                                                        int64_t requests) {
  MutexLock lock(mu_);
  State& state = callers_[caller];
  Expire(state, now);
  if (std::optional<LimitRefusal> refusal = CheckWindows(state, limits, now, requests))
    return refusal;
  CountRequests(state, limits, now, requests);
  return std::nullopt;
}

void CallerLimiter::CountRequests(State& state, const CallerLimits& limits, absl::Time now,
                                  int64_t requests) {
  if (limits.requests_per_minute <= 0) return;
  state.requests.emplace_back(now, requests);
  state.request_sum += requests;
}

std::optional<LimitRefusal> CallerLimiter::CheckWindows(State& state, const CallerLimits& limits,
                                                        absl::Time now, int64_t requests) const {
  const int64_t rpm = limits.requests_per_minute;
  if (rpm > 0 && state.request_sum + requests > rpm) {
    if (requests > rpm)
      return RequestsRefusal(rpm, requests, rpm - state.request_sum, absl::ZeroDuration());
    // The admission whose expiry leaves room for `requests`.
    int64_t sum = state.request_sum;
    absl::Duration wait = absl::ZeroDuration();
    for (const auto& [when, count] : state.requests) {
      sum -= count;
      wait = when + kWindow - now;
      if (sum + requests <= rpm) break;
    }
    return RequestsRefusal(rpm, requests, rpm - state.request_sum, wait);
  }
  if (limits.tokens_per_minute > 0 && state.token_sum >= limits.tokens_per_minute) {
    int64_t sum = state.token_sum;
    absl::Duration wait = absl::ZeroDuration();
    for (const auto& [second, tokens] : state.tokens) {
      sum -= tokens;
      wait = second + absl::Seconds(1) + kWindow - now;
      if (sum < limits.tokens_per_minute) break;
    }
    return RefusalFor(LimitKind::kTokensPerMinute, limits.tokens_per_minute, wait);
  }
  const absl::Duration to_day_end = windows_.DayAt(now).end - now;
  const absl::Duration to_month_end = windows_.MonthAt(now).end - now;
  const struct {
    LimitKind kind;
    int64_t limit, used;
    absl::Duration resets_in;
  } budgets[] = {
      {LimitKind::kTokensPerDay, limits.tokens_per_day, state.day_tokens, to_day_end},
      {LimitKind::kTokensPerMonth, limits.tokens_per_month, state.month_tokens, to_month_end},
      {LimitKind::kUsdPerDay, limits.usd_micros_per_day, state.day_micros, to_day_end},
      {LimitKind::kUsdPerMonth, limits.usd_micros_per_month, state.month_micros, to_month_end},
  };
  for (const auto& budget : budgets) {
    if (budget.limit > 0 && budget.used >= budget.limit) return RefusalFor(budget.kind, budget.limit, budget.resets_in);
  }
  return std::nullopt;
}

void CallerLimiter::Release(const std::string& caller) {
  MutexLock lock(mu_);
  auto it = callers_.find(caller);
  if (it == callers_.end()) return;
  State& state = it->second;
  if (state.active > 0) --state.active;
  // Forget idle callers, so the map holds only callers with something to remember.
  if (state.active == 0 && state.requests.empty() && state.tokens.empty() && state.day_tokens == 0 &&
      state.month_tokens == 0 && state.day_micros == 0 && state.month_micros == 0) {
    callers_.erase(it);
  }
}

void CallerLimiter::RecordTokens(const std::string& caller, int64_t tokens, absl::Time now,
                                 int64_t usd_micros) {
  if (tokens <= 0 && usd_micros <= 0) return;
  MutexLock lock(mu_);
  State& state = callers_[caller];
  Expire(state, now);
  state.day_micros += std::max<int64_t>(usd_micros, 0);
  state.month_micros += std::max<int64_t>(usd_micros, 0);
  if (tokens <= 0) return;
  state.day_tokens += tokens;
  state.month_tokens += tokens;
  const absl::Time second = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
  if (!state.tokens.empty() && state.tokens.back().first == second) {
    state.tokens.back().second += tokens;
  } else {
    state.tokens.emplace_back(second, tokens);
  }
  state.token_sum += tokens;
}

CallerUsageCounts CallerLimiter::Usage(const std::string& caller, absl::Time now) {
  MutexLock lock(mu_);
  CallerUsageCounts counts;
  auto it = callers_.find(caller);
  if (it == callers_.end()) return counts;
  State& state = it->second;
  Expire(state, now);
  counts.requests_this_minute = state.request_sum;
  counts.tokens_this_minute = state.token_sum;
  counts.tokens_today = state.day_tokens;
  counts.tokens_this_month = state.month_tokens;
  counts.usd_micros_today = state.day_micros;
  counts.usd_micros_this_month = state.month_micros;
  return counts;
}

int64_t CallerLimiter::active(const std::string& caller) const {
  MutexLock lock(mu_);
  auto it = callers_.find(caller);
  return it == callers_.end() ? 0 : it->second.active;
}

}  // namespace claude
