// Prometheus metrics of the shared quota store and of spend: Redis round trips and errors,
// admissions decided without Redis (fail open), and US dollars charged by caller and model.
#ifndef SERVICE_OBSERVABILITY_QUOTA_METRICS_H_
#define SERVICE_OBSERVABILITY_QUOTA_METRICS_H_

#include <cstdint>
#include <memory>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/observability/bounded_label.h"
#include "service/quota/redis_client.h"
#include "service/quota/redis_quota.h"

namespace claude {

class QuotaMetrics final : public RedisObserver, public QuotaFailOpenObserver {
 public:
  explicit QuotaMetrics(std::shared_ptr<prometheus::Registry> registry, size_t max_label_values = 100);

  void OnReply(absl::Duration round_trip) override;
  void OnError(absl::string_view what) override;
  void OnFailOpen() override;
  // A finished call's cost, charged to `caller`.
  void OnSpend(absl::string_view caller, absl::string_view model, int64_t usd_micros);

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  BoundedLabel models_;
  BoundedLabel callers_;
  prometheus::Histogram& round_trip_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Counter& fail_open_;
  prometheus::Family<prometheus::Counter>& spend_;
};

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_QUOTA_METRICS_H_
