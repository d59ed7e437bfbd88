// One RPC's exchange with the upstream, from the first attempt to the gRPC status. The call is
// assembled from small parts with one job each:
//
//   UpstreamCall   the attempts on the Transport seam: start, retry (RetryPolicy, within the
//                  deadline read from the injected Clock), cancel; error responses through the
//                  dialect's ReadError and the error table
//   EventReader    a streamed body through the dialect's EventDecoder (event_reader.h)
//   StreamRelay    the bounded queue towards a slow caller, pause and resume (stream_relay.h)
//   CallerSide     the gRPC reactor, or a test's mock (caller_side.h)
//   the record     what the RPC did, for metrics and logs; usage by CallUsageOf alone
//
// Threads and locks, for all of them:
//  - A call is shared by its reactor (gRPC threads: Begin, Cancel, WriteDone, Detach) and its
//    current transfer (the transport's thread: OnHead, OnBody, OnDone). `mu_` guards every
//    part's state; the parts themselves are not thread-safe.
//  - Transport calls (Start, Cancel) may be made under `mu_`: a transport never calls a sink
//    from inside them. Resume is made after `mu_` is released.
//  - CallerSide is only ever called outside `mu_` (gRPC may run a reaction inline, which takes
//    `mu_` again), by the one thread that decided under `mu_` to make that call: Flush() runs
//    after every entry point. One write in flight; one SendStatus, with nothing in flight.
//  - After Detach (the reactor's OnDone) the CallerSide is never touched again.
#ifndef SERVICE_RPC_UPSTREAM_CALL_H_
#define SERVICE_RPC_UPSTREAM_CALL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "claude/v1/message_batches.pb.h"
#include "claude/v1/messages.pb.h"
#include "common/codec/message_accumulator.h"
#include "common/sync/mutex.h"
#include "service/routing/router.h"
#include "service/rpc/call_record.h"
#include "service/rpc/call_registry.h"
#include "service/rpc/caller_side.h"
#include "service/rpc/clock.h"
#include "service/rpc/event_reader.h"
#include "service/rpc/forwarded_headers.h"
#include "service/rpc/stream_relay.h"
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
  // Largest reply body a unary call takes in, JSON or SSE that it accumulates (past it:
  // RESOURCE_EXHAUSTED), and largest error body kept.
  size_t max_response_bytes = 64 << 20;
  size_t max_error_body_bytes = 64 << 10;
  // Time an upstream request may take when the caller set no deadline.
  absl::Duration default_timeout = absl::Minutes(15);
};

// Everything a call needs from the server; outlives every call.
struct CallEnvironment {
  Transport* transport = nullptr;
  const Dialect* dialect = nullptr;  // builds the upstream requests and reads their answers
  // The upstreams file's upstreams and routes; null: every call goes to `dialect`'s upstream.
  RouterSource* routers = nullptr;
  const RetryPolicy* retry_policy = nullptr;
  const Clock* clock = SystemClock::Get();
  CallRegistry* calls = nullptr;  // may be null: calls are not tracked
  CallerGate* gate = nullptr;     // may be null: every call is admitted, anonymously
  CallOptions options;
  // Observers of every RPC's CallRecord; may be null or empty.
  const CallObservers* observers = nullptr;
  // Records carry the request body and the reply's text (--log_bodies).
  bool record_bodies = false;
};

// The record's token counts from a claude.v1.Usage: the one place, for unary replies and
// streams alike.
CallUsage CallUsageOf(const claude::v1::Usage& usage);

class UpstreamCall : public TransferSink, public std::enable_shared_from_this<UpstreamCall> {
 public:
  // `caller` answers the RPC until Detach(). `deadline`: absl::InfiniteFuture() for none.
  // `targets` (at least one): the upstreams to try, first the first; a retryable failure moves
  // to the next one that admits a call (UpstreamHealth) at once, without the backoff.
  UpstreamCall(const CallEnvironment& env, std::vector<UpstreamTarget> targets, absl::Time deadline,
               CallerSide* caller);
  // One target: `request` to env.dialect's upstream.
  UpstreamCall(const CallEnvironment& env, HttpRequest request, absl::Time deadline, CallerSide* caller);
  ~UpstreamCall() override = default;

