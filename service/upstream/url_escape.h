// Building upstream URLs from caller-supplied values (model ids, pagination cursors), and the
// percent-encoding SigV4's canonical request needs (service/upstream/sigv4_signer.cc).
#ifndef SERVICE_UPSTREAM_URL_ESCAPE_H_
#define SERVICE_UPSTREAM_URL_ESCAPE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace claude {

// `text` as one URL path segment or query value: everything but RFC 3986's unreserved
// characters (A-Z a-z 0-9 - _ . ~) and those in `keep` percent-encoded as %XX (upper-case hex),
// so a value can never add a segment, a query or a fragment unless `keep` allows it.
std::string UrlEscape(absl::string_view text, absl::string_view keep = "");

// `text` with each valid %XX decoded; anything else (a lone '%', '+') is kept as is.
std::string UrlUnescape(absl::string_view text);

}  // namespace claude

#endif  // SERVICE_UPSTREAM_URL_ESCAPE_H_
