#include "service/quota/redis_endpoint.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace claude {

std::string OpenSslErrors() {
  std::string text;
  while (const unsigned long e = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(e, buffer, sizeof(buffer));
    absl::StrAppend(&text, text.empty() ? "" : "; ", buffer);
  }
  return text.empty() ? "no details" : text;
}

absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url) {
  RedisEndpoint endpoint;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "rediss://")) {
    endpoint.tls = true;
  } else if (!absl::ConsumePrefix(&rest, "redis://")) {
    return absl::InvalidArgumentError("must start with redis:// or rediss:// (TLS)");
  }
  if (const size_t at = rest.rfind('@'); at != absl::string_view::npos) {
    absl::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    // user:password or :password; a user name alone (no colon) is a password in old URLs.
    const size_t colon = userinfo.find(':');
    endpoint.password =
        std::string(colon == absl::string_view::npos ? userinfo : userinfo.substr(colon + 1));
  }
  absl::string_view hostport = rest;
  if (const size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    hostport = rest.substr(0, slash);
    absl::string_view db = rest.substr(slash + 1);
    if (!db.empty() &&
        (!absl::SimpleAtoi(db, &endpoint.db) || endpoint.db < 0 || endpoint.db > 1 << 16)) {
      return absl::InvalidArgumentError("the database (after the host) must be a number");
    }
  }
  if (const size_t colon = hostport.rfind(':'); colon != absl::string_view::npos) {
    if (!absl::SimpleAtoi(hostport.substr(colon + 1), &endpoint.port) || endpoint.port < 1 ||
        endpoint.port > 65535) {
      return absl::InvalidArgumentError("the port must be 1-65535");
    }
    hostport = hostport.substr(0, colon);
  }
  if (hostport.empty() || hostport.size() > 253) return absl::InvalidArgumentError("needs a host");
  for (char c : hostport) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) {
      return absl::InvalidArgumentError("the host has characters a host name cannot have");
    }
  }
  endpoint.host = std::string(hostport);
  return endpoint;
}

absl::StatusOr<std::shared_ptr<ssl_ctx_st>> MakeRedisTlsContext(const std::string& ca_file) {
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
  if (context == nullptr)
    return absl::InternalError(absl::StrCat("cannot create a TLS context: ", OpenSslErrors()));
  SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
  // Writes resume with the same bytes at a new address (our output buffer may move) and may be
  // partial, like send().
  SSL_CTX_set_mode(context.get(),
                   SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  const int loaded = ca_file.empty()
                         ? SSL_CTX_set_default_verify_paths(context.get())
                         : SSL_CTX_load_verify_locations(context.get(), ca_file.c_str(), nullptr);
  if (loaded != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load the CA certificates",
                     ca_file.empty() ? "" : absl::StrCat(" of ", ca_file), ": ", OpenSslErrors()));
  }
  return context;
}

}  // namespace claude
