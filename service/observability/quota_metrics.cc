#include "service/observability/quota_metrics.h"

#include <string>

namespace claude {

QuotaMetrics::QuotaMetrics(std::shared_ptr<prometheus::Registry> registry, size_t max_label_values)
    : registry_(std::move(registry)),
      models_(max_label_values),
      callers_(max_label_values),
      // A loopback round trip is tens of microseconds; a remote one a millisecond or so.
      round_trip_(
          prometheus::BuildHistogram()
              .Name("claude_grpc_redis_round_trip_seconds")
              .Help("Redis commands: from sending to the reply, in seconds.")
              .Register(*registry_)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.00005, 0.0001, 0.00025, 0.0005,
                                                               0.001, 0.0025, 0.005, 0.01, 0.025,
                                                               0.05, 0.1, 0.25, 0.5})),
      errors_(
          prometheus::BuildCounter()
              .Name("claude_grpc_redis_errors_total")
              .Help(
                  "Redis failures by kind: connect, tls (a failed handshake), disconnect, timeout, "
                  "error (an error reply), unavailable (a command while there was no connection).")
              .Register(*registry_)),
      fail_open_(
          prometheus::BuildCounter()
              .Name("claude_grpc_quota_fail_open_admissions_total")
              .Help("Calls admitted on the replica's own counts because Redis could not answer "
                    "(--redis_failure=open).")
              .Register(*registry_)
              .Add({})),
      spend_(prometheus::BuildCounter()
                 .Name("claude_grpc_spend_usd_total")
                 .Help("US dollars charged to callers' budgets (from --prices_file), by caller and "
                       "model.")
                 .Register(*registry_)) {}

void QuotaMetrics::OnReply(absl::Duration round_trip) { round_trip_.Observe(absl::ToDoubleSeconds(round_trip)); }

void QuotaMetrics::OnError(absl::string_view what) { errors_.Add({{"kind", std::string(what)}}).Increment(); }

void QuotaMetrics::OnFailOpen() { fail_open_.Increment(); }

void QuotaMetrics::OnSpend(absl::string_view caller, absl::string_view model, int64_t usd_micros) {
  if (usd_micros <= 0) return;
  spend_.Add({{"caller", callers_.Get(caller)}, {"model", models_.Get(model)}})
      .Increment(static_cast<double>(usd_micros) / 1e6);
}

}  // namespace claude
