// The upstreams file's model map for dialects that have none of their own (messages,
// chat_completions): a Dialect that replaces the caller's model name with the upstream's id
// before the wrapped dialect builds the request, and otherwise delegates everything. Vertex
// and Bedrock take the map themselves, since their URL names the model.
#ifndef SERVICE_UPSTREAM_MODEL_MAPPING_DIALECT_H_
#define SERVICE_UPSTREAM_MODEL_MAPPING_DIALECT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "service/upstream/dialect.h"

namespace claude {

class ModelMappingDialect final : public Dialect {
 public:
  // `models`: the caller's model name -> the upstream's id; names not listed are sent as is.
  ModelMappingDialect(std::shared_ptr<const Dialect> wrapped,
                      const std::vector<std::pair<std::string, std::string>>& models);

  absl::string_view name() const override { return wrapped_->name(); }

  // The request with its model replaced (a copy, made only when the map names the model).
  absl::StatusOr<HttpRequest> CreateMessage(const claude::v1::CreateMessageRequest& request,
                                            bool stream,
                                            const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> CountTokens(const claude::v1::CountTokensRequest& request,
                                          const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> GetModel(const claude::v1::GetModelRequest& request,
                                       const HttpHeaders& forwarded) const override;

  // Delegated as they are.
  absl::StatusOr<HttpRequest> ListModels(const claude::v1::ListModelsRequest& request,
                                         const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> CreateMessageBatch(
      const claude::v1::CreateMessageBatchRequest& request,
      const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> GetMessageBatch(const claude::v1::GetMessageBatchRequest& request,
                                              const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> ListMessageBatches(
      const claude::v1::ListMessageBatchesRequest& request,
      const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> CancelMessageBatch(
      const claude::v1::CancelMessageBatchRequest& request,
      const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> DeleteMessageBatch(
      const claude::v1::DeleteMessageBatchRequest& request,
      const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> MessageBatchResults(absl::string_view results_url,
                                                  const HttpHeaders& forwarded) const override;
  std::unique_ptr<EventDecoder> NewEventDecoder() const override;
  absl::Status DecodeReply(absl::string_view body,
                           google::protobuf::Message* response) const override;
  UpstreamError ReadError(int http_status, absl::string_view body,
                          const HttpHeaders& headers) const override;

 private:
  // The upstream's id for `model`, or null when the map does not name it.
  const std::string* Mapped(const std::string& model) const;

  const std::shared_ptr<const Dialect> wrapped_;
  const absl::flat_hash_map<std::string, std::string> models_;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_MODEL_MAPPING_DIALECT_H_
