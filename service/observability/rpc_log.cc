#include "service/observability/rpc_log.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/codec/json_mapping.h"
#include "service/observability/server_log.h"

namespace claude {
namespace {

// Milliseconds with microsecond resolution.
std::string Millis(absl::Duration d) {
  return absl::StrCat(absl::ToInt64Microseconds(d) / 1000.0);
}

void AppendMember(absl::string_view name, absl::string_view raw_value, std::string* out) {
  if (out->size() > 1) out->push_back(',');
  AppendJsonString(name, out);
  out->push_back(':');
  out->append(raw_value.data(), raw_value.size());
}

void AppendStringMember(absl::string_view name, absl::string_view value, std::string* out) {
  std::string quoted;
  AppendJsonString(value, &quoted);
  AppendMember(name, quoted, out);
}

// Failures the server or its upstream caused are errors; what the caller caused or chose
// (a bad request, its token, its limits, its cancel) is a warning.
Severity RpcSeverity(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return Severity::kInfo;
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DATA_LOSS:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::UNIMPLEMENTED:
      return Severity::kError;
    default:
      return Severity::kWarning;
  }
}

}  // namespace

std::string FormatRpcLogLine(const CallRecord& record) {
  std::string out = "{";
  AppendStringMember("severity", SeverityName(RpcSeverity(record.code)), &out);
  AppendStringMember("time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", record.start_time, absl::UTCTimeZone()), &out);
  AppendStringMember("message", "rpc", &out);
  AppendStringMember("method", record.method, &out);
  AppendStringMember("caller", record.caller, &out);
  AppendStringMember("peer", record.peer, &out);
  AppendStringMember("trace_id", record.trace_id, &out);
  AppendStringMember("span_id", record.span_id, &out);
  AppendStringMember("model", record.model, &out);
  AppendStringMember("grpc_code", absl::StatusCodeToString(static_cast<absl::StatusCode>(record.code)), &out);
  if (!record.message.empty()) AppendStringMember("grpc_message", record.message, &out);
  AppendMember("upstream_status", absl::StrCat(record.upstream_status()), &out);
  AppendStringMember("request_id", record.request_id, &out);
  if (!record.message_id.empty()) AppendStringMember("message_id", record.message_id, &out);
  if (!record.stop_reason.empty()) AppendStringMember("stop_reason", record.stop_reason, &out);
  AppendMember("latency_ms", Millis(record.latency()), &out);
  const std::optional<absl::Duration> ttft = record.time_to_first_token();
  AppendMember("ttft_ms", ttft ? Millis(*ttft) : "null", &out);
  const std::optional<absl::Duration> upstream = record.upstream_time();
  AppendMember("upstream_ms", upstream ? Millis(*upstream) : "null", &out);
  AppendMember("retries", absl::StrCat(record.retries), &out);
  if (!record.attempt_upstreams.empty() && !record.attempt_upstreams.front().empty()) {
    std::string names = "[";
    for (const std::string& name : record.attempt_upstreams) {
      if (names.size() > 1) names += ',';
      AppendJsonString(name, &names);
    }
    names += ']';
    AppendMember("upstreams", names, &out);
  }
  if (record.usage) {
    for (const auto& [type, n] : record.usage->tokens) AppendMember(type + "_tokens", absl::StrCat(n), &out);
  }
  if (record.request_body != nullptr) {
    AppendStringMember("request_body", *record.request_body, &out);
    AppendStringMember("response_text", record.response_text, &out);
  }
  out.push_back('}');
  return out;
}

}  // namespace claude
