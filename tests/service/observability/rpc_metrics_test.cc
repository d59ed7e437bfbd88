// The Prometheus metrics of RPCs, fed CallRecords built by hand and read back from the registry
// (as a scrape would get them): every family and label README.md's "Observability" lists,
// counted and observed as rpc_metrics.h promises, and caller-controlled label values bounded.
#include "service/observability/rpc_metrics.h"

#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
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
using ::claude::testing::FindSeries;
using ::claude::testing::LabelsOf;
using ::claude::testing::MetricLabels;
using ::testing::DoubleNear;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::IsNull;
using ::testing::Not;
using ::testing::NotNull;
using ::testing::UnorderedElementsAre;

using Ms = std::chrono::milliseconds;

// Far from the clock's epoch, which CallRecord reads as "never".
const CallRecord::Clock::time_point kStart =
    CallRecord::Clock::time_point{} + std::chrono::hours(1);

CallRecord Record(const std::string& method, const std::string& model = "claude-sonnet-4-5",
                  const std::string& caller = "alice") {
  CallRecord record;
  record.method = method;
  record.model = model;
  record.caller = caller;
  record.started = kStart;
  record.ended = kStart + Ms(120);
  return record;
}

// A 120 ms stream whose first token came at 40 ms, after an upstream attempt from 1 to 90 ms.
CallRecord StreamRecord() {
  CallRecord record = Record(kStreamMessageMethod);
  record.first_token = kStart + Ms(40);
  record.upstream_started = kStart + Ms(1);
  record.upstream_ended = kStart + Ms(90);
  return record;
}

// `labels` and the OpenTelemetry GenAI attributes every per-model series carries beside them.
MetricLabels WithGenAi(MetricLabels labels, const std::string& operation,
                       const std::string& model) {
  labels["gen_ai_operation_name"] = operation;
  labels["gen_ai_request_model"] = model;
  labels["gen_ai_provider_name"] = "anthropic";
  return labels;
}

class RpcMetricsTest : public ::testing::Test {
 protected:
  std::vector<prometheus::MetricFamily> Collect() const { return registry_->Collect(); }
  const prometheus::ClientMetric::Histogram* Histogram(
      const std::vector<prometheus::MetricFamily>& families, const std::string& name,
      const MetricLabels& labels) const {
    const prometheus::ClientMetric* series = FindSeries(families, name, labels);
    return series == nullptr ? nullptr : &series->histogram;
  }

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
};

TEST_F(RpcMetricsTest, TheUnlabelledSeriesExistBeforeAnyCall) {
  RpcMetrics metrics(registry_);
  const std::vector<prometheus::MetricFamily> families = Collect();
  const prometheus::MetricFamily* streams = FindFamily(families, "claude_grpc_live_streams");
  ASSERT_THAT(streams, NotNull());
  EXPECT_EQ(streams->type, prometheus::MetricType::Gauge);
  ASSERT_EQ(streams->metric.size(), 1u);
  EXPECT_EQ(streams->metric[0].gauge.value, 0);
  const prometheus::MetricFamily* dropped =
      FindFamily(families, "claude_grpc_upstream_headers_dropped_total");
  ASSERT_THAT(dropped, NotNull());
  EXPECT_EQ(dropped->type, prometheus::MetricType::Counter);
  ASSERT_EQ(dropped->metric.size(), 1u);
  EXPECT_EQ(dropped->metric[0].counter.value, 0);
}

