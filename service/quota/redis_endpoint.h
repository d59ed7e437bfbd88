// Where Redis is and how to trust it: the --redis_url and --redis_ca_file of the shared quota
// store, checked before any connection is made.
#ifndef SERVICE_QUOTA_REDIS_ENDPOINT_H_
#define SERVICE_QUOTA_REDIS_ENDPOINT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct ssl_ctx_st;

namespace claude {

// Where Redis is: redis://[[user]:password@]host[:port][/db], or rediss://... for TLS.
struct RedisEndpoint {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string password;  // from the URL; --redis_password_file overrides it
  bool tls = false;      // rediss://
};
absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url);

// The TLS settings of a rediss:// endpoint: the server's certificate must chain to the PEM
// certificates in `ca_file` (empty: the system's CA bundle). Fails when the file cannot be read
// or holds no certificate.
absl::StatusOr<std::shared_ptr<ssl_ctx_st>> MakeRedisTlsContext(const std::string& ca_file);

// OpenSSL's error queue, as one line (and emptied, so it does not leak into the next call).
std::string OpenSslErrors();

}  // namespace claude

#endif  // SERVICE_QUOTA_REDIS_ENDPOINT_H_
