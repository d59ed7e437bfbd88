// Per-caller limits: calls in flight, requests per minute and tokens per minute, each over a
// sliding one-minute window. Callers are keyed by name; unauthenticated calls all share the
// name "" (one bucket), so with authentication off the limits act server-wide.
#ifndef SERVICE_SECURITY_CALLER_LIMITER_H_
#define SERVICE_SECURITY_CALLER_LIMITER_H_

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"

namespace claude {

// 0 means unlimited, for each.
struct CallerLimits {
  // RPCs in flight at once (each gRPC call is one HTTP/2 stream: unary calls count too).
  int64_t concurrent_streams = 0;
  // RPCs started in the last minute; an RPC that carries several requests (a message batch)
  // counts as each of them. A call is admitted while the caller is below the limit.
  int64_t requests_per_minute = 0;
  // Tokens (input + output, as RecordTokens reports them) of calls that ended in the last
  // minute. A call is admitted while the caller is below the limit; its own tokens are only
  // known when it ends, so one call may take a caller past it. Tokens leave the window by whole
  // seconds, up to a second late.
  int64_t tokens_per_minute = 0;

  bool unlimited() const {
    return concurrent_streams <= 0 && requests_per_minute <= 0 && tokens_per_minute <= 0;
  }
};

// Why a call was refused: the limit's name (for the status message), an ErrorInfo reason, and
// when retrying may succeed.
struct LimitRefusal {
  std::string message;
  std::string reason;
  absl::Duration retry_after;
};

class CallerLimiter {
 public:
  // The window every per-minute limit slides over.
  static constexpr absl::Duration kWindow = absl::Minutes(1);
  // The retry hint when the concurrency limit refuses a call: when a call ends is unknown.
  static constexpr absl::Duration kConcurrencyRetryAfter = absl::Seconds(1);

  // Admits a call of `caller` under `limits` at `now`, or says why not. An admitted call holds
  // one of its caller's concurrent slots until Release(caller), and counts as `requests`
  // towards requests_per_minute.
  std::optional<LimitRefusal> Acquire(const std::string& caller, const CallerLimits& limits,
                                      absl::Time now, int64_t requests = 1);
  void Release(const std::string& caller);
  // Counts `tokens` spent by `caller` at `now` (a call's usage, when it ends).
  void RecordTokens(const std::string& caller, int64_t tokens, absl::Time now);

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
  };
  static void Expire(State& state, absl::Time now);

  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, State> callers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace claude

#endif  // SERVICE_SECURITY_CALLER_LIMITER_H_
