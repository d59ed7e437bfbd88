// The completion-queue server core (--server_core=cq, an experiment: docs/performance.md): the
// hot RPCs of claude.v1.Messages, CreateMessage and StreamMessage, on gRPC's asynchronous API
// with one grpc::ServerCompletionQueue polled by one thread per core, instead of the callback API's
// callback-queue threads and executor. CountTokens, and every other service, stay on the
// callback API in the same server (gRPC mixes the two per method).
//
// A call goes through the same admission path and UpstreamCall as on the callback core
// (admission.h): the CQ-side reactor bases below give CallReactor the reactor interface it
// expects (cq_server_core.cc). Threads: the polling threads run the handlers (admission,
// validation, the request handed to the curl loop) and every completion (writes done, the
// finish, cancellation); the curl loop's thread starts writes and the finish itself (the async
// API allows any thread), so a reply leaves without waking another thread first.
#ifndef SERVICE_RPC_CQ_SERVER_CORE_H_
#define SERVICE_RPC_CQ_SERVER_CORE_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "claude/v1/messages.grpc.pb.h"
#include "service/rpc/services.h"
#include "service/rpc/upstream_call.h"

namespace claude {

// claude.v1.Messages with CreateMessage and StreamMessage asynchronous, CountTokens on the
// callback API (answered by a MessagesService).
class CqMessagesService final
    : public claude::v1::Messages::WithAsyncMethod_CreateMessage<claude::v1::Messages::WithAsyncMethod_StreamMessage<
          claude::v1::Messages::WithCallbackMethod_CountTokens<claude::v1::Messages::Service>>> {
 public:
  explicit CqMessagesService(MessagesService* count_tokens) : count_tokens_(count_tokens) {}

  grpc::ServerUnaryReactor* CountTokens(grpc::CallbackServerContext* context,
                                        const claude::v1::CountTokensRequest* request,
                                        claude::v1::CountTokensResponse* response) override {
    return count_tokens_->CountTokens(context, request, response);
  }

 private:
  MessagesService* count_tokens_;
};

class CqServerCore {
 public:
  CqServerCore(const CallEnvironment* env, int64_t unary_stream_threshold);
  ~CqServerCore();
  CqServerCore(const CqServerCore&) = delete;
  CqServerCore& operator=(const CqServerCore&) = delete;

  // Before the server is built: registers claude.v1.Messages and adds the completion queue.
  void AddTo(grpc::ServerBuilder& builder);
  // After BuildAndStart: asks gRPC for calls and starts the polling thread.
  void Start();
  // After the server's Shutdown returned: waits for the calls still answering (the curl loop
  // must still run), then shuts the queue down and joins the thread. Idempotent.
  void Stop();

  // For the RPC objects (cq_server_core.cc).
  struct Rpc;
  void Matched(Rpc* rpc);
  void Ended();

 private:
  void Poll();
  void RequestCreateMessage();
  void RequestStreamMessage();

  const CallEnvironment* env_;
  const int64_t unary_stream_threshold_;
  MessagesService callback_messages_;  // CountTokens
  CqMessagesService service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::vector<std::thread> pollers_;
  std::mutex mu_;
  std::condition_variable ended_;
  int live_ = 0;  // RPCs matched and not yet done; guarded by mu_
  bool stopped_ = false;
};

}  // namespace claude

#endif  // SERVICE_RPC_CQ_SERVER_CORE_H_
