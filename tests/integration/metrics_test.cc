// /metrics, scraped over real HTTP after known traffic through the real server: counts and token
// sums must match the traffic exactly.
#include <map>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/program_info/build_info.h"
#include "tests/integration/server_calls.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/prometheus_text.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/wait_until.h"

namespace claude::testing {
namespace {

using v1::MessageStreamEvent;

constexpr char kStream[] = "claude.v1.Messages/StreamMessage";
constexpr char kCreate[] = "claude.v1.Messages/CreateMessage";
constexpr char kModel[] = "claude-sonnet-4-5";  // Hello()'s

HarnessOptions WithMetrics() {
  HarnessOptions options;
  options.configure = [](ServerConfig& config) { config.metrics_listen = "127.0.0.1:0"; };
  return options;
}

// A stream whose message_delta carries cumulative usage that overwrites message_start's:
// final counts are input 30, output 40, cache read 7, cache creation 5.
std::string CumulativeUsageStream() {
  return R"(event: message_start
data: {"type":"message_start","message":{"id":"msg_cumulative","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":30,"output_tokens":1,"cache_read_input_tokens":7,"cache_creation_input_tokens":2}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":40,"cache_creation_input_tokens":5}}

event: message_stop
data: {"type":"message_stop"}

)";
}

// A unary reply with every usage field set.
std::string MessageWithCacheUsage() {
  return R"({"id":"msg_cache","type":"message","role":"assistant","model":"claude-sonnet-4-5",
    "content":[{"type":"text","text":"cached"}],"stop_reason":"end_turn","stop_sequence":null,
    "usage":{"input_tokens":3,"output_tokens":4,"cache_read_input_tokens":100,"cache_creation_input_tokens":50}})";
}