TEST_F(RpcMetricsTest, EveryFamilyHasItsTypeOnceItHasASeries) {
  RpcMetrics metrics(registry_);
  CallRecord record = StreamRecord();
  record.attempt_statuses = {529, 200};
  record.attempt_upstreams = {"primary", "backup"};
  record.attempt_latencies = {absl::Milliseconds(10), absl::Milliseconds(20)};
  record.retries = 1;
  record.dropped_response_headers = 1;
  record.usage = CallUsage{{{"input", 1}}};
  metrics.OnCallStart(record);
  metrics.OnCallEnd(record);

  const std::vector<prometheus::MetricFamily> families = Collect();
  const std::vector<std::pair<std::string, prometheus::MetricType>> expected = {
      {"claude_grpc_rpcs_total", prometheus::MetricType::Counter},
      {"gen_ai_server_request_duration_seconds", prometheus::MetricType::Histogram},
      {"gen_ai_server_time_to_first_token_seconds", prometheus::MetricType::Histogram},
      {"claude_grpc_server_added_latency_seconds", prometheus::MetricType::Histogram},
      {"claude_grpc_tokens_total", prometheus::MetricType::Counter},
      {"claude_grpc_upstream_responses_total", prometheus::MetricType::Counter},
      {"claude_grpc_upstream_retries_total", prometheus::MetricType::Counter},
      {"claude_grpc_upstream_attempts_total", prometheus::MetricType::Counter},
      {"claude_grpc_upstream_failovers_total", prometheus::MetricType::Counter},
      {"claude_grpc_upstream_latency_seconds", prometheus::MetricType::Histogram},
      {"claude_grpc_upstream_headers_dropped_total", prometheus::MetricType::Counter},
      {"claude_grpc_live_streams", prometheus::MetricType::Gauge},
  };
  for (const auto& [name, type] : expected) {
    const prometheus::MetricFamily* family = FindFamily(families, name);
    ASSERT_THAT(family, NotNull()) << name;
    EXPECT_EQ(family->type, type) << name;
    EXPECT_FALSE(family->help.empty()) << name;
    EXPECT_THAT(family->metric, Not(IsEmpty())) << name;
  }
  EXPECT_EQ(families.size(), expected.size()) << "a family this test does not know";
}

TEST_F(RpcMetricsTest, LiveStreamsCountStreamsBetweenStartAndEnd) {
  RpcMetrics metrics(registry_);
  const auto live = [&] {
    return CollectSeries(*registry_, "claude_grpc_live_streams").value().gauge.value;
  };
  const CallRecord stream = Record(kStreamMessageMethod);
  const CallRecord unary = Record(kCreateMessageMethod);
  metrics.OnCallStart(stream);
  metrics.OnCallStart(stream);
  metrics.OnCallStart(unary);
  EXPECT_EQ(live(), 2);
  metrics.OnCallEnd(stream);
  EXPECT_EQ(live(), 1);
  metrics.OnCallEnd(unary);
  EXPECT_EQ(live(), 1);
  metrics.OnCallEnd(stream);
  EXPECT_EQ(live(), 0);
}

TEST_F(RpcMetricsTest, EachRpcIsCountedWithItsLabelsAndTheGenAiAttributes) {
  RpcMetrics metrics(registry_);
  CallRecord ok = Record(kStreamMessageMethod);
  metrics.OnCallEnd(ok);
  metrics.OnCallEnd(ok);
  CallRecord failed = Record(kCountTokensMethod, "claude-haiku-4-5", "bob");
  failed.code = grpc::StatusCode::UNAVAILABLE;
  metrics.OnCallEnd(failed);

  const std::vector<prometheus::MetricFamily> families = Collect();
  const prometheus::MetricFamily* rpcs = FindFamily(families, "claude_grpc_rpcs_total");
  ASSERT_THAT(rpcs, NotNull());
  ASSERT_EQ(rpcs->metric.size(), 2u);
  // The series of one code: all its labels, and how many RPCs it counted.
  const auto expect_series = [&families](const std::string& code, const MetricLabels& labels,
                                         double count) {
    const prometheus::ClientMetric* series =
        FindSeries(families, "claude_grpc_rpcs_total", {{"grpc_code", code}});
    ASSERT_THAT(series, NotNull()) << code;
    EXPECT_EQ(LabelsOf(*series), labels) << code;
    EXPECT_EQ(series->counter.value, count) << code;
  };
  // error_type is empty for a success, which Prometheus reads as absent.
  expect_series("OK",
                WithGenAi({{"method", kStreamMessageMethod},
                           {"model", "claude-sonnet-4-5"},
                           {"caller", "alice"},
                           {"grpc_code", "OK"},
                           {"error_type", ""}},
                          "chat", "claude-sonnet-4-5"),
                2);
  expect_series("UNAVAILABLE",
                WithGenAi({{"method", kCountTokensMethod},
                           {"model", "claude-haiku-4-5"},
                           {"caller", "bob"},
                           {"grpc_code", "UNAVAILABLE"},
                           {"error_type", "UNAVAILABLE"}},
                          "count_tokens", "claude-haiku-4-5"),
                1);
}

