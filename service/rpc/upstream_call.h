// One RPC's exchange with the upstream, from the first attempt to the gRPC status: the sink of
// its transfers on the curl loop, the retry decisions, the error table, and the bridge to the
// gRPC reactor that answers the caller. A call is shared by its reactor (gRPC threads) and its
// current transfer (the loop thread); `mu_` guards what both touch, and gRPC is only ever
// called outside it, by the one thread that won the right to (one write in flight; one Finish).
#ifndef SERVICE_RPC_UPSTREAM_CALL_H_
#define SERVICE_RPC_UPSTREAM_CALL_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "claude/v1/messages.pb.h"
#include "service/codec/message_accumulator.h"
#include "service/rpc/call_record.h"
#include "service/rpc/call_registry.h"
#include "service/security/caller_gate.h"
#include "service/upstream/dialect.h"
#include "service/upstream/http_types.h"
#include "service/upstream/retry_policy.h"
#include "service/upstream/transport.h"

namespace claude {

struct CallOptions {
  // Bytes of encoded events a stream may hold for a slow caller before the upstream transfer is
  // paused; it resumes when the backlog falls to half of this.
  int64_t stream_buffer_bytes = 256 * 1024;
  // Largest response body (unary calls) and error body kept.
  size_t max_response_bytes = 64 << 20;
  size_t max_error_body_bytes = 64 << 10;
  // Time an upstream request may take when the caller set no deadline.
  absl::Duration default_timeout = absl::Minutes(15);
};

// Everything a call needs from the server; outlives every call.
struct CallEnvironment {
  Transport* transport = nullptr;
  const Dialect* dialect = nullptr;  // builds the upstream requests and reads their answers
  const RetryPolicy* retry_policy = nullptr;
  CallRegistry* calls = nullptr;  // may be null: calls are not tracked
  CallerGate* gate = nullptr;     // may be null: every call is admitted, anonymously
  CallOptions options;
  // Observers of every RPC's CallRecord; may be null or empty.
  const CallObservers* observers = nullptr;
  // Records carry the request body and the reply's text (--log_bodies).
  bool record_bodies = false;
};

class UpstreamCall : public TransferSink, public std::enable_shared_from_this<UpstreamCall> {
 public:
  UpstreamCall(const CallEnvironment& env, HttpRequest request, absl::Time deadline);
  ~UpstreamCall() override = default;

