// RFC 3986 percent-encoding for the pieces of upstream URLs (model ids in paths, query values)
// and for SigV4's canonical request, which needs exactly this form.
#ifndef SERVICE_UPSTREAM_PERCENT_ENCODING_H_
#define SERVICE_UPSTREAM_PERCENT_ENCODING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace claude {

// `text` with every byte but the unreserved characters (A-Z a-z 0-9 - _ . ~) and those in
// `keep` written as %XX (upper-case hex).
std::string PercentEncode(absl::string_view text, absl::string_view keep = "");

// `text` with each valid %XX decoded; anything else (a lone '%', '+') is kept as is.
std::string PercentDecode(absl::string_view text);

}  // namespace claude

#endif  // SERVICE_UPSTREAM_PERCENT_ENCODING_H_