TEST(MetricsTest, ExactCountsAndTokensAfterKnownTraffic) {
  ServerHarness h(WithMetrics());
  ASSERT_NE(h.server().metrics_port(), 0);

  // Three streams: text_basic (12 in, 15 out), tool_use (472 in, 89 out), and cumulative usage
  // (30 in, 40 out, 7 cache read, 5 cache creation).
  for (const std::string& sse :
       {ReadFixture("text_basic.sse"), DocumentedTranscript("tool_use"), CumulativeUsageStream()}) {
    OpenedStream stream;
    OpenStream(h, SseReply(sse, 64), stream);
    MessageStreamEvent event;
    while (stream.reader->Read(&event)) {
    }
    ASSERT_TRUE(stream.reader->Finish().ok());
  }
  // Two unary calls: text_basic (12 in, 15 out); and one answered 529 first, then retried once
  // (3 in, 4 out, 100 cache read, 50 cache creation).
  h.upstream().Enqueue(JsonReply(200, ReadFixture("text_basic.message.json")));
  h.upstream().Enqueue(JsonReply(529, ReadFixture("error_529_anthropic.json"), {{"retry-after-ms", "1"}}));
  h.upstream().Enqueue(JsonReply(200, MessageWithCacheUsage()));
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext context;
    v1::Message message;
    ASSERT_TRUE(h.messages().CreateMessage(&context, Hello(), &message).ok());
  }
  // An upstream 429 the server may not retry: RESOURCE_EXHAUSTED.
  h.upstream().Enqueue(
      JsonReply(429, ReadFixture("error_429_anthropic.json"), {{"x-should-retry", "false"}}));
  {
    grpc::ClientContext context;
    v1::Message message;
    EXPECT_EQ(h.messages().CreateMessage(&context, Hello(), &message).error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  // A request validation refuses: INVALID_ARGUMENT, no upstream call.
  {
    grpc::ClientContext context;
    v1::Message message;
    v1::CreateMessageRequest invalid = Hello();
    invalid.set_max_tokens(0);
    EXPECT_EQ(h.messages().CreateMessage(&context, invalid, &message).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_EQ(h.upstream().request_count(), 7);
  // Every transfer has left the loop, so the scrape-time gauges read 0.
  ASSERT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(10))));

  const std::vector<MetricSample> m = ParseMetrics(ScrapeMetrics(h.server().metrics_port()));

  EXPECT_EQ(SumSamples(m, "claude_grpc_rpcs_total"), 7);
  EXPECT_EQ(SumSamples(m, "claude_grpc_rpcs_total",
                {{"method", kStream}, {"model", kModel}, {"caller", ""}, {"grpc_code", "OK"}}),
            3);
  EXPECT_EQ(SumSamples(m, "claude_grpc_rpcs_total", {{"method", kCreate}, {"grpc_code", "OK"}}), 2);
  EXPECT_EQ(SumSamples(m, "claude_grpc_rpcs_total", {{"method", kCreate}, {"grpc_code", "RESOURCE_EXHAUSTED"}}), 1);
  EXPECT_EQ(SumSamples(m, "claude_grpc_rpcs_total", {{"method", kCreate}, {"grpc_code", "INVALID_ARGUMENT"}}), 1);
  // The same counts under the OpenTelemetry GenAI attribute names.
  const std::map<std::string, std::string> gen_ai = {
      {"gen_ai_operation_name", "chat"}, {"gen_ai_request_model", kModel}, {"gen_ai_provider_name", "anthropic"}};
  EXPECT_EQ(SumSamples(m, "claude_grpc_rpcs_total", gen_ai), 7);
  auto with_error = [&](const char* error_type) {
    auto labels = gen_ai;
    labels["error_type"] = error_type;
    return labels;
  };
  EXPECT_EQ(SumSamples(m, "claude_grpc_rpcs_total", with_error("RESOURCE_EXHAUSTED")), 1);
  EXPECT_EQ(SumSamples(m, "claude_grpc_rpcs_total", with_error("INVALID_ARGUMENT")), 1);
  EXPECT_EQ(SumSamples(m, "gen_ai_server_request_duration_seconds_count", with_error("RESOURCE_EXHAUSTED")), 1);
  EXPECT_EQ(SumSamples(m, "gen_ai_server_time_to_first_token_seconds_count", gen_ai), 3);

  const std::map<std::string, std::string> ours = {{"model", kModel}, {"caller", ""}};
  auto tokens = [&](const char* type) {
    auto labels = ours;
    labels["token_type"] = type;
    return SumSamples(m, "claude_grpc_tokens_total", labels);
  };
  EXPECT_EQ(tokens("input"), 12 + 472 + 30 + 12 + 3);
  EXPECT_EQ(tokens("output"), 15 + 89 + 40 + 15 + 4);
  EXPECT_EQ(tokens("cache_read_input"), 7 + 100);
  EXPECT_EQ(tokens("cache_creation_input"), 5 + 50);

  EXPECT_EQ(SumSamples(m, "claude_grpc_upstream_responses_total", {{"http_status", "200"}}), 5);
  EXPECT_EQ(SumSamples(m, "claude_grpc_upstream_responses_total", {{"http_status", "529"}}), 1);
  EXPECT_EQ(SumSamples(m, "claude_grpc_upstream_responses_total", {{"http_status", "429"}}), 1);
  EXPECT_EQ(SumSamples(m, "claude_grpc_upstream_responses_total"), 7);
  EXPECT_EQ(SumSamples(m, "claude_grpc_upstream_retries_total", {{"method", kCreate}}), 1);
  EXPECT_EQ(SumSamples(m, "claude_grpc_upstream_retries_total"), 1);

  // Latency for every RPC; time to first token for the three streams; server-added latency for
  // the six that reached the upstream.
  EXPECT_EQ(SumSamples(m, "gen_ai_server_request_duration_seconds_count"), 7);
  EXPECT_EQ(SumSamples(m, "gen_ai_server_request_duration_seconds_count", {{"method", kStream}, {"grpc_code", "OK"}}), 3);
  EXPECT_EQ(SumSamples(m, "gen_ai_server_time_to_first_token_seconds_count", {{"model", kModel}}), 3);
  EXPECT_EQ(SumSamples(m, "claude_grpc_server_added_latency_seconds_count"), 6);
  EXPECT_EQ(SumSamples(m, "claude_grpc_server_added_latency_seconds_count", {{"method", kStream}}), 3);

  EXPECT_EQ(SumSamples(m, "claude_grpc_live_streams"), 0);
  EXPECT_EQ(SumSamples(m, "claude_grpc_upstream_live_transfers"), 0);
  EXPECT_EQ(SumSamples(m, "claude_grpc_upstream_paused_transfers"), 0);
}

TEST(MetricsTest, GaugesShowAStreamInFlight) {
  ServerHarness h(WithMetrics());
  OpenedStream stream;
  ASSERT_NO_FATAL_FAILURE(OpenHangingStream(h, stream));

  const std::vector<MetricSample> m = ParseMetrics(ScrapeMetrics(h.server().metrics_port()));
  EXPECT_EQ(SumSamples(m, "claude_grpc_live_streams"), 1);
  EXPECT_EQ(SumSamples(m, "claude_grpc_upstream_live_transfers"), 1);
  EXPECT_EQ(SumSamples(m, "claude_grpc_rpcs_total"), 0);

  stream.context.TryCancel();
  EXPECT_EQ(stream.reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The client knows of its cancel before the server does: wait until the server's RPC is done
  // (its record is observed before that).
  ASSERT_TRUE(WaitUntil([&] { return h.server().live_calls() == 0; }, Scaled(absl::Seconds(10))))
      << h.server().live_calls() << " calls still live";
  ASSERT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(5))));
  const std::vector<MetricSample> after = ParseMetrics(ScrapeMetrics(h.server().metrics_port()));
  EXPECT_EQ(SumSamples(after, "claude_grpc_live_streams"), 0);
  EXPECT_EQ(SumSamples(after, "claude_grpc_upstream_live_transfers"), 0);
  EXPECT_EQ(SumSamples(after, "claude_grpc_rpcs_total", {{"method", kStream}, {"grpc_code", "CANCELLED"}}), 1);
}

