// The HTTP exchange between the server and the upstream API, as the rest of the server sees it.
#ifndef SERVICE_UPSTREAM_HTTP_TYPES_H_
#define SERVICE_UPSTREAM_HTTP_TYPES_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace claude {

class RequestSigner;  // service/upstream/transport.h

// Header fields in arrival order; names are lower-case.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` (lower-case), or nullptr.
inline const std::string* FindHeader(const HttpHeaders& headers, absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

// One request to the upstream.
struct HttpRequest {
  std::string method = "POST";
  // Absolute: the dialect joins its upstream's base URL and the API's path.
  std::string url;
  // Sent as given; the transport adds only content-type (when there is a body and no
  // content-type here) and the signer's headers.
  HttpHeaders headers;
  // Shared, not copied, between the attempts of a call: request bodies can be megabytes.
  std::shared_ptr<const std::string> body;
  // Time the whole exchange may take; absl::InfiniteDuration() for none.
  absl::Duration timeout = absl::InfiniteDuration();
  // TCP connect and TLS handshake; zero: the transport's own setting.
  absl::Duration connect_timeout = absl::ZeroDuration();
  // At most `max_connections` requests of `connection_pool` (an upstream's name) are in flight
  // at once, so at most that many connections are open to it; more wait, first come first
  // served, their timeout running. 0: no limit of its own (the transport's per-host one).
  std::string connection_pool;
  long max_connections = 0;
  // Adds the credentials on the transport's thread just before sending; null: none.
  std::shared_ptr<RequestSigner> signer;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_HTTP_TYPES_H_