TEST_F(RpcMetricsTest, DurationIsObservedInItsBuckets) {
  RpcMetrics metrics(registry_);
  metrics.OnCallEnd(Record(kCreateMessageMethod));  // 120 ms
  const std::vector<prometheus::MetricFamily> families = Collect();
  const prometheus::ClientMetric* series =
      FindSeries(families, "gen_ai_server_request_duration_seconds");
  ASSERT_THAT(series, NotNull());
  EXPECT_EQ(LabelsOf(*series), WithGenAi({{"method", kCreateMessageMethod},
                                          {"model", "claude-sonnet-4-5"},
                                          {"grpc_code", "OK"},
                                          {"error_type", ""}},
                                         "chat", "claude-sonnet-4-5"))
      << "no caller: the histogram's series stay few";
  EXPECT_EQ(series->histogram.sample_count, 1u);
  EXPECT_THAT(series->histogram.sample_sum, DoubleNear(0.12, 1e-9));
  std::vector<double> bounds;
  for (const auto& bucket : series->histogram.bucket) {
    bounds.push_back(bucket.upper_bound);
    EXPECT_EQ(bucket.cumulative_count, bucket.upper_bound >= 0.12 ? 1u : 0u)
        << "le=" << bucket.upper_bound;
  }
  EXPECT_THAT(bounds, ElementsAreArray({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1., 2.5, 5., 10.,
                                        30., 60., 120., 300., 600., 900.,
                                        std::numeric_limits<double>::infinity()}));
  EXPECT_THAT(FindSeries(families, "gen_ai_server_time_to_first_token_seconds"), IsNull())
      << "no first token, no observation";
  EXPECT_THAT(FindSeries(families, "claude_grpc_server_added_latency_seconds"), IsNull())
      << "no upstream attempt, no server-added latency";
}

TEST_F(RpcMetricsTest, TimeToFirstTokenAndTheServersShare) {
  RpcMetrics metrics(registry_);
  CallRecord record = StreamRecord();
  metrics.OnCallEnd(record);
  const std::vector<prometheus::MetricFamily> families = Collect();

  const prometheus::ClientMetric* ttft =
      FindSeries(families, "gen_ai_server_time_to_first_token_seconds");
  ASSERT_THAT(ttft, NotNull());
  EXPECT_EQ(LabelsOf(*ttft),
            WithGenAi({{"model", "claude-sonnet-4-5"}}, "chat", "claude-sonnet-4-5"));
  EXPECT_EQ(ttft->histogram.sample_count, 1u);
  EXPECT_THAT(ttft->histogram.sample_sum, DoubleNear(0.04, 1e-9));

  const prometheus::ClientMetric* added = FindSeries(
      families, "claude_grpc_server_added_latency_seconds", {{"method", kStreamMessageMethod}});
  ASSERT_THAT(added, NotNull());
  EXPECT_EQ(added->histogram.sample_count, 1u);
  EXPECT_THAT(added->histogram.sample_sum, DoubleNear(0.120 - 0.089, 1e-9))
      << "latency minus upstream time";
}

