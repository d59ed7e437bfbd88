#include "service/observability/otlp_exporter.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/codec/json_mapping.h"
#include "common/program_info/build_info.h"
#include "service/observability/rpc_metrics.h"

namespace claude {
namespace {

void AppendAttribute(absl::string_view key, absl::string_view value, std::string* out) {
  if (out->back() != '[') out->push_back(',');
  out->append("{\"key\":");
  AppendJsonString(key, out);
  out->append(",\"value\":{\"stringValue\":");
  AppendJsonString(value, out);
  out->append("}}");
}

// OTLP JSON writes 64-bit integers as strings.
void AppendAttribute(absl::string_view key, int64_t value, std::string* out) {
  if (out->back() != '[') out->push_back(',');
  out->append("{\"key\":");
  AppendJsonString(key, out);
  absl::StrAppend(out, ",\"value\":{\"intValue\":\"", value, "\"}}");
}

std::string UnixNanos(absl::Time t) { return absl::StrCat(absl::ToUnixNanos(t)); }

}  // namespace

std::string FormatOtlpSpan(const CallRecord& record) {
  std::string span = "{\"traceId\":";
  AppendJsonString(record.trace_id, &span);
  span += ",\"spanId\":";
  AppendJsonString(record.span_id, &span);
  if (!record.parent_span_id.empty()) {
    span += ",\"parentSpanId\":";
    AppendJsonString(record.parent_span_id, &span);
  }
  span += ",\"name\":";
  AppendJsonString(record.method, &span);
  absl::StrAppend(&span, ",\"kind\":2,\"startTimeUnixNano\":\"", UnixNanos(record.start_time),
                  "\",\"endTimeUnixNano\":\"", UnixNanos(record.start_time + record.latency()),
                  "\",\"attributes\":[");
  const size_t slash = record.method.find('/');
  AppendAttribute("rpc.system", "grpc", &span);
  AppendAttribute("rpc.service", record.method.substr(0, slash), &span);
  AppendAttribute("rpc.method", slash == std::string::npos ? "" : record.method.substr(slash + 1), &span);
  AppendAttribute("rpc.grpc.status_code", static_cast<int64_t>(record.code), &span);
  AppendAttribute("gen_ai.operation.name", GenAiOperationName(record.method), &span);
  AppendAttribute("gen_ai.provider.name", "anthropic", &span);
  if (!record.model.empty()) AppendAttribute("gen_ai.request.model", record.model, &span);
  if (!record.message_id.empty()) AppendAttribute("gen_ai.response.id", record.message_id, &span);
  if (!record.stop_reason.empty()) AppendAttribute("gen_ai.response.finish_reasons", record.stop_reason, &span);
  if (record.usage) {
    AppendAttribute("gen_ai.usage.input_tokens", record.usage->count("input"), &span);
    AppendAttribute("gen_ai.usage.output_tokens", record.usage->count("output"), &span);
  }
  if (!record.caller.empty()) AppendAttribute("claude_grpc.caller", record.caller, &span);
  if (record.upstream_status() != 0) AppendAttribute("http.response.status_code", record.upstream_status(), &span);
  span += "],\"status\":";
  if (record.code == grpc::StatusCode::OK) {
    span += "{\"code\":1}";
  } else {
    span += "{\"code\":2,\"message\":";
    AppendJsonString(record.message, &span);
    span += "}";
  }
  span += "}";
  return span;
}

// Counts the batch's outcome and frees the exporter to send the next one.
class OtlpExporter::ExportSink final : public TransferSink {
 public:
  ExportSink(std::shared_ptr<State> state, size_t spans) : state_(std::move(state)), spans_(spans) {}
  void OnHead(int http_status, const HttpHeaders& /*headers*/) override { http_status_ = http_status; }
  BodyAction OnBody(absl::string_view /*chunk*/) override { return BodyAction::kContinue; }
  void OnDone(const absl::Status& status) override {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->in_flight = false;
      if (status.ok() && http_status_ >= 200 && http_status_ < 300) {
        state_->exported += static_cast<int64_t>(spans_);
      } else {
        ++state_->failed;
      }
    }
    state_->wake.notify_one();
  }

 private:
  const std::shared_ptr<State> state_;
  const size_t spans_;
  int http_status_ = 0;
};

OtlpExporter::OtlpExporter(Transport* transport, OtlpExporterOptions options)
    : transport_(transport),
      options_(std::move(options)),
      url_(absl::EndsWith(options_.endpoint, "/v1/traces")
               ? options_.endpoint
               : absl::StrCat(absl::StripSuffix(options_.endpoint, "/"), "/v1/traces")),
      state_(std::make_shared<State>()),
      thread_([this] { Run(); }) {}

OtlpExporter::~OtlpExporter() { Shutdown(); }

void OtlpExporter::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopping) return;
    state_->stopping = true;
  }
  state_->wake.notify_one();
  thread_.join();
  // What is queued goes out now, each batch once; the transport is about to go, so wait (a
  // bounded time) for the answers instead of leaving the requests to its teardown.
  const absl::Time until = absl::Now() + options_.shutdown_wait;
  while (absl::Now() < until) {
    {
      std::unique_lock<std::mutex> lock(state_->mu);
      state_->wake.wait_for(lock, absl::ToChronoMilliseconds(until - absl::Now()),
                            [this] { return !state_->in_flight; });
      if (state_->in_flight || state_->queue.empty()) return;
    }
    MaybeExport();
  }
}

int64_t OtlpExporter::dropped_spans() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->dropped;
}
int64_t OtlpExporter::exported_spans() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->exported;
}
int64_t OtlpExporter::failed_exports() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->failed;
}

void OtlpExporter::OnCallEnd(const CallRecord& record) {
  std::string span = FormatOtlpSpan(record);
  bool batch_full;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopping || state_->queue.size() >= options_.max_queued_spans) {
      ++state_->dropped;
      return;
    }
    state_->queue.push_back(std::move(span));
    batch_full = state_->queue.size() >= options_.max_batch_spans;
  }
  if (batch_full) state_->wake.notify_one();
}

void OtlpExporter::Run() {
  std::unique_lock<std::mutex> lock(state_->mu);
  while (!state_->stopping) {
    state_->wake.wait_for(lock, absl::ToChronoMilliseconds(options_.flush_interval), [this] {
      return state_->stopping || (!state_->in_flight && state_->queue.size() >= options_.max_batch_spans);
    });
    if (state_->stopping) return;
    lock.unlock();
    MaybeExport();
    lock.lock();
  }
}

void OtlpExporter::MaybeExport() {
  std::string body;
  size_t spans = 0;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->in_flight || state_->queue.empty()) return;
    state_->in_flight = true;
    body = absl::StrCat(
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":"
        "\"claude-grpc\"}},{\"key\":\"service.version\",\"value\":{\"stringValue\":\"",
        BuildVersion(), "\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"claude-grpc\"},\"spans\":[");
    while (!state_->queue.empty() && spans < options_.max_batch_spans) {
      if (spans > 0) body.push_back(',');
      body += state_->queue.front();
      state_->queue.pop_front();
      ++spans;
    }
    body += "]}]}]}";
  }
  HttpRequest request;
  request.method = "POST";
  request.url = url_;
  request.headers = {{"content-type", "application/json"}};
  request.body = std::make_shared<const std::string>(std::move(body));
  request.timeout = options_.export_timeout;
  // No signer: the collector never sees the upstream's credentials.
  transport_->Start(std::move(request), std::make_shared<ExportSink>(state_, spans), absl::ZeroDuration());
}

}  // namespace claude
