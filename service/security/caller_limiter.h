// Per-caller limits: calls in flight, requests per minute and tokens per minute, each over a
// sliding one-minute window, and budgets (tokens and US dollars per UTC day and month) over
// fixed windows (service/quota/quota_windows.h). Callers are keyed by name; unauthenticated
// calls all share the name "" (one bucket), so with authentication off the limits act
// server-wide. This is the in-memory count of one replica; with Redis (service/quota/) the
// windowed limits are counted there, and this one keeps the calls in flight and stands in
// while Redis is unreachable.
#ifndef SERVICE_SECURITY_CALLER_LIMITER_H_
#define SERVICE_SECURITY_CALLER_LIMITER_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "common/sync/mutex.h"
#include "service/quota/quota_windows.h"

namespace claude {

// 0 means unlimited, for each.
struct CallerLimits {
  // RPCs in flight at once (each gRPC call is one HTTP/2 stream: unary calls count too).
  int64_t concurrent_streams = 0;
  // RPCs started in the last minute. A CreateMessageBatch counts as one plus the number of
  // requests in its batch, all or nothing.
  int64_t requests_per_minute = 0;
  // Tokens (input + output, as RecordTokens reports them) of calls that ended in the last
  // minute. A call is admitted while the caller is below the limit; its own tokens are only
  // known when it ends, so one call may take a caller past it. Tokens leave the window by whole
  // seconds, up to a second late.
  int64_t tokens_per_minute = 0;
  // Budgets: tokens (input + output, as for tokens_per_minute) and spend in millionths of a US
  // dollar (from the prices file) of calls that ended in the current UTC day or calendar month.
  // Like tokens_per_minute, a call is admitted while its caller is under each.
  int64_t tokens_per_day = 0;
  int64_t tokens_per_month = 0;
  int64_t usd_micros_per_day = 0;
  int64_t usd_micros_per_month = 0;

  bool has_windowed_limits() const {
    return requests_per_minute > 0 || tokens_per_minute > 0 || tokens_per_day > 0 ||
           tokens_per_month > 0 || usd_micros_per_day > 0 || usd_micros_per_month > 0;
  }
  bool unlimited() const { return concurrent_streams <= 0 && !has_windowed_limits(); }
};

// A caller's counts in the windows in force (for GetCallerUsage).
struct CallerUsageCounts {
  int64_t requests_this_minute = 0;
  int64_t tokens_this_minute = 0;
  int64_t tokens_today = 0;
  int64_t tokens_this_month = 0;
  int64_t usd_micros_today = 0;
  int64_t usd_micros_this_month = 0;
};

// Why a call was refused: the limit's name (for the status message), an ErrorInfo reason, and
// when retrying may succeed; `never_fits` when no wait can admit it (a batch whose requests
// outnumber the limit itself): then there is no retry hint.
struct LimitRefusal {
  std::string message;
  std::string reason;
  absl::Duration retry_after;
  bool never_fits = false;
};

// The windowed limits, in the order they are checked.
enum class LimitKind {
  kRequestsPerMinute,
  kTokensPerMinute,
  kTokensPerDay,
  kTokensPerMonth,
  kUsdPerDay,
  kUsdPerMonth,
};
// The refusal by `kind` at `limit` (USD kinds: micro-dollars), retryable after `retry_after`.
// One wording for the in-memory and the Redis counts.
LimitRefusal RefusalFor(LimitKind kind, int64_t limit, absl::Duration retry_after);
// The refusal of a call that counts `requests` (> 1: a batch) against `limit` requests per
// minute when only `left` remain in the window: retryable after `retry_after`, or never when
// `requests` exceeds `limit`.
LimitRefusal RequestsRefusal(int64_t limit, int64_t requests, int64_t left,
                             absl::Duration retry_after);

class CallerLimiter {
 public:
  explicit CallerLimiter(QuotaWindows windows = {}) : windows_(windows) {}

  // The window every per-minute limit slides over.
  static constexpr absl::Duration kWindow = absl::Minutes(1);
  // The retry hint when the concurrency limit refuses a call: when a call ends is unknown.
  static constexpr absl::Duration kConcurrencyRetryAfter = absl::Seconds(1);

  // Admits a call of `caller` under `limits` at `now`, or says why not. An admitted call holds
  // one of its caller's concurrent slots until Release(caller). `requests` is what the call
  // counts against requests_per_minute (1; a batch: 1 + its requests), all of it or nothing.
  std::optional<LimitRefusal> Acquire(const std::string& caller, const CallerLimits& limits,
                                      absl::Time now, int64_t requests = 1);
  // The windowed limits only (requests, tokens, budgets), counting the `requests` when
  // admitted; no concurrent slot is taken. Redis's stand-in while it is unreachable, and the
  // batches' decision after validation.
  std::optional<LimitRefusal> AdmitWindows(const std::string& caller, const CallerLimits& limits,
                                           absl::Time now, int64_t requests = 1);
  void Release(const std::string& caller);
  // Counts `tokens` and `usd_micros` spent by `caller` at `now` (a call's usage, when it ends).
  void RecordTokens(const std::string& caller, int64_t tokens, absl::Time now, int64_t usd_micros = 0);
  // The caller's counts at `now`.
  CallerUsageCounts Usage(const std::string& caller, absl::Time now);

  // Calls in flight for `caller` (tests, metrics).
  int64_t active(const std::string& caller) const;

 private:
  struct State {
    int64_t active = 0;
    // Admissions within the window, oldest first: when, and how many requests each counted.
    std::deque<std::pair<absl::Time, int64_t>> requests;
    int64_t request_sum = 0;
    // Tokens per whole second within the window, oldest first; a second's tokens leave the
    // window together, at the end of that second (never early).
    std::deque<std::pair<absl::Time, int64_t>> tokens;
    int64_t token_sum = 0;
    // Budget windows: the id of the day and month counted, and their sums.
    int64_t day = -1, month = -1;
    int64_t day_tokens = 0, month_tokens = 0, day_micros = 0, month_micros = 0;
  };
  void Expire(State& state, absl::Time now) const;
  std::optional<LimitRefusal> CheckWindows(State& state, const CallerLimits& limits, absl::Time now,
                                           int64_t requests) const;
  static void CountRequests(State& state, const CallerLimits& limits, absl::Time now,
                            int64_t requests);

  const QuotaWindows windows_;
  mutable Mutex mu_;
  absl::flat_hash_map<std::string, State> callers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace claude

#endif  // SERVICE_SECURITY_CALLER_LIMITER_H_
