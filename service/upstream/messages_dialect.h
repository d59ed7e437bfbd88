// The Anthropic Messages API as a Dialect: POST /v1/messages (JSON, or SSE when streaming),
// POST /v1/messages/count_tokens, GET /v1/models[/{id}], with the anthropic-version header and
// the key as x-api-key (or Authorization: Bearer, for API-compatible gateways). Replies are
// read with the codec (common/codec/json_mapping.h), so they are passed through unchanged.
#ifndef SERVICE_UPSTREAM_MESSAGES_DIALECT_H_
#define SERVICE_UPSTREAM_MESSAGES_DIALECT_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/config/api_key_source.h"
#include "service/upstream/dialect.h"
#include "service/upstream/transport.h"

namespace claude {

struct MessagesDialectOptions {
  // The API, or a compatible gateway; trailing slashes are ignored.
  std::string base_url = "https://api.anthropic.com";
  // "x-api-key" (the API) or "bearer" (Authorization: Bearer, API-compatible gateways).
  std::string auth_scheme = "x-api-key";
  std::string anthropic_version = "2023-06-01";
  std::shared_ptr<ApiKeySource> api_key;  // may be null: requests carry no credentials
  // Largest single SSE event of a stream.
  size_t max_event_bytes = 16 << 20;
};

class MessagesDialect final : public Dialect {
 public:
  // INVALID_ARGUMENT for an unknown auth_scheme.
  static absl::StatusOr<std::unique_ptr<MessagesDialect>> Create(MessagesDialectOptions options);

  absl::string_view name() const override { return "messages"; }
  const std::string& base_url() const { return base_url_; }

  absl::StatusOr<HttpRequest> CreateMessage(const claude::v1::CreateMessageRequest& request,
                                            bool stream, const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> CountTokens(const claude::v1::CountTokensRequest& request,
                                          const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> ListModels(const claude::v1::ListModelsRequest& request,
                                         const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> GetModel(const claude::v1::GetModelRequest& request,
                                       const HttpHeaders& forwarded) const override;

  absl::StatusOr<HttpRequest> CreateMessageBatch(const claude::v1::CreateMessageBatchRequest& request,
                                                 const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> GetMessageBatch(const claude::v1::GetMessageBatchRequest& request,
                                              const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> ListMessageBatches(const claude::v1::ListMessageBatchesRequest& request,
                                                 const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> CancelMessageBatch(const claude::v1::CancelMessageBatchRequest& request,
                                                 const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> DeleteMessageBatch(const claude::v1::DeleteMessageBatchRequest& request,
                                                 const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> MessageBatchResults(absl::string_view results_url,
                                                  const HttpHeaders& forwarded) const override;

  // SSE events whose data is one MessageStreamEvent in the API's JSON; the stream is whole
  // once message_stop came and no event is left half-received.
  std::unique_ptr<EventDecoder> NewEventDecoder() const override;
  absl::Status DecodeReply(absl::string_view body, google::protobuf::Message* response) const override;
  // ReadMessagesApiError (service/upstream/messages_api_error.h).
  UpstreamError ReadError(int http_status, absl::string_view body,
                          const HttpHeaders& headers) const override;

 private:
  MessagesDialect(std::string base_url, std::string anthropic_version,
                  std::shared_ptr<RequestSigner> signer, size_t max_event_bytes);
  // A request to `path` (with its query) with the version header, `forwarded`, and the signer.
  HttpRequest Request(const char* method, absl::string_view path, const HttpHeaders& forwarded) const;
  // A POST of `body` (JSON, or empty) to `path`, as Request builds it.
  HttpRequest Post(absl::string_view path, std::string body, const HttpHeaders& forwarded) const;

  const std::string base_url_;
  const std::string anthropic_version_;
  const std::shared_ptr<RequestSigner> signer_;  // null without a key
  const size_t max_event_bytes_;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_MESSAGES_DIALECT_H_
