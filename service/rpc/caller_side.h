// The gRPC side of one RPC as its call sees it: the reactor implements it (services.cc); tests
// of the call logic implement it with a mock, so calls run without a gRPC server.
#ifndef SERVICE_RPC_CALLER_SIDE_H_
#define SERVICE_RPC_CALLER_SIDE_H_

#include <grpcpp/grpcpp.h>

#include "claude/v1/message_batches.pb.h"
#include "claude/v1/messages.pb.h"
#include "service/upstream/http_types.h"

namespace claude {

class CallerSide {
 public:
  virtual ~CallerSide() = default;
  // Streams only: starts writing `event`, which stays untouched until the write is done
  // (StreamCall::WriteDone). Never called with a write in flight. `initial_metadata`, with
  // the first write only, goes out before it.
  virtual void SendEvent(const claude::v1::MessageStreamEvent& event,
                         const HttpHeaders* initial_metadata) = 0;
  // StreamMessageBatchResults only: as SendEvent, for a batch's result (BatchResultsCall::WriteDone
  // ends the write). Other RPCs never call it.
  virtual void SendResult(const claude::v1::MessageBatchResult& result, const HttpHeaders* initial_metadata) {
    (void)result;
    (void)initial_metadata;
  }
  // Ends the RPC, once, with nothing in flight: the trailing metadata, then `status`.
  virtual void SendStatus(const grpc::Status& status, const HttpHeaders& trailing_metadata) = 0;
};

}  // namespace claude

#endif  // SERVICE_RPC_CALLER_SIDE_H_
