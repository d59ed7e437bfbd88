#include "service/upstream/retry_policy.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace claude {
namespace {

double DefaultRandom() {
  thread_local absl::BitGen gen;
  return absl::Uniform<double>(gen, 0.0, 1.0);
}

std::string StatusText(int http_status) {
  return http_status == 0 ? std::string("connection error") : absl::StrCat("HTTP ", http_status);
}

bool RetryableStatus(int http_status) {
  return http_status == 0 || http_status == 408 || http_status == 409 || http_status == 429 ||
         http_status >= 500;
}

}  // namespace

RetryPolicy::RetryPolicy(int max_retries, std::function<double()> random)
    : max_retries_(std::max(max_retries, 0)),
      random_(random ? std::move(random) : std::function<double()>(DefaultRandom)) {}

RetryDecision RetryPolicy::Decide(int retries_so_far, int http_status, const HttpHeaders& headers,
                                  absl::Duration remaining) const {
  return Decide(retries_so_far, http_status, headers, remaining, absl::Now());
}

RetryDecision RetryPolicy::Decide(int retries_so_far, int http_status, const HttpHeaders& headers,
                                  absl::Duration remaining, absl::Time now) const {
  RetryDecision decision;
  retries_so_far = std::max(retries_so_far, 0);
  if (retries_so_far >= max_retries_) {
    decision.reason = absl::StrCat(StatusText(http_status), "; no retries left (", retries_so_far,
                                   " of ", max_retries_, " made)");
    return decision;
  }

  std::string why;
  const std::string* should_retry = FindHeader(headers, "x-should-retry");
  const absl::string_view forced =
      should_retry == nullptr ? absl::string_view() : absl::StripAsciiWhitespace(*should_retry);
  if (absl::EqualsIgnoreCase(forced, "true")) {
    why = absl::StrCat(StatusText(http_status), "; x-should-retry: true");
  } else if (absl::EqualsIgnoreCase(forced, "false")) {
    decision.reason = absl::StrCat(StatusText(http_status), "; x-should-retry: false");
    return decision;
  } else if (RetryableStatus(http_status)) {
    why = absl::StrCat(StatusText(http_status), " is retryable");
  } else {
    decision.reason = absl::StrCat(StatusText(http_status), " is not retryable");
    return decision;
  }

  absl::Duration delay;
  const char* source = nullptr;
  std::optional<absl::Duration> server = ServerRetryDelay(headers, now, &source);
  if (server && *server <= kMaxServerDelay) {
    delay = *server;
    absl::StrAppend(&why, "; ", source, " asks for ", absl::FormatDuration(delay));
  } else {
    // 0.5 s * 2^n, capped at 8 s; the exponent is bounded so the product cannot overflow.
    const double base_seconds =
        std::min(std::ldexp(absl::ToDoubleSeconds(kInitialBackoff), std::min(retries_so_far, 30)),
                 absl::ToDoubleSeconds(kMaxBackoff));
    const double jitter = std::clamp(random_(), 0.0, 1.0);
    delay = absl::Seconds(base_seconds * (1.0 - 0.25 * jitter));
    absl::StrAppend(&why, "; backoff ", absl::FormatDuration(delay));
    if (server) {
      absl::StrAppend(&why, " (", source, " of ", absl::FormatDuration(*server),
                      " exceeds the 60s cap)");
    }
  }

  if (delay >= remaining) {
    decision.reason = absl::StrCat(why, "; not retried: the deadline is ",
                                   absl::FormatDuration(remaining), " away");
    return decision;
  }
  decision.retry = true;
  decision.delay = delay;
  decision.reason = std::move(why);
  return decision;
}

}  // namespace claude
