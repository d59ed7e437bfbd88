#include "service/rpc/services.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/sync/mutex.h"
#include "service/errors/error_table.h"
#include "service/observability/trace_context.h"
#include "service/rpc/batch_results_call.h"
#include "service/rpc/route_models.h"
#include "service/validation/batch_validator.h"
#include "service/validation/request_validator.h"

namespace claude {
namespace {

absl::Time Deadline(const grpc::CallbackServerContext* context) {
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

// The value of the caller's metadata `key` ("" when absent; the first when repeated).
absl::string_view Metadata(const grpc::CallbackServerContext* context, absl::string_view key) {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  return it == metadata.end() ? absl::string_view() : absl::string_view(it->second.data(), it->second.size());
}

TraceContext TraceOf(const grpc::CallbackServerContext* context) {
  return TraceContextFromCaller(Metadata(context, "traceparent"), Metadata(context, "tracestate"),
                                Metadata(context, "grpc-trace-bin"));
}

// Request headers that come from the caller's metadata: anthropic-beta, joined as the API
// expects when several are given; and the trace, continued by this RPC's span.
HttpHeaders RequestHeadersFromMetadata(const grpc::CallbackServerContext* context, const TraceContext& trace) {
  HttpHeaders headers;
  std::vector<std::string> betas;
  for (const auto& [key, value] : context->client_metadata()) {
    if (key == "anthropic-beta") betas.emplace_back(value.data(), value.size());
  }
  if (!betas.empty()) headers.emplace_back("anthropic-beta", absl::StrJoin(betas, ","));
  headers.emplace_back("traceparent", trace.Traceparent());
  if (!trace.tracestate.empty()) headers.emplace_back("tracestate", trace.tracestate);
  return headers;
}

// The validation rules that the caller's anthropic-beta metadata relaxes.
ValidationOptions ValidationOptionsOf(const grpc::CallbackServerContext* context) {
  ValidationOptions options;
  for (const auto& [key, value] : context->client_metadata()) {
    if (key != "anthropic-beta") continue;
    for (absl::string_view beta : absl::StrSplit(absl::string_view(value.data(), value.size()), ',')) {
      if (absl::StartsWith(absl::StripAsciiWhitespace(beta), "interleaved-thinking-")) {
        options.interleaved_thinking = true;
      }
    }
  }
  return options;
}

// ---- Observability: every RPC starts a record here and ends it exactly once, in the
// UpstreamCall that answers it or where the handler refuses it (EndRecord).

CallRecord StartRecord(const CallEnvironment& env, const grpc::CallbackServerContext* context,
                       const TraceContext& trace, const char* method, std::string model) {
  CallRecord record;
  record.method = method;
  record.model = std::move(model);
  record.peer = context->peer();
  record.trace_id = trace.trace_id;
  record.span_id = trace.span_id;
  record.parent_span_id = trace.parent_span_id;
  record.start_time = absl::Now();
  record.started = CallRecord::Clock::now();
  if (env.observers != nullptr) env.observers->Start(record);
  return record;
}

// Ends `record` with `status` and tells the observers, for RPCs that never reach an upstream call.
void EndRecord(const CallEnvironment& env, CallRecord& record, const grpc::Status& status) {
  record.Finish(status);
  if (env.observers != nullptr) env.observers->End(record);
}

// ----

// A reactor that delegates to its call: `Base` is the gRPC reactor type, `Call` the
// UpstreamCall behind it, which answers through the CallerSide. gRPC deletes it only through
// OnDone, after which the call never touches it again. The call starts in the handler, or, when
// a shared quota store (Redis) has to decide first, on the store's thread when its answer
// arrives (StartWhenAdmitted); a cancel meanwhile ends the RPC at once and the late answer is
// dropped.
template <typename Base, typename Call>
class CallReactor final : public Base, public CallerSide {
 public:
  static constexpr bool kStreaming =
      std::is_base_of_v<grpc::ServerWriteReactor<claude::v1::MessageStreamEvent>, Base>;

  // Starts the call. The reactor keeps `admission` (its caller's concurrent slot) until it is
  // deleted.
  template <typename... Args>
  void Start(const CallEnvironment& env, std::vector<UpstreamTarget> targets,
             grpc::CallbackServerContext* context, CallRecord record, CallAdmission admission,
             Args... args) {
    // Held across Begin: OnCancel and OnDone, which may come from other threads once the
    // store's answer started the call, wait for the call to be in place.
    MutexLock lock(start_mu_);
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
                         grpc::CallbackServerContext* context,
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
  // Ends the RPC with `status` before any upstream call (a refusal, or an answer of the routes).
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
    if constexpr (std::is_base_of_v<grpc::ServerWriteReactor<claude::v1::MessageBatchResult>, Base>) {
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

  // Overrides ServerWriteReactor::OnWriteDone; a unary reactor has none, and never instantiates it.
  void OnWriteDone(bool ok) { call_->WriteDone(ok); }
  void OnCancel() override {
    if (waiting_ != nullptr && waiting_->Claim()) {
      Refuse(*waiting_->env, waiting_->record, grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the caller"));
      return;
    }
    std::shared_ptr<Call> call;
    {
      MutexLock lock(start_mu_);
      cancelled_ = true;
      call = call_;
    }
    if (call) call->Cancel();
  }
  void OnDone() override {
    {
      MutexLock lock(start_mu_);
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
    Mutex mu;
    bool claimed ABSL_GUARDED_BY(mu) = false;
    const CallEnvironment* env = nullptr;
    CallRecord record;  // owned by the claimer
    bool Claim() {
      MutexLock lock(mu);
      return !std::exchange(claimed, true);
    }
  };

  Mutex start_mu_;
  // Set once under start_mu_ in Start, before the call's first write or status: the reactions
  // that use them (OnWriteDone, SendEvent...) come after, through gRPC, so they read them
  // without the lock, which the analysis cannot see; hence not annotated.
  grpc::CallbackServerContext* context_ = nullptr;
  std::shared_ptr<Call> call_;
  bool cancelled_ ABSL_GUARDED_BY(start_mu_) = false;  // OnCancel came before the call was in place
  CallRegistry* registry_ ABSL_GUARDED_BY(start_mu_) = nullptr;
  CallAdmission admission_;
  std::shared_ptr<Waiting> waiting_;  // set in the handler, before any reaction
};

using UnaryReactor = CallReactor<grpc::ServerUnaryReactor, UnaryCall>;
using StreamReactor =
    CallReactor<grpc::ServerWriteReactor<claude::v1::MessageStreamEvent>, StreamCall>;
using BatchResultsReactor =
    CallReactor<grpc::ServerWriteReactor<claude::v1::MessageBatchResult>, BatchResultsCall>;

// Security's admission step: who calls (bearer token) and whether within its limits. The
// caller's name goes into the record for metrics and logs.
CallAdmission Admit(const CallEnvironment& env, const grpc::CallbackServerContext* context,
                    CallRecord& record, int64_t requests_per_minute) {
  CallAdmission admission =
      env.gate == nullptr ? CallAdmission() : env.gate->Admit(*context, requests_per_minute);
  record.caller = admission.caller();
  return admission;
}

// What one RPC is, for the admission path below.
struct RpcSpec {
  const char* method;  // k...Method of call_record.h
  std::string model;   // for the record; "" when the RPC names none
  // The request's own checks, after admission: INVALID_ARGUMENT naming the field.
  absl::FunctionRef<absl::Status()> validate;
  // The upstream request, from an upstream's dialect; a refusal goes to the caller as is.
  absl::FunctionRef<absl::StatusOr<HttpRequest>(const Dialect& dialect, const HttpHeaders& forwarded)> build;
  // With an upstreams file, the RPCs the routes answer themselves (route_models.h): the
  // status to end the RPC with (OK: the response is filled), or nullopt for the route's
  // upstreams to answer. Empty: always the upstreams.
  std::function<std::optional<grpc::Status>(const Router& router)> from_routes = nullptr;
  // What the RPC counts against the caller's requests per minute: 1, or for a batch 1 + its
  // requests (decided after validation, all or nothing; caller_gate.h).
  int64_t requests_per_minute = 1;
  // A Message Batches RPC: with an upstreams file it goes to the batches upstream, not by model.
  bool batches = false;
};

// The one admission path of every RPC: record, admit, refuse, validate, build, reactor. Every
// handler goes through here, so none can skip the caller gate or the record. `call_args` are
// the Call's own constructor arguments after the reactor. With limits shared in Redis, the
// gate's local step (token, calls in flight) comes first, then validation, and the shared
// decision last, so malformed requests never count against a caller's quota.
template <typename Reactor, typename... CallArgs>
Reactor* Serve(const CallEnvironment& env, grpc::CallbackServerContext* context, const RpcSpec& rpc,
               CallArgs... call_args) {
  const TraceContext trace = TraceOf(context);
  CallRecord record = StartRecord(env, context, trace, rpc.method, rpc.model);
  auto* reactor = new Reactor();
  CallAdmission admission = Admit(env, context, record, rpc.requests_per_minute);
  if (!admission.ok()) {
    reactor->Refuse(env, record, admission.status());
    return reactor;
  }
  if (absl::Status s = rpc.validate(); !s.ok()) {
    reactor->Refuse(env, record, StatusFromValidation(s));
    return reactor;
  }
  if (env.routers != nullptr && rpc.from_routes) {
    // Answered here, with no upstream request: the shared quota store is not asked either.
    if (std::optional<grpc::Status> answer =
            rpc.from_routes(*env.routers->Current(env.clock->Now()))) {
      reactor->Refuse(env, record, *answer);
      return reactor;
    }
  }
  // The upstreams to try: the model's route (NOT_FOUND when none matches), or the one upstream.
  const HttpHeaders forwarded = RequestHeadersFromMetadata(context, trace);
  absl::StatusOr<std::vector<UpstreamTarget>> targets;
  if (env.routers != nullptr) {
    const absl::Time now = env.clock->Now();
    std::shared_ptr<const Router> router = env.routers->Current(now);
    const auto build = [&](const Dialect& dialect) { return rpc.build(dialect, forwarded); };
    targets = rpc.batches ? router->PlanBatches(build) : router->Plan(rpc.model, now, build);
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

// A unary RPC whose upstream reply is its response's JSON as is (no stream to accumulate).
grpc::ServerUnaryReactor* ServeUnary(const CallEnvironment& env,
                                     grpc::CallbackServerContext* context, const RpcSpec& rpc,
                                     google::protobuf::Message* response) {
  return Serve<UnaryReactor>(env, context, rpc, response, /*accumulate_stream=*/false);
}

// A Message Batches RPC that names one batch by its id alone (get, cancel, delete): `build` is
// the dialect's request for it.
template <typename Request>
grpc::ServerUnaryReactor* ServeByBatchId(
    const CallEnvironment& env, grpc::CallbackServerContext* context, const char* method,
    const Request& request,
    absl::StatusOr<HttpRequest> (Dialect::*build)(const Request&, const HttpHeaders&) const,
    google::protobuf::Message* response) {
  return ServeUnary(env, context,
                    {method, "", [&] { return ValidateMessageBatchId(request.message_batch_id()); },
                     [&](const Dialect& dialect, const HttpHeaders& forwarded) {
                       return (dialect.*build)(request, forwarded);
                     },
                     /*from_routes=*/nullptr, 1, /*batches=*/true},
                    response);
}

}  // namespace

MessagesService::MessagesService(const CallEnvironment* env, int64_t unary_stream_threshold)
    : env_(env), unary_stream_threshold_(unary_stream_threshold) {}

grpc::ServerUnaryReactor* MessagesService::CreateMessage(grpc::CallbackServerContext* context,
                                                         const claude::v1::CreateMessageRequest* request,
                                                         claude::v1::Message* response) {
  const bool stream = request->max_tokens() > unary_stream_threshold_;
  return Serve<UnaryReactor>(
      *env_, context,
      {kCreateMessageMethod, request->model(),
       [&] { return ValidateCreateMessageRequest(*request, ValidationOptionsOf(context)); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) {
         return dialect.CreateMessage(*request, stream, forwarded);
       }},
      static_cast<google::protobuf::Message*>(response), stream);
}

grpc::ServerWriteReactor<claude::v1::MessageStreamEvent>* MessagesService::StreamMessage(
    grpc::CallbackServerContext* context, const claude::v1::CreateMessageRequest* request) {
  return Serve<StreamReactor>(
      *env_, context,
      {kStreamMessageMethod, request->model(),
       [&] { return ValidateCreateMessageRequest(*request, ValidationOptionsOf(context)); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) {
         return dialect.CreateMessage(*request, /*stream=*/true, forwarded);
       }});
}

grpc::ServerUnaryReactor* MessagesService::CountTokens(grpc::CallbackServerContext* context,
                                                       const claude::v1::CountTokensRequest* request,
                                                       claude::v1::CountTokensResponse* response) {
  return ServeUnary(
      *env_, context,
      {kCountTokensMethod, request->model(), [&] { return ValidateCountTokensRequest(*request); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) {
         return dialect.CountTokens(*request, forwarded);
       }},
      response);
}

ModelsService::ModelsService(const CallEnvironment* env) : env_(env) {}

grpc::ServerUnaryReactor* ModelsService::ListModels(grpc::CallbackServerContext* context,
                                                    const claude::v1::ListModelsRequest* request,
                                                    claude::v1::ListModelsResponse* response) {
  return ServeUnary(*env_, context,
                    {kListModelsMethod, "", [&] { return ValidateListModelsRequest(*request); },
                     [&](const Dialect& dialect, const HttpHeaders& forwarded) {
                       return dialect.ListModels(*request, forwarded);
                     },
                     [&](const Router& router) -> std::optional<grpc::Status> {
                       return ToGrpcStatus(ListRouteModels(router.routes(), *request, response));
                     }},
                    response);
}

grpc::ServerUnaryReactor* ModelsService::GetModel(grpc::CallbackServerContext* context,
                                                  const claude::v1::GetModelRequest* request,
                                                  claude::v1::ModelInfo* response) {
  return ServeUnary(
      *env_, context,
      {kGetModelMethod, request->model_id(), [&] { return ValidateGetModelRequest(*request); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) {
         return dialect.GetModel(*request, forwarded);
       },
       [&](const Router& router) -> std::optional<grpc::Status> {
         if (DescribeRouteModel(router.routes(), request->model_id(), response))
           return grpc::Status::OK;
         return std::nullopt;  // a prefix route's upstreams describe it, or NOT_FOUND
       }},
      response);
}

MessageBatchesService::MessageBatchesService(const CallEnvironment* env) : env_(env) {}

grpc::ServerUnaryReactor* MessageBatchesService::CreateMessageBatch(
    grpc::CallbackServerContext* context, const claude::v1::CreateMessageBatchRequest* request,
    claude::v1::MessageBatch* response) {
  return ServeUnary(
      *env_, context,
      {kCreateMessageBatchMethod, "",
       [&] { return ValidateCreateMessageBatchRequest(*request, ValidationOptionsOf(context)); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) -> absl::StatusOr<HttpRequest> {
         absl::StatusOr<HttpRequest> http = dialect.CreateMessageBatch(*request, forwarded);
         // The API's size limit is on the encoded body, known only once it is built.
         if (http.ok() && http->body != nullptr) {
           if (absl::Status s = ValidateMessageBatchBodySize(http->body->size()); !s.ok()) return s;
         }
         return http;
       },
       /*from_routes=*/nullptr, 1 + static_cast<int64_t>(request->requests_size()),
       /*batches=*/true},
      response);
}

grpc::ServerUnaryReactor* MessageBatchesService::GetMessageBatch(grpc::CallbackServerContext* context,
                                                                 const claude::v1::GetMessageBatchRequest* request,
                                                                 claude::v1::MessageBatch* response) {
  return ServeByBatchId(*env_, context, kGetMessageBatchMethod, *request, &Dialect::GetMessageBatch,
                        response);
}

grpc::ServerUnaryReactor* MessageBatchesService::ListMessageBatches(
    grpc::CallbackServerContext* context, const claude::v1::ListMessageBatchesRequest* request,
    claude::v1::ListMessageBatchesResponse* response) {
  return ServeUnary(
      *env_, context,
      {kListMessageBatchesMethod, "", [&] { return ValidateListMessageBatchesRequest(*request); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) {
         return dialect.ListMessageBatches(*request, forwarded);
       },
       /*from_routes=*/nullptr, 1, /*batches=*/true},
      response);
}

grpc::ServerUnaryReactor* MessageBatchesService::CancelMessageBatch(
    grpc::CallbackServerContext* context, const claude::v1::CancelMessageBatchRequest* request,
    claude::v1::MessageBatch* response) {
  return ServeByBatchId(*env_, context, kCancelMessageBatchMethod, *request,
                        &Dialect::CancelMessageBatch, response);
}

grpc::ServerUnaryReactor* MessageBatchesService::DeleteMessageBatch(
    grpc::CallbackServerContext* context, const claude::v1::DeleteMessageBatchRequest* request,
    claude::v1::DeleteMessageBatchResponse* response) {
  return ServeByBatchId(*env_, context, kDeleteMessageBatchMethod, *request,
                        &Dialect::DeleteMessageBatch, response);
}

grpc::ServerWriteReactor<claude::v1::MessageBatchResult>* MessageBatchesService::StreamMessageBatchResults(
    grpc::CallbackServerContext* context, const claude::v1::StreamMessageBatchResultsRequest* request) {
  std::optional<std::string> after_custom_id;
  if (request->has_after_custom_id()) after_custom_id = request->after_custom_id();
  // The batch first (is it ended? where are its results?); the results' request comes from
  // its results_url, inside the call.
  claude::v1::GetMessageBatchRequest get;
  get.set_message_batch_id(request->message_batch_id());
  return Serve<BatchResultsReactor>(
      *env_, context,
      {kStreamMessageBatchResultsMethod, "",
       [&] { return ValidateMessageBatchId(request->message_batch_id()); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) {
         return dialect.GetMessageBatch(get, forwarded);
       },
       /*from_routes=*/nullptr, 1, /*batches=*/true},
      // The results' GET carries the caller's headers too; the trace goes on in a span of its own.
      RequestHeadersFromMetadata(context, TraceOf(context)), after_custom_id);
}

AdminService::AdminService(const CallEnvironment* env) : env_(env) {}

grpc::ServerUnaryReactor* AdminService::GetCallerUsage(grpc::CallbackServerContext* context,
                                                       const claude::v1::GetCallerUsageRequest* request,
                                                       claude::v1::CallerUsage* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // The record lives until the answer: it is shared with the callback that finishes the RPC.
  auto record = std::make_shared<CallRecord>(StartRecord(*env_, context, TraceOf(context), kGetCallerUsageMethod, ""));
  const CallEnvironment* env = env_;
  const auto finish = [env, record, reactor](const grpc::Status& status) {
    EndRecord(*env, *record, status);
    reactor->Finish(status);
  };
  if (env_->gate == nullptr) {
    finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "this server keeps no per-caller usage"));
    return reactor;
  }
  absl::StatusOr<AuthenticatedCaller> who = env_->gate->Authenticate(*context, absl::Now());
  if (!who.ok()) {
    finish(CallerGate::AuthenticationStatus(who.status()));
    return reactor;
  }
  record->caller = who->name;
  const std::string& asked = request->caller().empty() ? who->name : request->caller();
  if (asked.size() > 128) {
    finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "caller: at most 128 characters"));
    return reactor;
  }
  if (asked != who->name && !who->admin) {
    finish(StatusFromLocalPolicy(grpc::StatusCode::PERMISSION_DENIED,
                                 "caller: only callers marked admin in the callers file may read another "
                                 "caller's usage",
                                 "caller_not_admin"));
    return reactor;
  }
  std::optional<AuthenticatedCaller> target = env_->gate->Find(asked);
  if (!target) {
    // The name is not echoed: it may be anything the caller sent.
    finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "caller: no such caller in the callers file"));
    return reactor;
  }
  response->set_caller(target->name);
  response->set_shared(env_->gate->shared());
  const CallerLimits& limits = target->limits;
  response->set_concurrent_streams_limit(limits.concurrent_streams);
  response->set_requests_per_minute_limit(limits.requests_per_minute);
  response->set_tokens_per_minute_limit(limits.tokens_per_minute);
  response->set_tokens_per_day_limit(limits.tokens_per_day);
  response->set_tokens_per_month_limit(limits.tokens_per_month);
  response->set_usd_per_day_limit(static_cast<double>(limits.usd_micros_per_day) / 1e6);
  response->set_usd_per_month_limit(static_cast<double>(limits.usd_micros_per_month) / 1e6);
  env_->gate->ReadUsage(target->name, [finish, response](absl::StatusOr<CallerUsageCounts> counts) {
    if (!counts.ok()) {
      finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          absl::StrCat("the usage store cannot be read: ", counts.status().message())));
      return;
    }
    response->set_requests_this_minute(counts->requests_this_minute);
    response->set_tokens_this_minute(counts->tokens_this_minute);
    response->set_tokens_today(counts->tokens_today);
    response->set_tokens_this_month(counts->tokens_this_month);
    response->set_usd_today(static_cast<double>(counts->usd_micros_today) / 1e6);
    response->set_usd_this_month(static_cast<double>(counts->usd_micros_this_month) / 1e6);
    finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace claude
