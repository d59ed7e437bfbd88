#include "service/observability/rpc_metrics.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace claude {
namespace {

// Whole RPCs: from a millisecond to a long generation (the default upstream timeout is 15 min).
const prometheus::Histogram::BucketBoundaries kDurationBuckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900};
const prometheus::Histogram::BucketBoundaries kTimeToFirstTokenBuckets = {
    0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 20, 30, 60};
// The server's own share: tens of microseconds when all is well.
const prometheus::Histogram::BucketBoundaries kServerAddedBuckets = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1};

std::string CodeName(grpc::StatusCode code) {
  // gRPC's codes and absl's share their numbers and names.
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

// The OpenTelemetry GenAI attributes (dots become underscores in Prometheus) beside the labels
// kept for compatibility.
prometheus::Labels WithGenAi(prometheus::Labels labels, absl::string_view method, const std::string& model) {
  labels.emplace("gen_ai_operation_name", GenAiOperationName(method));
  labels.emplace("gen_ai_request_model", model);
  labels.emplace("gen_ai_provider_name", "anthropic");
  return labels;
}

}  // namespace

const char* GenAiOperationName(absl::string_view method) {
  if (method == kCreateMessageMethod || method == kStreamMessageMethod) return "chat";
  if (method == kCountTokensMethod) return "count_tokens";
  if (method == kListModelsMethod) return "list_models";
  if (method == kGetModelMethod) return "get_model";
  return "other";
}

RpcMetrics::RpcMetrics(std::shared_ptr<prometheus::Registry> registry, size_t max_label_values)
    : registry_(std::move(registry)),
      models_(max_label_values),
      callers_(max_label_values),
      rpcs_(prometheus::BuildCounter()
                .Name("claude_grpc_rpcs_total")
                .Help("RPCs answered, by method, model, caller and gRPC status code.")
                .Register(*registry_)),
      duration_(prometheus::BuildHistogram()
                    .Name("gen_ai_server_request_duration_seconds")
                    .Help("RPC latency: from the handler to the final status, in seconds.")
                    .Register(*registry_)),
      time_to_first_token_(prometheus::BuildHistogram()
                               .Name("gen_ai_server_time_to_first_token_seconds")
                               .Help("StreamMessage: time until the first content_block_delta is "
                                     "sent to the caller, in seconds.")
                               .Register(*registry_)),
      server_added_(prometheus::BuildHistogram()
                        .Name("claude_grpc_server_added_latency_seconds")
                        .Help("RPC latency minus upstream time (first attempt's start to the "
                              "last attempt's end), in seconds; RPCs that reached the upstream.")
                        .Register(*registry_)),
      tokens_(prometheus::BuildCounter()
                  .Name("claude_grpc_tokens_total")
                  .Help("Tokens the upstream reported, by model, caller and token_type (input, "
                        "output, cache_read_input, cache_creation_input).")
                  .Register(*registry_)),
      upstream_responses_(prometheus::BuildCounter()
                              .Name("claude_grpc_upstream_responses_total")
                              .Help("Upstream attempts by HTTP status (\"none\": no response, "
                                    "e.g. a connection failure).")
                              .Register(*registry_)),
      retries_(prometheus::BuildCounter()
                   .Name("claude_grpc_upstream_retries_total")
                   .Help("Upstream requests retried, by method.")
                   .Register(*registry_)),
      upstream_attempts_(prometheus::BuildCounter()
                             .Name("claude_grpc_upstream_attempts_total")
                             .Help("Attempts on each upstream of the upstreams file, by HTTP "
                                   "status (\"none\": no response).")
                             .Register(*registry_)),
      failovers_(prometheus::BuildCounter()
                     .Name("claude_grpc_upstream_failovers_total")
                     .Help("Calls that left an upstream of the upstreams file for another after "
                           "a failed attempt, by the upstream left.")
                     .Register(*registry_)),
      upstream_latency_(prometheus::BuildHistogram()
                            .Name("claude_grpc_upstream_latency_seconds")
                            .Help("Time each upstream of the upstreams file took to answer an "
                                  "attempt: from the request leaving (a wait for one of its "
                                  "max_connections included) to the response head, or to the "
                                  "failure when none came, in seconds.")
                            .Register(*registry_)),
      dropped_response_headers_(prometheus::BuildCounter()
                                    .Name("claude_grpc_upstream_headers_dropped_total")
                                    .Help("Upstream response headers not forwarded to callers as "
                                          "metadata: values gRPC refuses (not printable ASCII) "
                                          "or past the size bounds.")
                                    .Register(*registry_)
                                    .Add({})),
      live_streams_(prometheus::BuildGauge()
                        .Name("claude_grpc_live_streams")
                        .Help("StreamMessage RPCs in flight.")
                        .Register(*registry_)
                        .Add({})) {}

