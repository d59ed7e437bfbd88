// Prometheus metrics of the RPCs the server answers, fed by their CallRecords. The names follow
// the OpenTelemetry GenAI semantic conventions where one fits (gen_ai.server.request.duration,
// gen_ai.server.time_to_first_token); README.md's "Observability" section lists them all.
#ifndef SERVICE_OBSERVABILITY_RPC_METRICS_H_
#define SERVICE_OBSERVABILITY_RPC_METRICS_H_

#include <memory>
#include <mutex>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "service/rpc/call_record.h"

namespace claude {

class RpcMetrics final : public CallObserver {
 public:
  // Registers the metric families in `registry` (kept alive: it owns them). Model and caller
  // label values are caller-controlled: past `max_label_values` distinct values each, new ones
  // count as "other".
  explicit RpcMetrics(std::shared_ptr<prometheus::Registry> registry, size_t max_label_values = 100);

  void OnCallStart(const CallRecord& record) override;
  void OnCallEnd(const CallRecord& record) override;

 private:
  // A bounded set of label values: a value seen before, or a new one while there is room, is
  // itself; any other is "other".
  class BoundedLabel {
   public:
    explicit BoundedLabel(size_t max) : max_(max) {}
    std::string Get(absl::string_view value);

   private:
    const size_t max_;
    std::mutex mu_;
    absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  };

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
  prometheus::Counter& dropped_response_headers_;
  prometheus::Gauge& live_streams_;
};

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_RPC_METRICS_H_
