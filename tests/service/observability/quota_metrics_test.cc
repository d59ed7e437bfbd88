// The shared quota's metrics, fed through the observer calls the Redis client, the quota store
// and the spend accounting make, and read back from the registry: round trips in their buckets,
// errors by kind, fail-open admissions, and dollars spent by (bounded) caller and model.
#include "service/observability/quota_metrics.h"

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "tests/testing/collected_metrics.h"

namespace claude {
namespace {

using ::claude::testing::CollectCounter;
using ::claude::testing::CollectFamily;
using ::claude::testing::CollectSeries;
using ::claude::testing::FindFamily;
using ::claude::testing::LabelsOf;
using ::claude::testing::MetricLabels;
using ::testing::DoubleNear;
using ::testing::ElementsAreArray;
using ::testing::NotNull;
using ::testing::UnorderedElementsAre;

class QuotaMetricsTest : public ::testing::Test {
 protected:
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
};

TEST_F(QuotaMetricsTest, RoundTripsAreObservedInMicrosecondBuckets) {
  QuotaMetrics metrics(registry_);
  metrics.OnReply(absl::Microseconds(80));
  metrics.OnReply(absl::Milliseconds(3));
  const std::vector<prometheus::MetricFamily> families = registry_->Collect();
  const prometheus::MetricFamily* family =
      FindFamily(families, "claude_grpc_redis_round_trip_seconds");
  ASSERT_THAT(family, NotNull());
  EXPECT_EQ(family->type, prometheus::MetricType::Histogram);
  ASSERT_EQ(family->metric.size(), 1u);
  const prometheus::ClientMetric::Histogram& histogram = family->metric[0].histogram;
  EXPECT_EQ(histogram.sample_count, 2u);
  EXPECT_THAT(histogram.sample_sum, DoubleNear(0.00308, 1e-12));
  std::vector<double> bounds;
  std::vector<uint64_t> counts;
  for (const auto& bucket : histogram.bucket) {
    bounds.push_back(bucket.upper_bound);
    counts.push_back(bucket.cumulative_count);
  }
  EXPECT_THAT(bounds,
              ElementsAreArray({0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                0.05, 0.1, 0.25, 0.5, std::numeric_limits<double>::infinity()}));
  EXPECT_THAT(counts, ElementsAreArray<uint64_t>({0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2}));
}

TEST_F(QuotaMetricsTest, ErrorsAreCountedByKind) {
  QuotaMetrics metrics(registry_);
  EXPECT_EQ(CollectFamily(*registry_, "claude_grpc_redis_errors_total"), std::nullopt)
      << "no error, no series";
  metrics.OnError("connect");
  metrics.OnError("timeout");
  metrics.OnError("connect");
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_redis_errors_total", {{"kind", "connect"}}), 2);
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_redis_errors_total", {{"kind", "timeout"}}), 1);
  EXPECT_EQ(CollectFamily(*registry_, "claude_grpc_redis_errors_total").value().metric.size(), 2u);
}

TEST_F(QuotaMetricsTest, FailOpenAdmissionsAreCountedFromZero) {
  QuotaMetrics metrics(registry_);
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_quota_fail_open_admissions_total"), 0)
      << "exported before the first";
  metrics.OnFailOpen();
  metrics.OnFailOpen();
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_quota_fail_open_admissions_total"), 2);
}

TEST_F(QuotaMetricsTest, SpendIsInDollarsByCallerAndModel) {
  QuotaMetrics metrics(registry_);
  metrics.OnSpend("alice", "claude-sonnet-4-5", 1'500'000);
  metrics.OnSpend("alice", "claude-sonnet-4-5", 250);
  metrics.OnSpend("bob", "claude-haiku-4-5", 0);  // free calls make no series
  metrics.OnSpend("bob", "claude-haiku-4-5", -5);
  const std::optional<prometheus::MetricFamily> spend =
      CollectFamily(*registry_, "claude_grpc_spend_usd_total");
  ASSERT_TRUE(spend.has_value());
  EXPECT_EQ(spend->type, prometheus::MetricType::Counter);
  ASSERT_EQ(spend->metric.size(), 1u);
  EXPECT_EQ(LabelsOf(spend->metric[0]),
            (MetricLabels{{"caller", "alice"}, {"model", "claude-sonnet-4-5"}}));
  EXPECT_THAT(spend->metric[0].counter.value, DoubleNear(1.50025, 1e-12));
}

TEST_F(QuotaMetricsTest, SpendLabelsAreBounded) {
  QuotaMetrics metrics(registry_, /*max_label_values=*/1);
  metrics.OnSpend("alice", "model-a", 1'000'000);
  metrics.OnSpend("bob", "model-b", 2'000'000);
  metrics.OnSpend("carol", "model-a", 4'000'000);
  std::vector<MetricLabels> series;
  const std::optional<prometheus::MetricFamily> spend =
      CollectFamily(*registry_, "claude_grpc_spend_usd_total");
  ASSERT_TRUE(spend.has_value());
  for (const prometheus::ClientMetric& metric : spend->metric) {
    series.push_back(LabelsOf(metric));
  }
  EXPECT_THAT(series,
              UnorderedElementsAre(MetricLabels{{"caller", "alice"}, {"model", "model-a"}},
                                   MetricLabels{{"caller", "other"}, {"model", "other"}},
                                   MetricLabels{{"caller", "other"}, {"model", "model-a"}}));
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_spend_usd_total",
                           {{"caller", "other"}, {"model", "other"}}),
            2);
}

}  // namespace
}  // namespace claude