  // Starts the first attempt. Call once; `record` (method, caller, model, start) is completed by
  // the call and observed when it finishes.
  void Begin(CallRecord record);
  // The caller went away (cancel, deadline) or the server is stopping: abort the transfer at
  // once and finish the RPC with `status` if it has not finished.
  void Cancel(grpc::Status status = grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"));
  // The reactor is done (OnDone): never touch it again, and stop any transfer still running.
  void Detach();

  // TransferSink, on the transport's thread.
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
  // Forgets what a failed attempt left (decoders, partial bodies) before the next one.
  virtual void ResetAttempt() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Performs the CallerSide and Resume calls decided under `mu_`. Called by every entry point
  // after releasing `mu_`.
  virtual void Flush() ABSL_LOCKS_EXCLUDED(mu_) = 0;

  // Moves the call on to its next upstream request (a call made of several exchanges, such as a
  // batch's results: first the batch, then its results_url), with a fresh retry budget.
  void StartNextRequest(HttpRequest next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks the call cancelled and stops its transfer.
  void CancelLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Retries the call if the policy allows (`http_status` 0: no response), else concludes it.
  void RetryOrConclude(grpc::Status status, int http_status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A reader of the current attempt's streamed body.
  EventReader NewEventReader() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return EventReader(dialect().NewEventDecoder());
  }
  // The dialect of the current attempt's upstream.
  const Dialect& dialect() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return *targets_[target_].dialect; }
  Transport& transport() const { return *env_.transport; }
  Transport::TransferId current_transfer() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return transfer_; }
  // Response headers of the attempt whose answer the caller gets.
  const HttpHeaders& response_headers() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return headers_; }
  // The call's record, filled as it goes (observability hooks only).
  CallRecord& record() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return record_; }
  bool record_bodies() const { return env_.record_bodies; }
  // Completes the record with the final `status` and hands it over (once, when finishing).
  CallRecord TakeRecord(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The end of the RPC, decided under `mu_`, performed by FinishRpc outside it.
  struct Ending {
    grpc::Status status;
    HttpHeaders trailing_metadata;
    CallRecord record;
  };
  Ending TakeEnding(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells the observers, then the caller (outside `mu_`).
  void FinishRpc(const Ending& ending) ABSL_LOCKS_EXCLUDED(mu_);
  // The upstream headers the caller gets as gRPC metadata (request-id, retry-after,
  // anthropic-ratelimit-*) of the attempt whose answer it gets: only valid values, bounded
  // (service/rpc/forwarded_headers.h).
  const HttpHeaders& caller_metadata() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return forwarded_.entries; }

  // A std::mutex the thread-safety analysis sees (common/sync/mutex.h says why not absl::Mutex).
  Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool detached_ ABSL_GUARDED_BY(mu_) = false;
  CallerSide* const caller_;  // not after Detach

 private:
  void StartAttempt(absl::Duration delay) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells the current upstream's health how its attempt went (`http_status` 0: no response).
  void ReportAttempt(int http_status, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The target to fail over to at `now`: the next one after the current that admits a call;
  // nullopt when there is no other.
  std::optional<size_t> NextTarget(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `status` with the attempts (upstream and HTTP status each) in its ErrorInfo, when the call
  // had upstreams to choose from.
  grpc::Status WithAttempts(grpc::Status status) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Copied, not referenced: the transport's thread reads them, and the copy made here (before
  // the first transfer is handed over) is visibly ordered before those reads.
  const CallEnvironment env_;
  // Fixed for the call, except that StartNextRequest (under mu_) narrows it to one target.
  std::vector<UpstreamTarget> targets_;
  size_t target_ ABSL_GUARDED_BY(mu_) = 0;  // the current attempt's
  size_t key_ ABSL_GUARDED_BY(mu_) = 0;     // its key, when its upstream has a key pool
  const absl::Time deadline_;
  int retries_ ABSL_GUARDED_BY(mu_) = 0;
  Transport::TransferId transfer_ ABSL_GUARDED_BY(mu_) = 0;
  bool transfer_live_ ABSL_GUARDED_BY(mu_) = false;
  int http_status_ ABSL_GUARDED_BY(mu_) = 0;
  // When the current attempt's request leaves (its backoff over): its latency's start.
  CallRecord::Clock::time_point attempt_sent_ ABSL_GUARDED_BY(mu_){};
  HttpHeaders headers_ ABSL_GUARDED_BY(mu_);
  ForwardedHeaders forwarded_ ABSL_GUARDED_BY(mu_);
  std::string error_body_ ABSL_GUARDED_BY(mu_);
  CallRecord record_ ABSL_GUARDED_BY(mu_);
};

// A server-streaming RPC's relay towards its gRPC writer: the part StreamCall (events) and
// BatchResultsCall (batch results) share. Produced messages queue in a BasicStreamRelay; one
// write in flight; a full relay pauses the upstream transfer (PauseForSlowCaller) and a relay
// drained to its low watermark resumes it; the RPC ends once the outcome is known and nothing
// waits or is in flight. `Event` is claude.v1.MessageStreamEvent or claude.v1.MessageBatchResult
// (both instantiated once, in upstream_call.cc).
template <typename Event>
class RelayedCall : public UpstreamCall {
 public:
  // `upstream`: the targets, or one request (as UpstreamCall's constructors take them).
  template <typename Upstream>
  RelayedCall(const CallEnvironment& env, Upstream upstream, absl::Time deadline,
              CallerSide* caller)
      : UpstreamCall(env, std::move(upstream), deadline, caller),
        relay_(env.options.stream_buffer_bytes) {}

  // The reactor's OnWriteDone.
  void WriteDone(bool ok);

 protected:
  // True when the relay is full: the producer returns BodyAction::kPause (the chunk comes again
  // on resume) rather than grow the queue.
  bool PauseForSlowCaller() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues `event` for the caller; from now on the call is never retried.
  void Produce(Event event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Called with each message as its write starts (the record's first-token time).
  virtual void OnWriteStarting(const Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    (void)event;
  }

  bool MayRetry() const final ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !produced_any_; }
  void Conclude(grpc::Status status) final ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Flush() final ABSL_LOCKS_EXCLUDED(mu_);

  // How the stream ends, once known: it ends when the relay has drained.
  std::optional<grpc::Status> outcome_ ABSL_GUARDED_BY(mu_);

 private:
  // What the thread that holds `mu_` must do once it has released it.
  struct Action {
    const Event* write = nullptr;
    std::optional<HttpHeaders> initial_metadata;  // with the first write
    std::optional<Ending> end;
    std::optional<Transport::TransferId> resume;
  };
  Action NextAction() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  BasicStreamRelay<Event> relay_ ABSL_GUARDED_BY(mu_);
  bool wrote_any_ ABSL_GUARDED_BY(mu_) = false;
  bool produced_any_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

extern template class RelayedCall<claude::v1::MessageStreamEvent>;
extern template class RelayedCall<claude::v1::MessageBatchResult>;

// A unary RPC: the upstream's JSON body (or a stream accumulated into a Message) becomes the
// response message.
class UnaryCall final : public UpstreamCall {
 public:
  // `response` is the RPC's response message; `accumulate_stream`: the request asked the
  // upstream for a stream, and its events fold into `response` (a claude.v1.Message).
  UnaryCall(const CallEnvironment& env, std::vector<UpstreamTarget> targets, absl::Time deadline,
            CallerSide* caller, google::protobuf::Message* response, bool accumulate_stream);
  UnaryCall(const CallEnvironment& env, HttpRequest request, absl::Time deadline, CallerSide* caller,
            google::protobuf::Message* response, bool accumulate_stream);

 private:
  BodyAction OnSuccessBody(absl::string_view chunk) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnSuccessEnd(const absl::Status& transport) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool MayRetry() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return true; }
  void Conclude(grpc::Status status) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResetAttempt() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Flush() override ABSL_LOCKS_EXCLUDED(mu_);
  // Applies a streamed event to the accumulated Message.
  grpc::Status FoldEvent(const claude::v1::MessageStreamEvent& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Usage (and text, when bodies are recorded) of the Message the caller gets.
  void RecordMessage(const claude::v1::Message& message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the attempt with `failure`, which an accumulated stream's `error` event caused or not:
  // an error event is retried (or failed over) as its HTTP status would be, since nothing
  // reached the caller yet; any other failure concludes the RPC.
  void RetryErrorEventOrConclude(grpc::Status failure) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  google::protobuf::Message* const response_;
  const bool accumulate_stream_;
  const size_t max_response_bytes_;
  std::string body_ ABSL_GUARDED_BY(mu_);
  // Bytes of this attempt's 2xx body, held against max_response_bytes_ in both modes.
  size_t received_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<EventReader> events_ ABSL_GUARDED_BY(mu_);
  std::optional<MessageAccumulator> accumulator_ ABSL_GUARDED_BY(mu_);
  grpc::Status stream_error_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<Ending> pending_end_ ABSL_GUARDED_BY(mu_);
};

// A server-streaming RPC: each upstream event is decoded and relayed to the caller, one write
// in flight; a full relay pauses the upstream transfer.
class StreamCall final : public RelayedCall<claude::v1::MessageStreamEvent> {
 public:
  StreamCall(const CallEnvironment& env, std::vector<UpstreamTarget> targets, absl::Time deadline,
             CallerSide* caller);
  StreamCall(const CallEnvironment& env, HttpRequest request, absl::Time deadline, CallerSide* caller);

 private:
  BodyAction OnSuccessBody(absl::string_view chunk) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnSuccessEnd(const absl::Status& transport) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResetAttempt() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnWriteStarting(const claude::v1::MessageStreamEvent& event) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Queues a decoded event for the caller.
  grpc::Status Relay(claude::v1::MessageStreamEvent event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Usage and text of a decoded event, for the record.
  void RecordEvent(const claude::v1::MessageStreamEvent& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::optional<EventReader> events_ ABSL_GUARDED_BY(mu_);
  // The usage so far: message_start's, overwritten by message_delta's (ApplyUsageDelta).
  std::optional<claude::v1::Usage> usage_ ABSL_GUARDED_BY(mu_);
  // An `error` event that came before any event reached the caller: the attempt is retried
  // (or failed over) as its HTTP status would be, once the aborted transfer is done.
  std::optional<grpc::Status> error_before_first_event_ ABSL_GUARDED_BY(mu_);
};

}  // namespace claude

#endif  // SERVICE_RPC_UPSTREAM_CALL_H_
