// The wait an upstream asks for before the next attempt, read from its response headers. The
// error table puts it in google.rpc.RetryInfo; the retry policy (service/upstream/retry_policy.h)
// obeys it. Both read it here, so the two always agree on what the upstream asked for.
#ifndef SERVICE_ERRORS_RETRY_AFTER_H_
#define SERVICE_ERRORS_RETRY_AFTER_H_

#include <optional>

#include "absl/time/time.h"
#include "service/upstream/http_types.h"

namespace claude {

// The wait the upstream asks for in `headers`: `retry-after-ms` if present and valid, else
// `retry-after` (seconds, or an RFC 1123 HTTP date taken relative to `now`). Valid means finite
// and not negative (a date in the past is not valid). Not capped; nullopt when neither applies.
// `source`, when given, is set to the name of the header that was used.
std::optional<absl::Duration> ServerRetryDelay(const HttpHeaders& headers, absl::Time now,
                                               const char** source = nullptr);

}  // namespace claude

#endif  // SERVICE_ERRORS_RETRY_AFTER_H_
