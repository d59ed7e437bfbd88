// The admission path every RPC goes through, whichever server core serves it (the callback
// API's reactors in services.cc, or the completion-queue core in cq_server_core.cc): record,
// caller gate, validation, the route's upstream requests, then an UpstreamCall answering
// through a CallReactor. Templates, because each core brings its own reactor base.
#ifndef SERVICE_RPC_ADMISSION_H_
#define SERVICE_RPC_ADMISSION_H_

#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "claude/v1/message_batches.pb.h"
#include "claude/v1/messages.pb.h"
#include "service/errors/error_table.h"
#include "service/observability/trace_context.h"
#include "service/rpc/upstream_call.h"
#include "service/validation/request_validator.h"

namespace claude {
namespace admission {

// Helpers of the admission path, for handlers of either server core.

// The caller's deadline; absl::InfiniteFuture() for none.
absl::Time Deadline(const grpc::ServerContextBase* context);
TraceContext TraceOf(const grpc::ServerContextBase* context);
// Request headers that come from the caller's metadata: anthropic-beta, joined as the API
// expects when several are given; and the trace, continued by this RPC's span.
HttpHeaders RequestHeadersFromMetadata(const grpc::ServerContextBase* context, const TraceContext& trace);
// The validation rules that the caller's anthropic-beta metadata relaxes.
ValidationOptions ValidationOptionsOf(const grpc::ServerContextBase* context);
// Every RPC starts a record here and ends it exactly once, in the UpstreamCall that answers it
// or where the handler refuses it (EndRecord).
CallRecord StartRecord(const CallEnvironment& env, const grpc::ServerContextBase* context,
                       const TraceContext& trace, const char* method, std::string model);
// Ends `record` with `status` and tells the observers, for RPCs that never reach an upstream call.
void EndRecord(const CallEnvironment& env, CallRecord& record, const grpc::Status& status);
// Security's admission step: who calls (bearer token) and whether within its limits. The
// caller's name goes into the record for metrics and logs.
CallAdmission Admit(const CallEnvironment& env, const grpc::ServerContextBase* context, CallRecord& record);

// Whether reactor type `Base` writes `Message`s (StartWrite), i.e. serves a stream of them.
template <typename Base, typename Message, typename = void>
struct WritesMessages : std::false_type {};
template <typename Base, typename Message>
struct WritesMessages<Base, Message,
                      std::void_t<decltype(std::declval<Base&>().StartWrite(std::declval<const Message*>()))>>
    : std::true_type {};
template <typename Base, typename Message>
inline constexpr bool kWrites = WritesMessages<Base, Message>::value;

// A reactor that delegates to its call: `Base` is the gRPC reactor type, `Call` the
// UpstreamCall behind it, which answers through the CallerSide. gRPC deletes it only through
// OnDone, after which the call never touches it again. The call starts in the handler, or, when
// a shared quota store (Redis) has to decide first, on the store's thread when its answer
// arrives (StartWhenAdmitted); a cancel meanwhile ends the RPC at once and the late answer is
// dropped.
template <typename Base, typename Call>
class CallReactor final : public Base, public CallerSide {
 public:
  static constexpr bool kStreaming = kWrites<Base, claude::v1::MessageStreamEvent>;

  // A CQ core's bases take their queue and service; gRPC's reactors take nothing.
  using Base::Base;