  // Starts the first attempt. Call once, after the reactor is attached; `record` (method,
  // caller, model, start) is completed by the call and observed when it finishes.
  void Begin(CallRecord record);
  // The caller went away (cancel, deadline) or the server is stopping: abort the transfer at
  // once and finish the RPC with `status` if it has not finished.
  void Cancel(grpc::Status status = grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"));
  // The reactor is done (OnDone): never touch it again, and stop any transfer still running.
  void Detach();

  // TransferSink, on the loop thread.
  void OnHead(int http_status, const HttpHeaders& headers) final;
  BodyAction OnBody(absl::string_view chunk) final;
  void OnDone(const absl::Status& status) final;

 protected:
  // A 2xx response: its body and its end (OK, or the transport error that broke it).
  virtual BodyAction OnSuccessBody(absl::string_view chunk) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  virtual void OnSuccessEnd(const absl::Status& transport) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Whether a failed attempt may be tried again: nothing has reached the caller yet.
  virtual bool MayRetry() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Ends the RPC with `status` once nothing is in flight towards the caller.
  virtual void Conclude(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Forgets what a failed attempt left (parsers, partial bodies) before the next one.
  virtual void ResetAttempt() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Performs the gRPC operations decided under `mu_` (writes, Finish). Called by every entry
  // point after releasing `mu_`: gRPC may run reactions inline, which take `mu_` again.
  virtual void Flush() ABSL_LOCKS_EXCLUDED(mu_) = 0;
  // Marks the call cancelled and stops its transfer.
  void CancelLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Transport* transport() const { return env_.transport; }
  const Dialect& dialect() const { return *env_.dialect; }
  Transport::TransferId current_transfer() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return transfer_; }

  // Retries the call if the policy allows (`http_status` 0: no response), else concludes it.
  void RetryOrConclude(grpc::Status status, int http_status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Feeds `chunk` of a streamed 2xx body to `decoder` (nullopt: the body ended cleanly) and
  // hands each event to `on_event`. Not OK: the status that ends the RPC (data that does not
  // decode: INTERNAL; a body cut short: UNAVAILABLE; an `error` event: by the error table; or
  // what `on_event` returned).
  grpc::Status DecodeEvents(EventDecoder& decoder, std::optional<absl::string_view> chunk,
                            absl::FunctionRef<grpc::Status(claude::v1::MessageStreamEvent)> on_event) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Response headers of the attempt whose answer the caller gets, for its metadata.
  const HttpHeaders& response_headers() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return headers_; }
  // The call's record, filled as it goes (observability hooks only).
  CallRecord& record() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return record_; }
  bool record_bodies() const { return env_.record_bodies; }
  // Completes the record with the final `status` and hands it over (once, when finishing).
  CallRecord TakeRecord(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells the observers the RPC ended; outside `mu_`, before gRPC's Finish.
  void NotifyEnd(const CallRecord& record) const ABSL_LOCKS_EXCLUDED(mu_);
  // Copies the headers callers care about (request-id, retry-after, anthropic-ratelimit-*) into
  // gRPC metadata with `add`.
  static void ForwardHeaders(const HttpHeaders& headers,
                             const std::function<void(const std::string&, const std::string&)>& add);
  // Adds the trailing metadata of a finished call: forwarded headers, and for failures a retry
  // pushback that keeps clients from retrying what the server already retried.
  static void AddTrailers(const HttpHeaders& headers, const grpc::Status& status,
                          grpc::CallbackServerContext* context);

  // std::mutex, not absl::Mutex: Debian builds Abseil without ThreadSanitizer annotations, so
  // TSan builds could not see absl::Mutex synchronize.
  std::mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool detached_ ABSL_GUARDED_BY(mu_) = false;

 private:
  void StartAttempt(absl::Duration delay) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Copied, not referenced: the loop thread reads them, and the copy made here (before the
  // first transfer is handed over under the loop's mutex) is visibly ordered before those reads.
  const CallEnvironment env_;
  HttpRequest request_;
  const absl::Time deadline_;
  int retries_ ABSL_GUARDED_BY(mu_) = 0;
  Transport::TransferId transfer_ ABSL_GUARDED_BY(mu_) = 0;
  bool transfer_live_ ABSL_GUARDED_BY(mu_) = false;
  int http_status_ ABSL_GUARDED_BY(mu_) = 0;
  HttpHeaders headers_ ABSL_GUARDED_BY(mu_);
  std::string error_body_ ABSL_GUARDED_BY(mu_);
  CallRecord record_ ABSL_GUARDED_BY(mu_);
};

// A unary RPC: the upstream's JSON body (or a stream accumulated into a Message) becomes the
// response message.
class UnaryCall final : public UpstreamCall {
 public:
  // `response` is the RPC's response message; `accumulate_stream`: the request asked the
  // upstream for SSE, and the events fold into `response` (a claude.v1.Message).
  UnaryCall(const CallEnvironment& env, HttpRequest request, absl::Time deadline,
            grpc::CallbackServerContext* context, grpc::ServerUnaryReactor* reactor,
            google::protobuf::Message* response, bool accumulate_stream);

 private:
  BodyAction OnSuccessBody(absl::string_view chunk) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnSuccessEnd(const absl::Status& transport) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool MayRetry() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return true; }
  void Conclude(grpc::Status status) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies a streamed event to the accumulated Message.
  grpc::Status FoldEvent(const claude::v1::MessageStreamEvent& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Usage (and text, when bodies are recorded) of the Message the caller gets.
  void RecordMessage(const claude::v1::Message& message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  grpc::CallbackServerContext* const context_;
  grpc::ServerUnaryReactor* const reactor_;
  google::protobuf::Message* const response_;
  const bool accumulate_stream_;
  const size_t max_response_bytes_;
  std::string body_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<EventDecoder> decoder_ ABSL_GUARDED_BY(mu_);
  std::optional<MessageAccumulator> accumulator_ ABSL_GUARDED_BY(mu_);
  grpc::Status stream_error_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> pending_finish_ ABSL_GUARDED_BY(mu_);

  void ResetAttempt() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Flush() override ABSL_LOCKS_EXCLUDED(mu_);
};

// A server-streaming RPC: each upstream SSE event is decoded and written to the caller, one
// write in flight; a full backlog pauses the upstream transfer.
class StreamCall final : public UpstreamCall {
 public:
  StreamCall(const CallEnvironment& env, HttpRequest request, absl::Time deadline,
             grpc::CallbackServerContext* context,
             grpc::ServerWriteReactor<claude::v1::MessageStreamEvent>* reactor);

  // The reactor's OnWriteDone.
  void WriteDone(bool ok);

 private:
  BodyAction OnSuccessBody(absl::string_view chunk) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnSuccessEnd(const absl::Status& transport) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool MayRetry() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !produced_any_; }
  void Conclude(grpc::Status status) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // What the thread that holds `mu_` must do with gRPC once it has released it.
  struct Action {
    bool write = false;
    std::optional<HttpHeaders> initial_metadata;  // with the first write
    std::optional<grpc::Status> finish;
    HttpHeaders trailing_metadata;                 // with the finish
    std::optional<Transport::TransferId> resume;
    std::optional<CallRecord> record;              // with the finish
  };
  Action NextAction() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResetAttempt() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Flush() override ABSL_LOCKS_EXCLUDED(mu_);
  grpc::Status HandleEvent(claude::v1::MessageStreamEvent event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Usage and text of a decoded event, for the record.
  void RecordEvent(const claude::v1::MessageStreamEvent& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  grpc::CallbackServerContext* const context_;
  grpc::ServerWriteReactor<claude::v1::MessageStreamEvent>* const reactor_;
  const int64_t buffer_bytes_;
  std::unique_ptr<EventDecoder> decoder_ ABSL_GUARDED_BY(mu_);
  std::deque<claude::v1::MessageStreamEvent> queue_ ABSL_GUARDED_BY(mu_);
  int64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  claude::v1::MessageStreamEvent in_flight_;  // owned by the write in flight
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool wrote_any_ ABSL_GUARDED_BY(mu_) = false;
  bool produced_any_ ABSL_GUARDED_BY(mu_) = false;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> outcome_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace claude

#endif  // SERVICE_RPC_UPSTREAM_CALL_H_
