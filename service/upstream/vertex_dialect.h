// Claude on Google Cloud Vertex AI as a Dialect:
//
//   CreateMessage  POST {base}/v1/projects/{project}/locations/{region}/publishers/anthropic/
//                       models/{model}:rawPredict         (unary JSON)
//                       ...:streamRawPredict              (SSE, the Messages API's events)
//   CountTokens    POST .../publishers/anthropic/models/count-tokens:rawPredict
//
// The body is the Messages API's without "model" (it is in the URL), with
// "anthropic_version": "vertex-2023-10-16"; count-tokens keeps the model in the body.
// Credentials are a Google OAuth access token sent as `authorization: Bearer`, read from a file
// that a token-refreshing sidecar or workload identity keeps current (re-read when it changes).
// Replies are the Messages API's, read as MessagesDialect reads them; errors come in Google's
// shape {"error":{"code","message","status"}} or in the Messages API's.
//
// Vertex has no model listing for publisher models: ListModels and GetModel are UNIMPLEMENTED
// here, and the server answers them from its routes.
#ifndef SERVICE_UPSTREAM_VERTEX_DIALECT_H_
#define SERVICE_UPSTREAM_VERTEX_DIALECT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "service/upstream/cloud_platform_dialect.h"
#include "service/upstream/transport.h"

namespace claude {

inline constexpr char kVertexAnthropicVersion[] = "vertex-2023-10-16";

// Vertex AI's public endpoint in `region`: "https://{region}-aiplatform.googleapis.com", or
// "https://aiplatform.googleapis.com" for "global".
std::string VertexEndpoint(absl::string_view region);

struct VertexDialectOptions {
  std::string base_url;  // "https://us-east5-aiplatform.googleapis.com", or a fake's
  std::string project;
  std::string region;    // "us-east5", "global"
  // The caller's model name -> Vertex's model id ("claude-sonnet-4-5@20250929"); a name not
  // listed is sent as is.
  std::vector<std::pair<std::string, std::string>> models;
  std::shared_ptr<RequestSigner> signer;  // the token's; may be null (no credentials)
  size_t max_event_bytes = 16 << 20;
};

// Google's error shape {"error":{"code","message","status","details"}} (also wrapped in a
// one-element array), else the Messages API's shapes. Google's status becomes the API's error
// type where one corresponds (RESOURCE_EXHAUSTED: rate_limit_error, ...), and stays in `code`.
UpstreamError ReadVertexError(int http_status, absl::string_view body);

class VertexDialect final : public CloudPlatformDialect {
 public:
  explicit VertexDialect(VertexDialectOptions options);

  absl::string_view name() const override { return "vertex"; }

  absl::StatusOr<HttpRequest> CreateMessage(const claude::v1::CreateMessageRequest& request,
                                            bool stream, const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> CountTokens(const claude::v1::CountTokensRequest& request,
                                          const HttpHeaders& forwarded) const override;

  std::unique_ptr<EventDecoder> NewEventDecoder() const override;
  UpstreamError ReadError(int http_status, absl::string_view body,
                          const HttpHeaders& headers) const override;

 private:
  // POST {publisher models URL}/{model}:{method} with `body`.
  HttpRequest PostToModel(absl::string_view model, absl::string_view method, std::string body,
                          const HttpHeaders& forwarded) const;

  const std::string models_url_;  // .../publishers/anthropic/models
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_VERTEX_DIALECT_H_
