#include "service/errors/retry_after.h"

#include <cmath>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace claude {
namespace {

// A finite, non-negative number of `unit`s, or nullopt. Accepts what strtod accepts
// ("1", "1.5", "1e3"), not "nan" or "inf".
std::optional<absl::Duration> ParseAmount(absl::string_view text, absl::Duration unit) {
  double value = 0;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value) || value < 0) return std::nullopt;
  const absl::Duration d = value * unit;
  if (d == absl::InfiniteDuration()) return std::nullopt;
  return d;
}

// The RFC 1123 HTTP date in `text` ("Wed, 21 Oct 2015 07:28:00 GMT"), minus `now`.
std::optional<absl::Duration> ParseHttpDate(absl::string_view text, absl::Time now) {
  absl::Time when;
  std::string error;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", absl::StripAsciiWhitespace(text), &when,
                       &error)) {
    return std::nullopt;
  }
  const absl::Duration d = when - now;
  if (d < absl::ZeroDuration()) return std::nullopt;
  return d;
}

}  // namespace

std::optional<absl::Duration> ServerRetryDelay(const HttpHeaders& headers, absl::Time now,
                                               const char** source) {
  const char* unused_source = nullptr;
  if (source == nullptr) source = &unused_source;
  if (const std::string* ms = FindHeader(headers, "retry-after-ms")) {
    if (auto d = ParseAmount(*ms, absl::Milliseconds(1))) {
      *source = "retry-after-ms";
      return d;
    }
  }
  if (const std::string* after = FindHeader(headers, "retry-after")) {
    std::optional<absl::Duration> d = ParseAmount(*after, absl::Seconds(1));
    if (!d) d = ParseHttpDate(*after, now);
    if (d) {
      *source = "retry-after";
      return d;
    }
  }
  return std::nullopt;
}

}  // namespace claude
