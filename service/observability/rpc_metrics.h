// Prometheus metrics of the RPCs the server answers, fed by their CallRecords. The names follow
// the OpenTelemetry GenAI semantic conventions where one fits (gen_ai.server.request.duration,
// gen_ai.server.time_to_first_token); README.md's "Observability" section lists them all.
#ifndef SERVICE_OBSERVABILITY_RPC_METRICS_H_
#define SERVICE_OBSERVABILITY_RPC_METRICS_H_

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "service/observability/bounded_label.h"
#include "service/rpc/call_record.h"

namespace claude {

// gen_ai.operation.name of an RPC: "chat" for the Messages API's generation (the convention's
// value), our own names for the others ("count_tokens", "list_models", "get_model").
const char* GenAiOperationName(absl::string_view method);

class RpcMetrics final : public CallObserver {
 public:
  // Registers the metric families in `registry` (kept alive: it owns them). Model and caller
  // label values are caller-controlled: past `max_label_values` distinct values each, new ones
  // count as "other".
  explicit RpcMetrics(std::shared_ptr<prometheus::Registry> registry, size_t max_label_values = 100);

  void OnCallStart(const CallRecord& record) override;
  void OnCallEnd(const CallRecord& record) override;

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  BoundedLabel models_;
  BoundedLabel callers_;
  prometheus::Family<prometheus::Counter>& rpcs_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Histogram>& time_to_first_token_;
  prometheus::Family<prometheus::Histogram>& server_added_;
  prometheus::Family<prometheus::Counter>& tokens_;
  prometheus::Family<prometheus::Counter>& upstream_responses_;
  prometheus::Family<prometheus::Counter>& retries_;
  // With an upstreams file (names come from it, so they are bounded).
  prometheus::Family<prometheus::Counter>& upstream_attempts_;
  prometheus::Family<prometheus::Counter>& failovers_;
  prometheus::Family<prometheus::Histogram>& upstream_latency_;
  prometheus::Counter& dropped_response_headers_;
  prometheus::Gauge& live_streams_;
};

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_RPC_METRICS_H_
