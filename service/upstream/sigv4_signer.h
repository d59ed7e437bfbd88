// AWS Signature Version 4 (the request signing Amazon Bedrock requires), computed here rather
// than by libcurl's CURLOPT_AWS_SIGV4: the signature is then a pure function that unit tests
// check against AWS's published test-suite values without a socket, it signs exactly the
// headers the dialect chose (libcurl 7.88 decides that itself and cannot take a precomputed
// body digest), and every transport, the mocks included, sends the same bytes.
//
// SignSigV4 follows the documented algorithm: the canonical request (method, the path
// URI-encoded once more, as every service but S3 expects, the sorted query, the sorted signed
// headers with trimmed values, the body's SHA-256), the string to sign over the credential scope
// `date/region/service/aws4_request`, and the HMAC-SHA256 chain from "AWS4" + secret.
#ifndef SERVICE_UPSTREAM_SIGV4_SIGNER_H_
#define SERVICE_UPSTREAM_SIGV4_SIGNER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/upstream/http_types.h"

namespace claude {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only; empty otherwise
};

struct SigV4Request {
  absl::string_view method;  // "POST"
  absl::string_view url;     // absolute: "https://bedrock-runtime.us-east-1.amazonaws.com/model/..."
  // Headers to sign besides `host` (which comes from the URL), e.g. content-type. When one is
  // `x-amz-content-sha256`, its value is taken as the body's digest (computed once per call, off
  // the transport's thread) instead of hashing `body` again.
  const HttpHeaders* headers = nullptr;
  absl::string_view body;
};

struct SigV4Options {
  std::string region;   // "us-east-1"
  std::string service;  // "bedrock"
  // Also send (and sign) x-amz-content-sha256. AWS's test suite signs without it; S3 requires
  // it; other services accept it.
  bool add_content_sha256 = true;
};

struct SigV4Signature {
  // The headers to add to the request: x-amz-date, x-amz-security-token (with a session token),
  // x-amz-content-sha256 (when asked), authorization.
  HttpHeaders headers;
  // The intermediate texts, for tests and debugging; they hold no secret.
  std::string canonical_request;
  std::string string_to_sign;
};

// Signs `request` at `now`. INVALID_ARGUMENT for a URL that is not absolute http(s), a header
// value with control characters, or credentials without a key id or secret.
absl::StatusOr<SigV4Signature> SignSigV4(const SigV4Request& request,
                                         const AwsCredentials& credentials,
                                         const SigV4Options& options, absl::Time now);

// The lower-case hex SHA-256 of `bytes`: the value of x-amz-content-sha256.
std::string HexSha256(absl::string_view bytes);

}  // namespace claude

#endif  // SERVICE_UPSTREAM_SIGV4_SIGNER_H_
