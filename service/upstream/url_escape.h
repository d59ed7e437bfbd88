// Building upstream URLs from caller-supplied values (model ids, pagination cursors).
#ifndef SERVICE_UPSTREAM_URL_ESCAPE_H_
#define SERVICE_UPSTREAM_URL_ESCAPE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace claude {

// `text` as one URL path segment or query value: everything but RFC 3986's unreserved
// characters percent-encoded, so a value can never add a segment, a query or a fragment.
std::string UrlEscape(absl::string_view text);

}  // namespace claude

#endif  // SERVICE_UPSTREAM_URL_ESCAPE_H_
