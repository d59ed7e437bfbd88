// claude::Client's MessageBatches methods.
#include <utility>

#include "client/claude_client.h"

namespace claude {
namespace {

// One unary RPC of `stub`: `method` is the stub's member function.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> CallUnary(Stub* stub,
                                   grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                                   grpc::ClientContext* context, const Request& request) {
  Response response;
  if (grpc::Status status = (stub->*method)(context, request, &response); !status.ok()) {
    return FromGrpcStatus(status);
  }
  return response;
}

template <typename Request>
Request ById(const std::string& message_batch_id) {
  Request request;
  request.set_message_batch_id(message_batch_id);
  return request;
}

}  // namespace

absl::StatusOr<v1::MessageBatch> Client::CreateMessageBatch(const v1::CreateMessageBatchRequest& request,
                                                            const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  return CallUnary(batches_.get(), &v1::MessageBatches::Stub::CreateMessageBatch, &context, request);
}

absl::StatusOr<v1::MessageBatch> Client::GetMessageBatch(const std::string& message_batch_id,
                                                         const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  return CallUnary(batches_.get(), &v1::MessageBatches::Stub::GetMessageBatch, &context,
                   ById<v1::GetMessageBatchRequest>(message_batch_id));
}

absl::StatusOr<v1::ListMessageBatchesResponse> Client::ListMessageBatches(const v1::ListMessageBatchesRequest& request,
                                                                          const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  return CallUnary(batches_.get(), &v1::MessageBatches::Stub::ListMessageBatches, &context, request);
}

absl::StatusOr<v1::MessageBatch> Client::CancelMessageBatch(const std::string& message_batch_id,
                                                            const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  return CallUnary(batches_.get(), &v1::MessageBatches::Stub::CancelMessageBatch, &context,
                   ById<v1::CancelMessageBatchRequest>(message_batch_id));
}

absl::Status Client::DeleteMessageBatch(const std::string& message_batch_id, const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  return CallUnary(batches_.get(), &v1::MessageBatches::Stub::DeleteMessageBatch, &context,
                   ById<v1::DeleteMessageBatchRequest>(message_batch_id))
      .status();
}

absl::Status Client::StreamMessageBatchResults(const std::string& message_batch_id,
                                               const std::optional<std::string>& after_custom_id,
                                               const std::function<void(const v1::MessageBatchResult&)>& on_result,
                                               const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  v1::StreamMessageBatchResultsRequest request;
  request.set_message_batch_id(message_batch_id);
  if (after_custom_id) request.set_after_custom_id(*after_custom_id);
  std::unique_ptr<grpc::ClientReader<v1::MessageBatchResult>> reader =
      batches_->StreamMessageBatchResults(&context, request);
  v1::MessageBatchResult result;
  while (reader->Read(&result)) {
    if (on_result) on_result(result);
  }
  return FromGrpcStatus(reader->Finish());
}

}  // namespace claude
