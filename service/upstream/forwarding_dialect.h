// A Dialect that hands every method to another one: the base of decorators that change one
// part of what a dialect does (ModelMappingDialect renames the model) and keep the rest, so
// each decorator overrides only what it changes, and a method added to Dialect is forwarded
// here once.
#ifndef SERVICE_UPSTREAM_FORWARDING_DIALECT_H_
#define SERVICE_UPSTREAM_FORWARDING_DIALECT_H_

#include <memory>

#include "service/upstream/dialect.h"

namespace claude {

class ForwardingDialect : public Dialect {
 public:
  absl::string_view name() const override;

  absl::StatusOr<HttpRequest> CreateMessage(const claude::v1::CreateMessageRequest& request,
                                            bool stream,
                                            const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> CountTokens(const claude::v1::CountTokensRequest& request,
                                          const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> ListModels(const claude::v1::ListModelsRequest& request,
                                         const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> GetModel(const claude::v1::GetModelRequest& request,
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

 protected:
  explicit ForwardingDialect(std::shared_ptr<const Dialect> wrapped);

  const Dialect& wrapped() const { return *wrapped_; }

 private:
  const std::shared_ptr<const Dialect> wrapped_;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_FORWARDING_DIALECT_H_
