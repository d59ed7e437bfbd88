#include "service/upstream/url_escape.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace claude {

std::string UrlEscape(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

}  // namespace claude