TEST_F(RpcMetricsTest, TheServersShareIsNeverNegative) {
  RpcMetrics metrics(registry_);
  CallRecord record = Record(kCreateMessageMethod);
  // The call stopped waiting for the upstream after its status was decided.
  record.upstream_started = kStart;
  record.upstream_ended = kStart + Ms(500);
  metrics.OnCallEnd(record);
  const std::optional<prometheus::ClientMetric> added =
      CollectSeries(*registry_, "claude_grpc_server_added_latency_seconds");
  ASSERT_TRUE(added.has_value());
  EXPECT_EQ(added->histogram.sample_count, 1u);
  EXPECT_EQ(added->histogram.sample_sum, 0);
}

TEST_F(RpcMetricsTest, TokensAreCountedByTypeWhenTheUpstreamReportedSome) {
  RpcMetrics metrics(registry_);
  CallRecord record = Record(kCreateMessageMethod);
  record.usage = CallUsage{{{"input", 12}, {"output", 34}, {"cache_read_input", 0}}};
  metrics.OnCallEnd(record);
  metrics.OnCallEnd(record);
  metrics.OnCallEnd(Record(kCreateMessageMethod));  // no usage reported

  const MetricLabels labels = {{"model", "claude-sonnet-4-5"}, {"caller", "alice"}};
  MetricLabels input = labels;
  input["token_type"] = "input";
  MetricLabels output = labels;
  output["token_type"] = "output";
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_tokens_total", input), 24);
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_tokens_total", output), 68);
  EXPECT_EQ(
      CollectCounter(*registry_, "claude_grpc_tokens_total", {{"token_type", "cache_read_input"}}),
      -1)
      << "no zero series";
  const std::optional<prometheus::ClientMetric> series =
      CollectSeries(*registry_, "claude_grpc_tokens_total", input);
  ASSERT_TRUE(series.has_value());
  EXPECT_EQ(
      LabelsOf(*series),
      WithGenAi({{"model", "claude-sonnet-4-5"}, {"caller", "alice"}, {"token_type", "input"}},
                "chat", "claude-sonnet-4-5"));
}

TEST_F(RpcMetricsTest, UpstreamResponsesRetriesAndDroppedHeaders) {
  RpcMetrics metrics(registry_);
  CallRecord record = Record(kCreateMessageMethod);
  record.attempt_statuses = {0, 529, 200};
  record.retries = 2;
  record.dropped_response_headers = 3;
  metrics.OnCallEnd(record);
  metrics.OnCallEnd(Record(kCountTokensMethod));  // no attempt, no retry

  EXPECT_EQ(
      CollectCounter(*registry_, "claude_grpc_upstream_responses_total", {{"http_status", "none"}}),
      1)
      << "an attempt without a response";
  EXPECT_EQ(
      CollectCounter(*registry_, "claude_grpc_upstream_responses_total", {{"http_status", "529"}}),
      1);
  EXPECT_EQ(
      CollectCounter(*registry_, "claude_grpc_upstream_responses_total", {{"http_status", "200"}}),
      1);
  EXPECT_EQ(CollectFamily(*registry_, "claude_grpc_upstream_responses_total").value().metric.size(),
            3u);
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_upstream_retries_total",
                           {{"method", kCreateMessageMethod}}),
            2);
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_upstream_retries_total",
                           {{"method", kCountTokensMethod}}),
            -1);
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_upstream_headers_dropped_total"), 3);
  EXPECT_EQ(CollectFamily(*registry_, "claude_grpc_upstream_attempts_total"), std::nullopt)
      << "attempts on the one unnamed upstream are not counted per upstream";
}

