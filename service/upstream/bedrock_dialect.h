// Claude on Amazon Bedrock as a Dialect:
//
//   CreateMessage  POST {base}/model/{modelId}/invoke                      (unary JSON)
//                  POST {base}/model/{modelId}/invoke-with-response-stream (AWS event-stream)
//
// The body is the Messages API's without "model" and "stream", with
// "anthropic_version": "bedrock-2023-05-31"; the caller's anthropic-beta values go into the
// body's "anthropic_beta" list (Bedrock reads no beta header). Requests are signed with AWS
// SigV4 (service "bedrock"); the body's SHA-256 is computed here, once per call on the gRPC
// thread, so the transport's thread only signs. Stream frames and errors are read as
// bedrock_replies.h describes.
//
// CountTokens, ListModels and GetModel are UNIMPLEMENTED: Bedrock's runtime endpoint offers no
// Messages-compatible count-tokens call, and the server answers the model RPCs from its routes.
#ifndef SERVICE_UPSTREAM_BEDROCK_DIALECT_H_
#define SERVICE_UPSTREAM_BEDROCK_DIALECT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "service/upstream/aws_credentials.h"
#include "service/upstream/cloud_platform_dialect.h"
#include "service/upstream/sigv4_signer.h"
#include "service/upstream/transport.h"

namespace claude {

inline constexpr char kBedrockAnthropicVersion[] = "bedrock-2023-05-31";

// Bedrock's public runtime endpoint in `region`: "https://bedrock-runtime.{region}.amazonaws.com".
std::string BedrockEndpoint(absl::string_view region);

// Signs requests with SigV4 for `options` (region, service) with the source's credentials.
class SigV4RequestSigner final : public RequestSigner {
 public:
  SigV4RequestSigner(std::shared_ptr<AwsCredentialsSource> credentials, SigV4Options options);
  // No credentials readable: UNAVAILABLE. Never logs or returns the secret.
  absl::StatusOr<HttpHeaders> Sign(const HttpRequest& request, absl::Time now) override;

 private:
  const std::shared_ptr<AwsCredentialsSource> credentials_;
  const SigV4Options options_;
};

struct BedrockDialectOptions {
  std::string base_url;  // "https://bedrock-runtime.us-east-1.amazonaws.com", or a fake's
  // The caller's model name -> Bedrock's model id or inference profile
  // ("anthropic.claude-sonnet-4-5-20250929-v1:0", "us.anthropic..."); a name not listed is
  // sent as is.
  std::vector<std::pair<std::string, std::string>> models;
  std::shared_ptr<RequestSigner> signer;  // SigV4RequestSigner; may be null (no credentials)
  size_t max_frame_bytes = 16 << 20;
};

class BedrockDialect final : public CloudPlatformDialect {
 public:
  explicit BedrockDialect(BedrockDialectOptions options);

  absl::string_view name() const override { return "bedrock"; }

  absl::StatusOr<HttpRequest> CreateMessage(const claude::v1::CreateMessageRequest& request,
                                            bool stream, const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> CountTokens(const claude::v1::CountTokensRequest& request,
                                          const HttpHeaders& forwarded) const override;

  std::unique_ptr<EventDecoder> NewEventDecoder() const override;
  UpstreamError ReadError(int http_status, absl::string_view body,
                          const HttpHeaders& headers) const override;

 private:
  const std::string base_url_;
  const size_t max_frame_bytes_;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_BEDROCK_DIALECT_H_
