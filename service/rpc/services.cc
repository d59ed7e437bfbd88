#include "service/rpc/services.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "service/codec/json_mapping.h"
#include "service/errors/error_table.h"
#include "service/validation/request_validator.h"

namespace claude {
namespace {

absl::Time Deadline(const grpc::CallbackServerContext* context) {
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

// Request headers that come from the caller's metadata: anthropic-beta, joined as the API
// expects when several are given.
HttpHeaders ForwardedHeaders(const grpc::CallbackServerContext* context) {
  HttpHeaders headers;
  std::vector<std::string> betas;
  for (const auto& [key, value] : context->client_metadata()) {
    if (key == "anthropic-beta") betas.emplace_back(value.data(), value.size());
  }
  if (!betas.empty()) headers.emplace_back("anthropic-beta", absl::StrJoin(betas, ","));
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

CallRecord StartRecord(const CallEnvironment& env, const char* method, std::string model) {
  CallRecord record;
  record.method = method;
  record.model = std::move(model);
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
// UpstreamCall behind it. gRPC deletes it only through OnDone, after which the call never
// touches it again.
template <typename Base, typename Call>
class CallReactor final : public Base {
 public:
  // Starts the call. The reactor keeps `admission` (its caller's concurrent slot) until it is
  // deleted.
  template <typename... Args>
  void Start(const CallEnvironment& env, HttpRequest request, grpc::CallbackServerContext* context,
             CallRecord record, CallAdmission admission, Args... args) {
    admission_ = std::move(admission);
    if (env.record_bodies) record.request_body = request.body;
    auto call = std::make_shared<Call>(env, std::move(request), Deadline(context), context, this, args...);
    if (env.calls != nullptr && !env.calls->Add(call)) {
      const grpc::Status refused(grpc::StatusCode::UNAVAILABLE, "the server is shutting down");
      EndRecord(env, record, refused);
      this->Finish(refused);
      return;
    }
    registry_ = env.calls;
    call_ = std::move(call);
    call_->Begin(std::move(record));
  }
  // Overrides ServerWriteReactor::OnWriteDone; a unary reactor has none, and never instantiates it.
  void OnWriteDone(bool ok) { call_->WriteDone(ok); }
  void OnCancel() override {
    if (call_) call_->Cancel();
  }
  void OnDone() override {
    if (call_) {
      call_->Detach();
      if (registry_ != nullptr) registry_->Remove(call_.get());
    }
    delete this;
  }

 private:
  std::shared_ptr<Call> call_;
  CallRegistry* registry_ = nullptr;
  CallAdmission admission_;
};

using UnaryReactor = CallReactor<grpc::ServerUnaryReactor, UnaryCall>;
using StreamReactor =
    CallReactor<grpc::ServerWriteReactor<claude::v1::MessageStreamEvent>, StreamCall>;

// Security's admission step: who calls (bearer token) and whether within its limits. The
// caller's name goes into the record for metrics and logs.
CallAdmission Admit(const CallEnvironment& env, const grpc::CallbackServerContext* context,
                    CallRecord& record) {
  CallAdmission admission = env.gate == nullptr ? CallAdmission() : env.gate->Admit(*context);
  record.caller = admission.caller();
  return admission;
}

grpc::ServerUnaryReactor* Reject(const CallEnvironment& env, CallRecord& record,
                                 grpc::CallbackServerContext* context, const grpc::Status& status) {
  EndRecord(env, record, status);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// An upstream request carrying the caller's forwarded headers.
HttpRequest UpstreamRequest(const char* method, std::string path,
                            const grpc::CallbackServerContext* context) {
  HttpRequest request;
  request.method = method;
  request.path = std::move(path);
  request.headers = ForwardedHeaders(context);
  return request;
}

HttpRequest JsonPost(std::string path, std::string body, const grpc::CallbackServerContext* context) {
  HttpRequest request = UpstreamRequest("POST", std::move(path), context);
  request.body = std::make_shared<const std::string>(std::move(body));
  return request;
}

std::string UrlEscape(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, absl::StrFormat("%%%02X", c));
    }
  }
  return out;
}

}  // namespace

MessagesService::MessagesService(const CallEnvironment* env, int64_t unary_stream_threshold)
    : env_(env), unary_stream_threshold_(unary_stream_threshold) {}

grpc::ServerUnaryReactor* MessagesService::CreateMessage(grpc::CallbackServerContext* context,
                                                         const claude::v1::CreateMessageRequest* request,
                                                         claude::v1::Message* response) {
  CallRecord record = StartRecord(*env_, kCreateMessageMethod, request->model());
  CallAdmission admission = Admit(*env_, context, record);
  if (!admission.ok()) return Reject(*env_, record, context, admission.status());
  if (absl::Status s = ValidateCreateMessageRequest(*request, ValidationOptionsOf(context)); !s.ok()) {
    return Reject(*env_, record, context, ToGrpcStatus(s));
  }
  const bool stream = request->max_tokens() > unary_stream_threshold_;
  HttpRequest http = JsonPost("/v1/messages", CreateMessageBody(*request, stream), context);
  if (stream) http.headers.emplace_back("accept", "text/event-stream");
  auto* reactor = new UnaryReactor();
  reactor->Start(*env_, std::move(http), context, std::move(record), std::move(admission), response, stream);
  return reactor;
}

grpc::ServerWriteReactor<claude::v1::MessageStreamEvent>* MessagesService::StreamMessage(
    grpc::CallbackServerContext* context, const claude::v1::CreateMessageRequest* request) {
  CallRecord record = StartRecord(*env_, kStreamMessageMethod, request->model());
  auto* reactor = new StreamReactor();
  auto refuse = [&](const grpc::Status& status) {
    EndRecord(*env_, record, status);
    reactor->Finish(status);
    return reactor;
  };
  CallAdmission admission = Admit(*env_, context, record);
  if (!admission.ok()) return refuse(admission.status());
  if (absl::Status s = ValidateCreateMessageRequest(*request, ValidationOptionsOf(context)); !s.ok()) {
    return refuse(ToGrpcStatus(s));
  }
  HttpRequest http = JsonPost("/v1/messages", CreateMessageBody(*request, /*stream=*/true), context);
  http.headers.emplace_back("accept", "text/event-stream");
  reactor->Start(*env_, std::move(http), context, std::move(record), std::move(admission));
  return reactor;
}

grpc::ServerUnaryReactor* MessagesService::CountTokens(grpc::CallbackServerContext* context,
                                                       const claude::v1::CountTokensRequest* request,
                                                       claude::v1::CountTokensResponse* response) {
  CallRecord record = StartRecord(*env_, kCountTokensMethod, request->model());
  CallAdmission admission = Admit(*env_, context, record);
  if (!admission.ok()) return Reject(*env_, record, context, admission.status());
  if (absl::Status s = ValidateCountTokensRequest(*request); !s.ok()) {
    return Reject(*env_, record, context, ToGrpcStatus(s));
  }
  auto* reactor = new UnaryReactor();
  reactor->Start(*env_, JsonPost("/v1/messages/count_tokens", MessageToJsonString(*request), context),
                 context, std::move(record), std::move(admission), response, /*accumulate_stream=*/false);
  return reactor;
}

ModelsService::ModelsService(const CallEnvironment* env) : env_(env) {}

grpc::ServerUnaryReactor* ModelsService::ListModels(grpc::CallbackServerContext* context,
                                                    const claude::v1::ListModelsRequest* request,
                                                    claude::v1::ListModelsResponse* response) {
  CallRecord record = StartRecord(*env_, kListModelsMethod, "");
  CallAdmission admission = Admit(*env_, context, record);
  if (!admission.ok()) return Reject(*env_, record, context, admission.status());
  std::vector<std::string> query;
  if (request->has_before_id()) query.push_back("before_id=" + UrlEscape(request->before_id()));
  if (request->has_after_id()) query.push_back("after_id=" + UrlEscape(request->after_id()));
  if (request->has_limit()) {
    if (request->limit() < 1) {
      return Reject(*env_, record, context,
                    grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "limit: must be at least 1"));
    }
    query.push_back(absl::StrCat("limit=", request->limit()));
  }
  auto* reactor = new UnaryReactor();
  reactor->Start(*env_, UpstreamRequest("GET", "/v1/models" + (query.empty() ? "" : "?" + absl::StrJoin(query, "&")), context),
                 context, std::move(record), std::move(admission), response, false);
  return reactor;
}

grpc::ServerUnaryReactor* ModelsService::GetModel(grpc::CallbackServerContext* context,
                                                  const claude::v1::GetModelRequest* request,
                                                  claude::v1::ModelInfo* response) {
  CallRecord record = StartRecord(*env_, kGetModelMethod, request->model_id());
  CallAdmission admission = Admit(*env_, context, record);
  if (!admission.ok()) return Reject(*env_, record, context, admission.status());
  if (request->model_id().empty()) {
    return Reject(*env_, record, context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "model_id: required"));
  }
  auto* reactor = new UnaryReactor();
  reactor->Start(*env_, UpstreamRequest("GET", "/v1/models/" + UrlEscape(request->model_id()), context), context,
                 std::move(record), std::move(admission), response, false);
  return reactor;
}

}  // namespace claude
