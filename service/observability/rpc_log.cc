#include "service/observability/rpc_log.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "service/codec/json_mapping.h"

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

}  // namespace

std::string FormatRpcLogLine(const CallRecord& record) {
  std::string out = "{";
  AppendStringMember("time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", record.start_time, absl::UTCTimeZone()), &out);
  AppendStringMember("method", record.method, &out);
  AppendStringMember("caller", record.caller, &out);
  AppendStringMember("model", record.model, &out);
  AppendStringMember("grpc_code", absl::StatusCodeToString(static_cast<absl::StatusCode>(record.code)), &out);
  if (!record.message.empty()) AppendStringMember("grpc_message", record.message, &out);
  AppendMember("upstream_status", absl::StrCat(record.upstream_status()), &out);
  AppendStringMember("request_id", record.request_id, &out);
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
