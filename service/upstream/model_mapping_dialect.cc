#include "service/upstream/model_mapping_dialect.h"

namespace claude {

ModelMappingDialect::ModelMappingDialect(
    std::shared_ptr<const Dialect> wrapped,
    const std::vector<std::pair<std::string, std::string>>& models)
    : wrapped_(std::move(wrapped)), models_(models.begin(), models.end()) {}

const std::string* ModelMappingDialect::Mapped(const std::string& model) const {
  const auto it = models_.find(model);
  return it == models_.end() ? nullptr : &it->second;
}

absl::StatusOr<HttpRequest> ModelMappingDialect::CreateMessage(
    const claude::v1::CreateMessageRequest& request, bool stream,
    const HttpHeaders& forwarded) const {
  const std::string* model = Mapped(request.model());
  if (model == nullptr) return wrapped_->CreateMessage(request, stream, forwarded);
  claude::v1::CreateMessageRequest mapped = request;
  mapped.set_model(*model);
  return wrapped_->CreateMessage(mapped, stream, forwarded);
}

absl::StatusOr<HttpRequest> ModelMappingDialect::CountTokens(
    const claude::v1::CountTokensRequest& request, const HttpHeaders& forwarded) const {
  const std::string* model = Mapped(request.model());
  if (model == nullptr) return wrapped_->CountTokens(request, forwarded);
  claude::v1::CountTokensRequest mapped = request;
  mapped.set_model(*model);
  return wrapped_->CountTokens(mapped, forwarded);
}

absl::StatusOr<HttpRequest> ModelMappingDialect::GetModel(
    const claude::v1::GetModelRequest& request, const HttpHeaders& forwarded) const {
  const std::string* model = Mapped(request.model_id());
  if (model == nullptr) return wrapped_->GetModel(request, forwarded);
  claude::v1::GetModelRequest mapped = request;
  mapped.set_model_id(*model);
  return wrapped_->GetModel(mapped, forwarded);
}

absl::StatusOr<HttpRequest> ModelMappingDialect::ListModels(
    const claude::v1::ListModelsRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->ListModels(request, forwarded);
}

absl::StatusOr<HttpRequest> ModelMappingDialect::CreateMessageBatch(
    const claude::v1::CreateMessageBatchRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->CreateMessageBatch(request, forwarded);
}

absl::StatusOr<HttpRequest> ModelMappingDialect::GetMessageBatch(
    const claude::v1::GetMessageBatchRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->GetMessageBatch(request, forwarded);
}

absl::StatusOr<HttpRequest> ModelMappingDialect::ListMessageBatches(
    const claude::v1::ListMessageBatchesRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->ListMessageBatches(request, forwarded);
}

absl::StatusOr<HttpRequest> ModelMappingDialect::CancelMessageBatch(
    const claude::v1::CancelMessageBatchRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->CancelMessageBatch(request, forwarded);
}

absl::StatusOr<HttpRequest> ModelMappingDialect::DeleteMessageBatch(
    const claude::v1::DeleteMessageBatchRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->DeleteMessageBatch(request, forwarded);
}

absl::StatusOr<HttpRequest> ModelMappingDialect::MessageBatchResults(
    absl::string_view results_url, const HttpHeaders& forwarded) const {
  return wrapped_->MessageBatchResults(results_url, forwarded);
}

std::unique_ptr<EventDecoder> ModelMappingDialect::NewEventDecoder() const {
  return wrapped_->NewEventDecoder();
}

absl::Status ModelMappingDialect::DecodeReply(absl::string_view body,
                                              google::protobuf::Message* response) const {
  return wrapped_->DecodeReply(body, response);
}

UpstreamError ModelMappingDialect::ReadError(int http_status, absl::string_view body,
                                             const HttpHeaders& headers) const {
  return wrapped_->ReadError(http_status, body, headers);
}

}  // namespace claude
