#include "service/rpc/services.h"

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/errors/error_table.h"
#include "service/rpc/admission.h"
#include "service/rpc/batch_results_call.h"
#include "service/validation/batch_validator.h"

namespace claude {
namespace {

using admission::CallReactor;
using admission::EndRecord;
using admission::Serve;
using admission::StartRecord;
using admission::TraceOf;
using admission::ValidationOptionsOf;
using admission::RequestHeadersFromMetadata;

using UnaryReactor = CallReactor<grpc::ServerUnaryReactor, UnaryCall>;
using StreamReactor = CallReactor<grpc::ServerWriteReactor<claude::v1::MessageStreamEvent>, StreamCall>;
using BatchResultsReactor = CallReactor<grpc::ServerWriteReactor<claude::v1::MessageBatchResult>, BatchResultsCall>;

}  // namespace

MessagesService::MessagesService(const CallEnvironment* env, int64_t unary_stream_threshold)
    : env_(env), unary_stream_threshold_(unary_stream_threshold) {}

grpc::ServerUnaryReactor* MessagesService::CreateMessage(grpc::CallbackServerContext* context,
                                                         const claude::v1::CreateMessageRequest* request,
                                                         claude::v1::Message* response) {
  return admission::ServeCreateMessage(*env_, unary_stream_threshold_, context, new UnaryReactor(), request,
                                       response);
}

grpc::ServerWriteReactor<claude::v1::MessageStreamEvent>* MessagesService::StreamMessage(
    grpc::CallbackServerContext* context, const claude::v1::CreateMessageRequest* request) {
  return admission::ServeStreamMessage(*env_, context, new StreamReactor(), request);
}

grpc::ServerUnaryReactor* MessagesService::CountTokens(grpc::CallbackServerContext* context,
                                                       const claude::v1::CountTokensRequest* request,
                                                       claude::v1::CountTokensResponse* response) {
  return Serve(*env_, context, new UnaryReactor(),
      {kCountTokensMethod, request->model(), [&] { return ValidateCountTokensRequest(*request); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) {
         return dialect.CountTokens(*request, forwarded);
       }},
      static_cast<google::protobuf::Message*>(response), /*accumulate_stream=*/false);
}

ModelsService::ModelsService(const CallEnvironment* env) : env_(env) {}

grpc::ServerUnaryReactor* ModelsService::ListModels(grpc::CallbackServerContext* context,
                                                    const claude::v1::ListModelsRequest* request,
                                                    claude::v1::ListModelsResponse* response) {
  return Serve(*env_, context, new UnaryReactor(),
      {kListModelsMethod, "", [&] { return ValidateListModelsRequest(*request); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) {
         return dialect.ListModels(*request, forwarded);
       }},
      static_cast<google::protobuf::Message*>(response), /*accumulate_stream=*/false);
}

grpc::ServerUnaryReactor* ModelsService::GetModel(grpc::CallbackServerContext* context,
                                                  const claude::v1::GetModelRequest* request,
                                                  claude::v1::ModelInfo* response) {
  return Serve(*env_, context, new UnaryReactor(),
      {kGetModelMethod, request->model_id(), [&] { return ValidateGetModelRequest(*request); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) {
         return dialect.GetModel(*request, forwarded);
       }},
      static_cast<google::protobuf::Message*>(response), /*accumulate_stream=*/false);
}

MessageBatchesService::MessageBatchesService(const CallEnvironment* env) : env_(env) {}

grpc::ServerUnaryReactor* MessageBatchesService::CreateMessageBatch(
    grpc::CallbackServerContext* context, const claude::v1::CreateMessageBatchRequest* request,
    claude::v1::MessageBatch* response) {
  return Serve(*env_, context, new UnaryReactor(),
      {kCreateMessageBatchMethod, "",
       [&] { return ValidateCreateMessageBatchRequest(*request, ValidationOptionsOf(context)); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) -> absl::StatusOr<HttpRequest> {
         absl::StatusOr<HttpRequest> http = dialect.CreateMessageBatch(*request, forwarded);
         // The API's size limit is on the encoded body, known only once it is built.
         if (http.ok() && http->body != nullptr) {
           if (absl::Status s = ValidateMessageBatchBodySize(http->body->size()); !s.ok()) return s;
         }
         return http;
       }},
      static_cast<google::protobuf::Message*>(response), /*accumulate_stream=*/false);
}

grpc::ServerUnaryReactor* MessageBatchesService::GetMessageBatch(grpc::CallbackServerContext* context,
                                                                 const claude::v1::GetMessageBatchRequest* request,
                                                                 claude::v1::MessageBatch* response) {
  return Serve(*env_, context, new UnaryReactor(),
      {kGetMessageBatchMethod, "", [&] { return ValidateMessageBatchId(request->message_batch_id()); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) { return dialect.GetMessageBatch(*request, forwarded); }},
      static_cast<google::protobuf::Message*>(response), /*accumulate_stream=*/false);
}

grpc::ServerUnaryReactor* MessageBatchesService::ListMessageBatches(
    grpc::CallbackServerContext* context, const claude::v1::ListMessageBatchesRequest* request,
    claude::v1::ListMessageBatchesResponse* response) {
  return Serve(*env_, context, new UnaryReactor(),
      {kListMessageBatchesMethod, "", [&] { return ValidateListMessageBatchesRequest(*request); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) { return dialect.ListMessageBatches(*request, forwarded); }},
      static_cast<google::protobuf::Message*>(response), /*accumulate_stream=*/false);
}

grpc::ServerUnaryReactor* MessageBatchesService::CancelMessageBatch(
    grpc::CallbackServerContext* context, const claude::v1::CancelMessageBatchRequest* request,
    claude::v1::MessageBatch* response) {
  return Serve(*env_, context, new UnaryReactor(),
      {kCancelMessageBatchMethod, "", [&] { return ValidateMessageBatchId(request->message_batch_id()); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) { return dialect.CancelMessageBatch(*request, forwarded); }},
      static_cast<google::protobuf::Message*>(response), /*accumulate_stream=*/false);
}

grpc::ServerUnaryReactor* MessageBatchesService::DeleteMessageBatch(
    grpc::CallbackServerContext* context, const claude::v1::DeleteMessageBatchRequest* request,
    claude::v1::DeleteMessageBatchResponse* response) {
  return Serve(*env_, context, new UnaryReactor(),
      {kDeleteMessageBatchMethod, "", [&] { return ValidateMessageBatchId(request->message_batch_id()); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) { return dialect.DeleteMessageBatch(*request, forwarded); }},
      static_cast<google::protobuf::Message*>(response), /*accumulate_stream=*/false);
}

grpc::ServerWriteReactor<claude::v1::MessageBatchResult>* MessageBatchesService::StreamMessageBatchResults(
    grpc::CallbackServerContext* context, const claude::v1::StreamMessageBatchResultsRequest* request) {
  std::optional<std::string> after_custom_id;
  if (request->has_after_custom_id()) after_custom_id = request->after_custom_id();
  // The batch first (is it ended? where are its results?); the results' request comes from
  // its results_url, inside the call.
  claude::v1::GetMessageBatchRequest get;
  get.set_message_batch_id(request->message_batch_id());
  return Serve(*env_, context, new BatchResultsReactor(),
      {kStreamMessageBatchResultsMethod, "", [&] { return ValidateMessageBatchId(request->message_batch_id()); },
       [&](const Dialect& dialect, const HttpHeaders& forwarded) { return dialect.GetMessageBatch(get, forwarded); }},
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
