#include "service/upstream/forwarding_dialect.h"

#include <utility>

namespace claude {

ForwardingDialect::ForwardingDialect(std::shared_ptr<const Dialect> wrapped)
    : wrapped_(std::move(wrapped)) {}

absl::string_view ForwardingDialect::name() const { return wrapped_->name(); }

absl::StatusOr<HttpRequest> ForwardingDialect::CreateMessage(
    const claude::v1::CreateMessageRequest& request, bool stream,
    const HttpHeaders& forwarded) const {
  return wrapped_->CreateMessage(request, stream, forwarded);
}

absl::StatusOr<HttpRequest> ForwardingDialect::CountTokens(
    const claude::v1::CountTokensRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->CountTokens(request, forwarded);
}

absl::StatusOr<HttpRequest> ForwardingDialect::ListModels(
    const claude::v1::ListModelsRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->ListModels(request, forwarded);
}

absl::StatusOr<HttpRequest> ForwardingDialect::GetModel(const claude::v1::GetModelRequest& request,
                                                        const HttpHeaders& forwarded) const {
  return wrapped_->GetModel(request, forwarded);
}

absl::StatusOr<HttpRequest> ForwardingDialect::CreateMessageBatch(
    const claude::v1::CreateMessageBatchRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->CreateMessageBatch(request, forwarded);
}

absl::StatusOr<HttpRequest> ForwardingDialect::GetMessageBatch(
    const claude::v1::GetMessageBatchRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->GetMessageBatch(request, forwarded);
}

absl::StatusOr<HttpRequest> ForwardingDialect::ListMessageBatches(
    const claude::v1::ListMessageBatchesRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->ListMessageBatches(request, forwarded);
}

absl::StatusOr<HttpRequest> ForwardingDialect::CancelMessageBatch(
    const claude::v1::CancelMessageBatchRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->CancelMessageBatch(request, forwarded);
}

absl::StatusOr<HttpRequest> ForwardingDialect::DeleteMessageBatch(
    const claude::v1::DeleteMessageBatchRequest& request, const HttpHeaders& forwarded) const {
  return wrapped_->DeleteMessageBatch(request, forwarded);
}

absl::StatusOr<HttpRequest> ForwardingDialect::MessageBatchResults(
    absl::string_view results_url, const HttpHeaders& forwarded) const {
  return wrapped_->MessageBatchResults(results_url, forwarded);
}

std::unique_ptr<EventDecoder> ForwardingDialect::NewEventDecoder() const {
  return wrapped_->NewEventDecoder();
}

absl::Status ForwardingDialect::DecodeReply(absl::string_view body,
                                            google::protobuf::Message* response) const {
  return wrapped_->DecodeReply(body, response);
}

UpstreamError ForwardingDialect::ReadError(int http_status, absl::string_view body,
                                           const HttpHeaders& headers) const {
  return wrapped_->ReadError(http_status, body, headers);
}

}  // namespace claude