  // Starts the call. The reactor keeps `admission` (its caller's concurrent slot) until it is
  // deleted.
  template <typename... Args>
  void Start(const CallEnvironment& env, std::vector<UpstreamTarget> targets,
             grpc::ServerContextBase* context, CallRecord record, CallAdmission admission,
             Args... args) {
    // Held across Begin: OnCancel and OnDone, which may come from other threads once the
    // store's answer started the call, wait for the call to be in place.
    std::lock_guard<std::mutex> lock(start_mu_);
    context_ = context;
    admission_ = std::move(admission);
    if (env.record_bodies) record.request_body = targets.front().request.body;
    auto call = std::make_shared<Call>(env, std::move(targets), Deadline(context), this, args...);
    if (env.calls != nullptr && !env.calls->Add(call)) {
      Refuse(env, record, grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
      return;
    }
    registry_ = env.calls;
    call_ = std::move(call);
    call_->Begin(std::move(record));
    if (cancelled_) call_->Cancel();
  }
  // Asks the gate's shared store to decide `admission`, then starts the call (or refuses it)
  // from the store's answer. The handler returns at once: no gRPC thread waits for Redis.
  template <typename... Args>
  void StartWhenAdmitted(const CallEnvironment& env, std::vector<UpstreamTarget> targets,
                         grpc::ServerContextBase* context,
                         CallRecord record, CallAdmission admission, Args... args) {
    auto waiting = std::make_shared<Waiting>();
    waiting->env = &env;
    waiting->record = std::move(record);
    waiting_ = waiting;
    env.gate->Decide(std::move(admission), [this, waiting, targets = std::move(targets), context,
                                            args...](CallAdmission decided) mutable {
      if (!waiting->Claim()) return;  // the RPC ended (cancelled) while the store decided
      if (!decided.ok()) {
        Refuse(*waiting->env, waiting->record, decided.status());
        return;
      }
      Start(*waiting->env, std::move(targets), context, std::move(waiting->record), std::move(decided), args...);
    });
  }
  // Ends the RPC with `status` before any upstream call.
  void Refuse(const CallEnvironment& env, CallRecord& record, const grpc::Status& status) {
    EndRecord(env, record, status);
    this->Finish(status);
  }

  // CallerSide.
  void SendEvent(const claude::v1::MessageStreamEvent& event, const HttpHeaders* initial_metadata) override {
    if constexpr (kStreaming) {
      if (initial_metadata != nullptr) {
        for (const auto& [name, value] : *initial_metadata) context_->AddInitialMetadata(name, value);
      }
      this->StartWrite(&event);
    }
  }
  void SendResult(const claude::v1::MessageBatchResult& result, const HttpHeaders* initial_metadata) override {
    if constexpr (kWrites<Base, claude::v1::MessageBatchResult>) {
      if (initial_metadata != nullptr) {
        for (const auto& [name, value] : *initial_metadata) context_->AddInitialMetadata(name, value);
      }
      this->StartWrite(&result);
    }
  }
  void SendStatus(const grpc::Status& status, const HttpHeaders& trailing_metadata) override {
    for (const auto& [name, value] : trailing_metadata) context_->AddTrailingMetadata(name, value);
    this->Finish(status);
  }

  // Overrides OnWriteDone of a writing Base; a unary reactor has none, and never instantiates it.
  void OnWriteDone(bool ok) { call_->WriteDone(ok); }
  void OnCancel() override {
    if (waiting_ != nullptr && waiting_->Claim()) {
      Refuse(*waiting_->env, waiting_->record, grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the caller"));
      return;
    }
    std::shared_ptr<Call> call;
    {
      std::lock_guard<std::mutex> lock(start_mu_);
      cancelled_ = true;
      call = call_;
    }
    if (call) call->Cancel();
  }
  void OnDone() override {
    {
      std::lock_guard<std::mutex> lock(start_mu_);
      if (call_) {
        call_->Detach();
        if (registry_ != nullptr) registry_->Remove(call_.get());
      }
    }
    delete this;
  }

 private:
  // A decision in progress: whoever claims it first (the store's answer or a cancel) ends or
  // starts the RPC; the other does nothing. Shared with the pending answer, which may arrive
  // after the reactor is gone.
  struct Waiting {
    std::mutex mu;
    bool claimed = false;
    const CallEnvironment* env = nullptr;
    CallRecord record;  // owned by the claimer
    bool Claim() {
      std::lock_guard<std::mutex> lock(mu);
      return !std::exchange(claimed, true);
    }
  };

  std::mutex start_mu_;
  grpc::ServerContextBase* context_ = nullptr;
  std::shared_ptr<Call> call_;
  bool cancelled_ = false;  // OnCancel came before the call was in place
  CallRegistry* registry_ = nullptr;
  CallAdmission admission_;
  std::shared_ptr<Waiting> waiting_;  // set in the handler, before any reaction
};

// What one RPC is, for the admission path below.
struct RpcSpec {
  const char* method;  // k...Method of call_record.h
  std::string model;   // for the record; "" when the RPC names none
  // The request's own checks, after admission: INVALID_ARGUMENT naming the field.
  absl::FunctionRef<absl::Status()> validate;
  // The upstream request, from an upstream's dialect; a refusal goes to the caller as is.
  absl::FunctionRef<absl::StatusOr<HttpRequest>(const Dialect& dialect, const HttpHeaders& forwarded)> build;
};

// The one admission path of every RPC: record, admit, refuse, validate, build, then the call on
// `reactor` (new, owned by gRPC; a callback reactor, or a CQ core's). Every
// handler goes through here, so none can skip the caller gate or the record. `call_args` are
// the Call's own constructor arguments after the reactor. With limits shared in Redis, the
// gate's local step (token, calls in flight) comes first, then validation, and the shared
// decision last, so malformed requests never count against a caller's quota.
template <typename Reactor, typename... CallArgs>
Reactor* Serve(const CallEnvironment& env, grpc::ServerContextBase* context, Reactor* reactor, const RpcSpec& rpc,
               CallArgs... call_args) {
  const TraceContext trace = TraceOf(context);
  CallRecord record = StartRecord(env, context, trace, rpc.method, rpc.model);
  CallAdmission admission = Admit(env, context, record);
  if (!admission.ok()) {
    reactor->Refuse(env, record, admission.status());
    return reactor;
  }
  if (absl::Status s = rpc.validate(); !s.ok()) {
    reactor->Refuse(env, record, StatusFromValidation(s));
    return reactor;
  }
  // The upstreams to try: the model's route (NOT_FOUND when none matches), or the one upstream.
  const HttpHeaders forwarded = RequestHeadersFromMetadata(context, trace);
  absl::StatusOr<std::vector<UpstreamTarget>> targets;
  if (env.routers != nullptr) {
    const absl::Time now = env.clock->Now();
    std::shared_ptr<const Router> router = env.routers->Current(now);
    targets = router->Plan(rpc.model, now,
                           [&](const Dialect& dialect) { return rpc.build(dialect, forwarded); });
    if (targets.ok()) {
      for (UpstreamTarget& target : *targets) target.router = router;
    }
  } else if (absl::StatusOr<HttpRequest> request = rpc.build(*env.dialect, forwarded); request.ok()) {
    targets.emplace();
    targets->push_back(UpstreamTarget{"", nullptr, env.dialect, nullptr, *std::move(request), nullptr, nullptr});
  } else {
    targets = request.status();
  }
  if (!targets.ok()) {
    reactor->Refuse(env, record, ToGrpcStatus(targets.status()));
    return reactor;
  }
  if (admission.pending()) {
    reactor->StartWhenAdmitted(env, *std::move(targets), context, std::move(record), std::move(admission),
                               call_args...);
    return reactor;
  }
  reactor->Start(env, *std::move(targets), context, std::move(record), std::move(admission), call_args...);
  return reactor;
}


// CreateMessage and StreamMessage: the same for either core.
template <typename Reactor>
Reactor* ServeCreateMessage(const CallEnvironment& env, int64_t unary_stream_threshold,
                            grpc::ServerContextBase* context, Reactor* reactor,
                            const claude::v1::CreateMessageRequest* request, claude::v1::Message* response) {
  // The HTTP API refuses non-streaming requests that may run long: above the threshold the
  // upstream streams, and the call accumulates.
  const bool stream = request->max_tokens() > unary_stream_threshold;
  return Serve(env, context, reactor,
               {kCreateMessageMethod, request->model(),
                [&] { return ValidateCreateMessageRequest(*request, ValidationOptionsOf(context)); },
                [&](const Dialect& dialect, const HttpHeaders& forwarded) {
                  return dialect.CreateMessage(*request, stream, forwarded);
                }},
               static_cast<google::protobuf::Message*>(response), stream);
}

template <typename Reactor>
Reactor* ServeStreamMessage(const CallEnvironment& env, grpc::ServerContextBase* context, Reactor* reactor,
                            const claude::v1::CreateMessageRequest* request) {
  return Serve(env, context, reactor,
               {kStreamMessageMethod, request->model(),
                [&] { return ValidateCreateMessageRequest(*request, ValidationOptionsOf(context)); },
                [&](const Dialect& dialect, const HttpHeaders& forwarded) {
                  return dialect.CreateMessage(*request, /*stream=*/true, forwarded);
                }});
}

}  // namespace admission
}  // namespace claude

#endif  // SERVICE_RPC_ADMISSION_H_
