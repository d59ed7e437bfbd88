// Whether, and after how long, a failed upstream attempt is retried: the rules of the official
// Anthropic SDKs, so claude-grpc behaves like a client that talks to the API directly.
//
//  1. Never more than `max_retries` retries for one call.
//  2. `x-should-retry: true` forces a retry and `x-should-retry: false` forbids one; either
//     overrides the status code.
//  3. Otherwise retried: connection errors (no response), 408, 409, 429 and every status >= 500
//     (529 "overloaded" included). Every other status (400, 401, 403, 404, 413, ...) is final.
//  4. The delay is the server's `retry-after-ms` (milliseconds, fractional allowed), else its
//     `retry-after` (seconds, fractional allowed, or an HTTP date), when the value is valid and
//     within [0, 60] seconds; else exponential backoff min(0.5 s * 2^retries_so_far, 8 s)
//     shortened by a random jitter of up to 25%.
//  5. A retry that could only start at or after the caller's deadline is not made.
#ifndef SERVICE_UPSTREAM_RETRY_POLICY_H_
#define SERVICE_UPSTREAM_RETRY_POLICY_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "service/errors/retry_after.h"
#include "service/upstream/http_types.h"

namespace claude {

struct RetryDecision {
  bool retry = false;
  // How long to wait before the next attempt; zero when !retry.
  absl::Duration delay;
  // Why, for logs: "HTTP 529 is retryable; retry-after-ms asks for 1.5s".
  std::string reason;
};

class RetryPolicy {
 public:
  // The most a server-given delay may be and still be obeyed; longer ones fall back to backoff.
  static constexpr absl::Duration kMaxServerDelay = absl::Seconds(60);
  static constexpr absl::Duration kInitialBackoff = absl::Milliseconds(500);
  static constexpr absl::Duration kMaxBackoff = absl::Seconds(8);

  // `random` returns the jitter fraction in [0, 1) (values outside are clamped); the default
  // draws from a thread-local absl::BitGen, so Decide() is safe to call from any thread.
  explicit RetryPolicy(int max_retries = 2, std::function<double()> random = {});

  int max_retries() const { return max_retries_; }

  // `retries_so_far`: retries already made for this call (0 after the first attempt failed).
  // `http_status`: the failed attempt's status, 0 for a connection error (no response).
  // `remaining`: time left before the caller's deadline, absl::InfiniteDuration() if none.
  RetryDecision Decide(int retries_so_far, int http_status, const HttpHeaders& headers,
                       absl::Duration remaining) const;

  // As above with an explicit clock, for HTTP-date `retry-after` values.
  RetryDecision Decide(int retries_so_far, int http_status, const HttpHeaders& headers,
                       absl::Duration remaining, absl::Time now) const;

 private:
  int max_retries_;
  std::function<double()> random_;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_RETRY_POLICY_H_
