// Which upstream response headers reach the caller as gRPC metadata (request-id, retry-after,
// retry-after-ms, anthropic-ratelimit-*), and the checks that keep hostile ones out.
//
// The upstream's bytes are outside input. gRPC accepts only lower-case [0-9a-z-_.] keys and
// values of printable ASCII (0x20-0x7E) in non-binary metadata; anything else trips an
// assertion inside gRPC that aborts the whole process. And a caller refuses a response whose
// metadata exceeds its limit (8 KiB by default in gRPC), which would turn a successful call
// into RESOURCE_EXHAUSTED. So a header is forwarded only when its name and value are valid and
// its value is at most kMaxForwardedValueBytes, and the forwarded headers together stay within
// kMaxForwardedHeaderBytes (counted as gRPC counts metadata: name + value + 32 per entry),
// leaving room under the caller's 8 KiB for gRPC's own trailers (status, message, details).
// Everything else is dropped, and counted.
#ifndef SERVICE_RPC_FORWARDED_HEADERS_H_
#define SERVICE_RPC_FORWARDED_HEADERS_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "service/upstream/http_types.h"

namespace claude {

inline constexpr size_t kMaxForwardedValueBytes = 256;
inline constexpr size_t kMaxForwardedHeaderBytes = 3072;

// The metadata one response contributes to the RPC: the entries to add (request-id and the
// retry hints first, so a burst of rate-limit headers cannot crowd them out; otherwise in the
// upstream's order), and how many candidate headers were left out (invalid, too long, or past
// the total).
struct ForwardedHeaders {
  HttpHeaders entries;
  int dropped = 0;
};

// Whether `name` is a header the caller gets (request-id, retry-after, retry-after-ms,
// anthropic-ratelimit-*); names are lower-case as HttpHeaders holds them.
bool IsForwardedHeaderName(absl::string_view name);

// Whether gRPC accepts `value` as the value of non-binary metadata: printable ASCII only.
bool IsValidMetadataValue(absl::string_view value);

// Whether gRPC accepts `name` as a non-binary metadata key: 1+ characters of [0-9a-z-_.], not
// ending in "-bin" (which would make gRPC treat the value as binary).
bool IsValidMetadataKey(absl::string_view name);

// Selects what of `headers` (one response's) is forwarded, within the limits above.
ForwardedHeaders SelectForwardedHeaders(const HttpHeaders& headers);

}  // namespace claude

#endif  // SERVICE_RPC_FORWARDED_HEADERS_H_
