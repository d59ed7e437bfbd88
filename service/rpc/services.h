// The gRPC services: claude.v1.Messages and claude.v1.Models on the callback API. Each RPC
// validates its request, builds the upstream HTTP request, and hands both to an UpstreamCall,
// which answers through a reactor; no handler blocks.
#ifndef SERVICE_RPC_SERVICES_H_
#define SERVICE_RPC_SERVICES_H_

#include <cstdint>

#include "claude/v1/message_batches.grpc.pb.h"
#include "claude/v1/admin.grpc.pb.h"
#include "claude/v1/messages.grpc.pb.h"
#include "claude/v1/models.grpc.pb.h"
#include "service/rpc/upstream_call.h"

namespace claude {

class MessagesService final : public claude::v1::Messages::CallbackService {
 public:
  // CreateMessage asks the upstream for a stream (and accumulates it) when max_tokens exceeds
  // `unary_stream_threshold`: the HTTP API refuses non-streaming requests that may run long.
  MessagesService(const CallEnvironment* env, int64_t unary_stream_threshold);

  grpc::ServerUnaryReactor* CreateMessage(grpc::CallbackServerContext* context,
                                          const claude::v1::CreateMessageRequest* request,
                                          claude::v1::Message* response) override;
  grpc::ServerWriteReactor<claude::v1::MessageStreamEvent>* StreamMessage(
      grpc::CallbackServerContext* context, const claude::v1::CreateMessageRequest* request) override;
  grpc::ServerUnaryReactor* CountTokens(grpc::CallbackServerContext* context,
                                        const claude::v1::CountTokensRequest* request,
                                        claude::v1::CountTokensResponse* response) override;

 private:
  const CallEnvironment* env_;
  const int64_t unary_stream_threshold_;
};

class ModelsService final : public claude::v1::Models::CallbackService {
 public:
  explicit ModelsService(const CallEnvironment* env);

  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const claude::v1::ListModelsRequest* request,
                                       claude::v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* context,
                                     const claude::v1::GetModelRequest* request,
                                     claude::v1::ModelInfo* response) override;

 private:
  const CallEnvironment* env_;
};

// claude.v1.MessageBatches: unary calls for the batch itself; the results through a
// BatchResultsCall. On a dialect without batches every RPC ends UNIMPLEMENTED.
class MessageBatchesService final : public claude::v1::MessageBatches::CallbackService {
 public:
  explicit MessageBatchesService(const CallEnvironment* env);

  grpc::ServerUnaryReactor* CreateMessageBatch(grpc::CallbackServerContext* context,
                                               const claude::v1::CreateMessageBatchRequest* request,
                                               claude::v1::MessageBatch* response) override;
  grpc::ServerUnaryReactor* GetMessageBatch(grpc::CallbackServerContext* context,
                                            const claude::v1::GetMessageBatchRequest* request,
                                            claude::v1::MessageBatch* response) override;
  grpc::ServerUnaryReactor* ListMessageBatches(grpc::CallbackServerContext* context,
                                               const claude::v1::ListMessageBatchesRequest* request,
                                               claude::v1::ListMessageBatchesResponse* response) override;
  grpc::ServerUnaryReactor* CancelMessageBatch(grpc::CallbackServerContext* context,
                                               const claude::v1::CancelMessageBatchRequest* request,
                                               claude::v1::MessageBatch* response) override;
  grpc::ServerUnaryReactor* DeleteMessageBatch(grpc::CallbackServerContext* context,
                                               const claude::v1::DeleteMessageBatchRequest* request,
                                               claude::v1::DeleteMessageBatchResponse* response) override;
  grpc::ServerWriteReactor<claude::v1::MessageBatchResult>* StreamMessageBatchResults(
      grpc::CallbackServerContext* context, const claude::v1::StreamMessageBatchResultsRequest* request) override;

 private:
  const CallEnvironment* env_;
};

// claude.v1.Admin: a caller's usage and limits. It reaches no upstream; its answer comes from
// the gate (Redis, or this replica's counts) without blocking the gRPC thread.
class AdminService final : public claude::v1::Admin::CallbackService {
 public:
  explicit AdminService(const CallEnvironment* env);

  grpc::ServerUnaryReactor* GetCallerUsage(grpc::CallbackServerContext* context,
                                           const claude::v1::GetCallerUsageRequest* request,
                                           claude::v1::CallerUsage* response) override;

 private:
  const CallEnvironment* env_;
};

}  // namespace claude

#endif  // SERVICE_RPC_SERVICES_H_
