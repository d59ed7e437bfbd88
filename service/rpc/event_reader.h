// A streamed 2xx body read through the dialect's EventDecoder, with what ends it turned into
// the gRPC status the RPC ends with: an `error` event by the error table, data that does not
// decode as INTERNAL, a body cut short as UNAVAILABLE. One per attempt.
//
// Not thread-safe: its call's mutex guards it (see upstream_call.h).
#ifndef SERVICE_RPC_EVENT_READER_H_
#define SERVICE_RPC_EVENT_READER_H_

#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "claude/v1/messages.pb.h"
#include "service/upstream/dialect.h"
#include "service/upstream/http_types.h"

namespace claude {

class EventReader {
 public:
  using OnEvent = absl::FunctionRef<grpc::Status(claude::v1::MessageStreamEvent event)>;

  explicit EventReader(std::unique_ptr<EventDecoder> decoder) : decoder_(std::move(decoder)) {}

  // Decodes `chunk` and hands each event to `on_event`, in order. Not OK: the status that ends
  // the RPC (what `on_event` returned, as is); no event follows it. `headers` are the
  // response's, for an error event's request id and retry delay.
  grpc::Status Feed(absl::string_view chunk, const HttpHeaders& headers, OnEvent on_event);
  // The body ended cleanly: the events its end completes, then OK, or UNAVAILABLE when the
  // stream was cut (no end marker, an event half-received).
  grpc::Status Finish(const HttpHeaders& headers, OnEvent on_event);
  // When an `error` event ended the stream: the HTTP status its type stands for
  // (HttpStatusForErrorType), so the call can retry it as it would that status; else 0.
  int error_event_status() const { return error_event_status_; }

 private:
  std::unique_ptr<EventDecoder> decoder_;
  int error_event_status_ = 0;
};

}  // namespace claude

#endif  // SERVICE_RPC_EVENT_READER_H_
