#include "service/rpc/admission.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace claude {
namespace admission {
namespace {

// The value of the caller's metadata `key` ("" when absent; the first when repeated).
absl::string_view Metadata(const grpc::ServerContextBase* context, absl::string_view key) {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  return it == metadata.end() ? absl::string_view() : absl::string_view(it->second.data(), it->second.size());
}

}  // namespace

absl::Time Deadline(const grpc::ServerContextBase* context) {
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

TraceContext TraceOf(const grpc::ServerContextBase* context) {
  return TraceContextFromCaller(Metadata(context, "traceparent"), Metadata(context, "tracestate"),
                                Metadata(context, "grpc-trace-bin"));
}

// Request headers that come from the caller's metadata: anthropic-beta, joined as the API
// expects when several are given; and the trace, continued by this RPC's span.
HttpHeaders RequestHeadersFromMetadata(const grpc::ServerContextBase* context, const TraceContext& trace) {
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
ValidationOptions ValidationOptionsOf(const grpc::ServerContextBase* context) {
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


CallRecord StartRecord(const CallEnvironment& env, const grpc::ServerContextBase* context,
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


// Security's admission step: who calls (bearer token) and whether within its limits. The
// caller's name goes into the record for metrics and logs.
CallAdmission Admit(const CallEnvironment& env, const grpc::ServerContextBase* context,
                    CallRecord& record) {
  CallAdmission admission = env.gate == nullptr ? CallAdmission() : env.gate->Admit(*context);
  record.caller = admission.caller();
  return admission;
}

}  // namespace admission
}  // namespace claude
