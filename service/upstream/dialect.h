// A Dialect owns everything specific to one kind of upstream API: for each RPC, the HTTP
// request (method, URL, headers with the version header, body, and the signer that adds the
// credentials), and the reading of its answers: a 2xx body (one JSON reply, or a stream) into
// claude.v1 messages and events, and an error body into the error table's input. The call
// logic (service/rpc/) and the transport know nothing of any one API; callers of claude.v1 cannot
// tell which dialect served them.
//
// Dialects are immutable after construction and shared by every call: all methods are const
// and thread-safe. An EventDecoder belongs to one attempt of one call.
#ifndef SERVICE_UPSTREAM_DIALECT_H_
#define SERVICE_UPSTREAM_DIALECT_H_

#include <memory>

#include <google/protobuf/message.h>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "claude/v1/message_batches.pb.h"
#include "claude/v1/messages.pb.h"
#include "claude/v1/models.pb.h"
#include "service/errors/upstream_error.h"
#include "service/upstream/http_types.h"

namespace claude {

// Decodes one streamed 2xx body, fed in chunks split at any byte, into claude.v1 stream events
// with exactly the sequence a Messages API upstream would send for the same reply
// (message_start, content_block_start / delta / stop, message_delta, message_stop). An upstream
// error inside the stream becomes an event with `error` set (the call maps it through the error
// table and ends the RPC).
class EventDecoder {
 public:
  using Emit = absl::FunctionRef<absl::Status(claude::v1::MessageStreamEvent event)>;

  virtual ~EventDecoder() = default;
  // Decodes what `chunk` completes and calls `emit` for each event, in order. A non-OK status
  // from `emit` stops decoding and is returned as is. Malformed data: INTERNAL naming what is
  // wrong (the call ends the RPC with it, after the events already emitted).
  virtual absl::Status Feed(absl::string_view chunk, Emit emit) = 0;
  // The body ended cleanly: emits what the end completes. UNAVAILABLE when the stream was cut
  // (an event left half-received, or the dialect's end marker missing).
  virtual absl::Status Finish(Emit emit) = 0;
};

class Dialect {
 public:
  virtual ~Dialect() = default;

  // The name used by --upstream_api and the upstreams file ("messages", "chat_completions").
  virtual absl::string_view name() const = 0;

  // ---- Requests. `forwarded` are headers taken from the caller's metadata (anthropic-beta,
  // traceparent); the dialect sends them on, or moves them where its API wants them.
  // Not OK: INVALID_ARGUMENT naming the field the dialect cannot express, or UNIMPLEMENTED for
  // an RPC the upstream's API does not offer; nothing is sent then.
  virtual absl::StatusOr<HttpRequest> CreateMessage(const claude::v1::CreateMessageRequest& request,
                                                    bool stream, const HttpHeaders& forwarded) const = 0;
  virtual absl::StatusOr<HttpRequest> CountTokens(const claude::v1::CountTokensRequest& request,
                                                  const HttpHeaders& forwarded) const = 0;
  virtual absl::StatusOr<HttpRequest> ListModels(const claude::v1::ListModelsRequest& request,
                                                 const HttpHeaders& forwarded) const = 0;
  virtual absl::StatusOr<HttpRequest> GetModel(const claude::v1::GetModelRequest& request,
                                               const HttpHeaders& forwarded) const = 0;

  // Message Batches: a Messages API feature. Dialects whose upstream offers none keep these
  // defaults, so every batch RPC ends UNIMPLEMENTED there.
  virtual absl::StatusOr<HttpRequest> CreateMessageBatch(const claude::v1::CreateMessageBatchRequest& request,
                                                         const HttpHeaders& forwarded) const;
  virtual absl::StatusOr<HttpRequest> GetMessageBatch(const claude::v1::GetMessageBatchRequest& request,
                                                      const HttpHeaders& forwarded) const;
  virtual absl::StatusOr<HttpRequest> ListMessageBatches(const claude::v1::ListMessageBatchesRequest& request,
                                                         const HttpHeaders& forwarded) const;
  virtual absl::StatusOr<HttpRequest> CancelMessageBatch(const claude::v1::CancelMessageBatchRequest& request,
                                                         const HttpHeaders& forwarded) const;
  virtual absl::StatusOr<HttpRequest> DeleteMessageBatch(const claude::v1::DeleteMessageBatchRequest& request,
                                                         const HttpHeaders& forwarded) const;
  // A GET of an ended batch's `results_url` (JSONL), with the upstream's credentials. INTERNAL
  // when the URL is not on the upstream's own origin: the key is never sent to another host.
  virtual absl::StatusOr<HttpRequest> MessageBatchResults(absl::string_view results_url,
                                                          const HttpHeaders& forwarded) const;

  // ---- Answers.
  // A decoder for one streamed 2xx body.
  virtual std::unique_ptr<EventDecoder> NewEventDecoder() const = 0;
  // A whole 2xx body into `response`, the RPC's response message (claude.v1.Message,
  // CountTokensResponse, ListModelsResponse or ModelInfo). Malformed: INTERNAL.
  virtual absl::Status DecodeReply(absl::string_view body, google::protobuf::Message* response) const = 0;
  // An error response (status >= 400) read into the error table's input. Never fails: a body
  // the dialect does not recognise leaves type and message empty.
  virtual UpstreamError ReadError(int http_status, absl::string_view body,
                                  const HttpHeaders& headers) const = 0;
};

inline absl::Status BatchesUnimplemented(absl::string_view dialect) {
  return absl::UnimplementedError(absl::StrCat("message batches are a Messages API feature; the upstream API \"",
                                               dialect, "\" offers none"));
}
inline absl::StatusOr<HttpRequest> Dialect::CreateMessageBatch(const claude::v1::CreateMessageBatchRequest&,
                                                               const HttpHeaders&) const {
  return BatchesUnimplemented(name());
}
inline absl::StatusOr<HttpRequest> Dialect::GetMessageBatch(const claude::v1::GetMessageBatchRequest&,
                                                            const HttpHeaders&) const {
  return BatchesUnimplemented(name());
}
inline absl::StatusOr<HttpRequest> Dialect::ListMessageBatches(const claude::v1::ListMessageBatchesRequest&,
                                                               const HttpHeaders&) const {
  return BatchesUnimplemented(name());
}
inline absl::StatusOr<HttpRequest> Dialect::CancelMessageBatch(const claude::v1::CancelMessageBatchRequest&,
                                                               const HttpHeaders&) const {
  return BatchesUnimplemented(name());
}
inline absl::StatusOr<HttpRequest> Dialect::DeleteMessageBatch(const claude::v1::DeleteMessageBatchRequest&,
                                                               const HttpHeaders&) const {
  return BatchesUnimplemented(name());
}
inline absl::StatusOr<HttpRequest> Dialect::MessageBatchResults(absl::string_view, const HttpHeaders&) const {
  return BatchesUnimplemented(name());
}

}  // namespace claude

#endif  // SERVICE_UPSTREAM_DIALECT_H_