void RpcMetrics::OnCallStart(const CallRecord& record) {
  if (record.method == kStreamMessageMethod) live_streams_.Increment();
}

void RpcMetrics::OnCallEnd(const CallRecord& record) {
  if (record.method == kStreamMessageMethod) live_streams_.Decrement();
  const std::string model = models_.Get(record.model);
  const std::string caller = callers_.Get(record.caller);
  const std::string code = CodeName(record.code);
  // error.type: empty (so absent) for a success, else the status code's name.
  const std::string error_type = record.code == grpc::StatusCode::OK ? "" : code;
  rpcs_.Add(WithGenAi({{"method", record.method}, {"model", model}, {"caller", caller}, {"grpc_code", code},
                       {"error_type", error_type}},
                      record.method, model))
      .Increment();
  const absl::Duration latency = record.latency();
  duration_.Add(WithGenAi({{"method", record.method}, {"model", model}, {"grpc_code", code}, {"error_type", error_type}},
                          record.method, model),
                kDurationBuckets)
      .Observe(Seconds(latency));
  if (std::optional<absl::Duration> ttft = record.time_to_first_token()) {
    time_to_first_token_.Add(WithGenAi({{"model", model}}, record.method, model), kTimeToFirstTokenBuckets)
        .Observe(Seconds(*ttft));
  }
  if (std::optional<absl::Duration> upstream = record.upstream_time()) {
    server_added_.Add({{"method", record.method}}, kServerAddedBuckets)
        .Observe(Seconds(std::max(latency - *upstream, absl::ZeroDuration())));
  }
  if (record.usage) {
    const auto add = [&](const std::string& type, int64_t n) {
      if (n > 0) {
        tokens_.Add(WithGenAi({{"model", model}, {"caller", caller}, {"token_type", type}}, record.method, model))
            .Increment(static_cast<double>(n));
      }
    };
    for (const auto& [type, n] : record.usage->tokens) add(type, n);
  }
  for (int status : record.attempt_statuses) {
    upstream_responses_.Add({{"http_status", status == 0 ? "none" : absl::StrCat(status)}}).Increment();
  }
  if (record.dropped_response_headers > 0) {
    dropped_response_headers_.Increment(record.dropped_response_headers);
  }
  if (record.retries > 0) {
    retries_.Add({{"method", record.method}}).Increment(record.retries);
  }
  const auto& upstreams = record.attempt_upstreams;
  for (size_t i = 0; i < upstreams.size() && !upstreams[i].empty(); ++i) {
    const int status = i < record.attempt_statuses.size() ? record.attempt_statuses[i] : 0;
    upstream_attempts_.Add({{"upstream", upstreams[i]}, {"http_status", status == 0 ? "none" : absl::StrCat(status)}})
        .Increment();
    if (i > 0 && upstreams[i] != upstreams[i - 1]) failovers_.Add({{"upstream", upstreams[i - 1]}}).Increment();
    if (i < record.attempt_latencies.size()) {
      upstream_latency_.Add({{"upstream", upstreams[i]}}, kDurationBuckets)
          .Observe(Seconds(record.attempt_latencies[i]));
    }
  }
}

}  // namespace claude