TEST_F(RpcMetricsTest, AttemptsFailoversAndLatencyPerNamedUpstream) {
  RpcMetrics metrics(registry_);
  CallRecord record = Record(kCreateMessageMethod);
  record.attempt_upstreams = {"primary", "primary", "backup"};
  record.attempt_statuses = {529, 0, 200};
  record.attempt_latencies = {absl::Milliseconds(10), absl::Milliseconds(20),
                              absl::Milliseconds(30)};
  metrics.OnCallEnd(record);
  const std::vector<prometheus::MetricFamily> families = Collect();

  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_upstream_attempts_total",
                           {{"upstream", "primary"}, {"http_status", "529"}}),
            1);
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_upstream_attempts_total",
                           {{"upstream", "primary"}, {"http_status", "none"}}),
            1);
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_upstream_attempts_total",
                           {{"upstream", "backup"}, {"http_status", "200"}}),
            1);
  // A retry on the same upstream is no failover; leaving primary for backup is one.
  const prometheus::MetricFamily* failovers =
      FindFamily(families, "claude_grpc_upstream_failovers_total");
  ASSERT_THAT(failovers, NotNull());
  ASSERT_EQ(failovers->metric.size(), 1u);
  EXPECT_EQ(LabelsOf(failovers->metric[0]), (MetricLabels{{"upstream", "primary"}}));
  EXPECT_EQ(failovers->metric[0].counter.value, 1);

  const auto* primary =
      Histogram(families, "claude_grpc_upstream_latency_seconds", {{"upstream", "primary"}});
  ASSERT_THAT(primary, NotNull());
  EXPECT_EQ(primary->sample_count, 2u);
  EXPECT_THAT(primary->sample_sum, DoubleNear(0.030, 1e-9));
  const auto* backup =
      Histogram(families, "claude_grpc_upstream_latency_seconds", {{"upstream", "backup"}});
  ASSERT_THAT(backup, NotNull());
  EXPECT_EQ(backup->sample_count, 1u);
  EXPECT_THAT(backup->sample_sum, DoubleNear(0.030, 1e-9));
}

TEST_F(RpcMetricsTest, ModelAndCallerLabelsAreBounded) {
  RpcMetrics metrics(registry_, /*max_label_values=*/2);
  for (const char* model : {"model-a", "model-b", "model-c", "model-d", "model-a"}) {
    metrics.OnCallEnd(Record(kCreateMessageMethod, model, std::string("caller-") + model));
  }
  std::vector<std::string> models;
  std::vector<std::string> callers;
  const std::optional<prometheus::MetricFamily> rpcs =
      CollectFamily(*registry_, "claude_grpc_rpcs_total");
  ASSERT_TRUE(rpcs.has_value());
  for (const prometheus::ClientMetric& series : rpcs->metric) {
    const MetricLabels labels = LabelsOf(series);
    models.push_back(labels.at("model"));
    callers.push_back(labels.at("caller"));
    EXPECT_EQ(labels.at("gen_ai_request_model"), labels.at("model"));
  }
  EXPECT_THAT(models, UnorderedElementsAre("model-a", "model-b", "other"));
  EXPECT_THAT(callers, UnorderedElementsAre("caller-model-a", "caller-model-b", "other"));
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_rpcs_total", {{"model", "other"}}), 2);
  EXPECT_EQ(CollectCounter(*registry_, "claude_grpc_rpcs_total", {{"model", "model-a"}}), 2)
      << "a value seen before keeps its name";
}

TEST(GenAiOperationNameTest, NamesEachMethod) {
  EXPECT_STREQ(GenAiOperationName(kCreateMessageMethod), "chat");
  EXPECT_STREQ(GenAiOperationName(kStreamMessageMethod), "chat");
  EXPECT_STREQ(GenAiOperationName(kCountTokensMethod), "count_tokens");
  EXPECT_STREQ(GenAiOperationName(kListModelsMethod), "list_models");
  EXPECT_STREQ(GenAiOperationName(kGetModelMethod), "get_model");
  EXPECT_STREQ(GenAiOperationName(kCreateMessageBatchMethod), "other");
  EXPECT_STREQ(GenAiOperationName(""), "other");
}

}  // namespace
}  // namespace claude