TEST(MetricsTest, UpstreamHeadersLeftOutOfTheMetadataAreCounted) {
  ServerHarness h(WithMetrics());
  // UTF-8 in request-id, and a rate-limit value over the 256-byte bound: neither is forwarded.
  h.upstream().Enqueue(JsonReply(200, ReadFixture("text_basic.message.json"),
                                 {{"request-id", "req_caf\xC3\xA9"},
                                  {"anthropic-ratelimit-tokens-reset", std::string(300, 'x')},
                                  {"anthropic-ratelimit-requests-remaining", "7"}}));
  grpc::ClientContext context;
  v1::Message message;
  ASSERT_TRUE(h.messages().CreateMessage(&context, Hello(), &message).ok());
  const auto& trailers = context.GetServerTrailingMetadata();
  EXPECT_EQ(trailers.count("request-id"), 0u);
  EXPECT_EQ(trailers.count("anthropic-ratelimit-tokens-reset"), 0u);
  EXPECT_EQ(trailers.count("anthropic-ratelimit-requests-remaining"), 1u);
  EXPECT_EQ(SumSamples(ParseMetrics(ScrapeMetrics(h.server().metrics_port())),
                       "claude_grpc_upstream_headers_dropped_total"),
            2);
}

TEST(MetricsTest, ProcessMetricsAndBuildInfo) {
  ServerHarness h(WithMetrics());
  const std::vector<MetricSample> m = ParseMetrics(ScrapeMetrics(h.server().metrics_port()));
  EXPECT_GT(SumSamples(m, "process_cpu_seconds_total"), 0);
  EXPECT_GT(SumSamples(m, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(SumSamples(m, "process_virtual_memory_bytes"), SumSamples(m, "process_resident_memory_bytes"));
  EXPECT_GT(SumSamples(m, "process_open_fds"), 3);
  EXPECT_GE(SumSamples(m, "process_max_fds"), SumSamples(m, "process_open_fds"));
  const double now = static_cast<double>(absl::ToUnixSeconds(absl::Now()));
  EXPECT_LE(SumSamples(m, "process_start_time_seconds"), now + 1);
  EXPECT_GT(SumSamples(m, "process_start_time_seconds"), now - 3600);
  EXPECT_EQ(SumSamples(m, "claude_grpc_build_info", {{"version", BuildVersion()}, {"revision", BuildRevision()}}), 1);
  EXPECT_EQ(SumSamples(m, "claude_grpc_ready"), 1);
  EXPECT_EQ(SumSamples(m, "claude_grpc_not_ready_reasons"), 0);
}

TEST(MetricsTest, NotReadyReasons) {
  HarnessOptions options = WithMetrics();
  options.api_key = "";
  ServerHarness h(options);
  const std::vector<MetricSample> m = ParseMetrics(ScrapeMetrics(h.server().metrics_port()));
  EXPECT_EQ(SumSamples(m, "claude_grpc_ready"), 0);
  EXPECT_EQ(SumSamples(m, "claude_grpc_not_ready_reasons", {{"reason", "no_api_key"}}), 1);
  EXPECT_EQ(SumSamples(m, "claude_grpc_not_ready_reasons"), 1);
}

// "[::]" listens on IPv6 and, mapped, IPv4 (prometheus-cpp's civetweb could do neither).
TEST(MetricsTest, ListensOnIpv6AndIpv4FromTheUnspecifiedV6Address) {
  HarnessOptions options;
  options.configure = [](ServerConfig& config) { config.metrics_listen = "[::]:0"; };
  ServerHarness h(options);
  ASSERT_NE(h.server().metrics_port(), 0);
  EXPECT_GT(ParseMetrics(ScrapeMetrics(h.server().metrics_port(), "[::1]")).size(), 10u);
  EXPECT_GT(ParseMetrics(ScrapeMetrics(h.server().metrics_port(), "127.0.0.1")).size(), 10u);
}

TEST(MetricsTest, OnlyGetMetricsIsServed) {
  ServerHarness h(WithMetrics());
  ScrapeMetrics(h.server().metrics_port(), "127.0.0.1", "/", 404);
  ScrapeMetrics(h.server().metrics_port(), "127.0.0.1", "/metrics?x=1", 200);
}

TEST(MetricsTest, OffWithoutAnAddress) {
  ServerHarness h;
  EXPECT_EQ(h.server().metrics_port(), 0);
}

TEST(MetricsTest, AnAddressInUseFailsTheStart) {
  ServerHarness h(WithMetrics());
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.log_rpcs = false;
  config.metrics_listen = absl::StrCat("127.0.0.1:", h.server().metrics_port());
  absl::StatusOr<std::unique_ptr<ClaudeServer>> second = ClaudeServer::Start(std::move(config));
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), ::testing::HasSubstr("the port is in use"));
}

}  // namespace
}  // namespace claude::testing
