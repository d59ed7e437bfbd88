// Several upstreams end to end: a real server with --upstreams_file routing models to two fake
// upstreams (one speaking Bedrock's API, one the Messages API), failing over between them.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "service/errors/error_table.h"
#include "tests/testing/captured_lines.h"
#include "tests/testing/prometheus_text.h"
#include "tests/testing/scratch_file.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/wait_until.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;

// Replaces `path` at once (write beside it, then rename), as a ConfigMap update does: a server
// re-reading it never sees it truncated or half written.
void ReplaceFile(const std::string& path, const std::string& text) {
  const std::string next = path + ".next";
  std::ofstream(next, std::ios::trunc) << text;
  ASSERT_EQ(std::rename(next.c_str(), path.c_str()), 0) << path;
}

// The harness's own fake is "primary" (Bedrock); `secondary` speaks the Messages API.
class FailoverTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& routes, int max_retries = 2, bool metrics = false,
                   const std::string& secondary_auth = "{type: none}") {
    auto secondary = FakeAnthropic::Start();
    ASSERT_TRUE(secondary.ok());
    secondary_ = *std::move(secondary);
    HarnessOptions options;
    options.max_retries = max_retries;
    options.configure = [this, routes, metrics, secondary_auth](ServerConfig& config) {
      const std::string file = absl::StrReplaceAll(
          R"(upstreams:
  - name: primary
    dialect: bedrock
    region: us-east-1
    base_url: PRIMARY
    auth: {type: none}
    models:
      claude-sonnet-4-5: anthropic.claude-sonnet-4-5-v1:0
  - name: secondary
    dialect: messages
    base_url: SECONDARY
    auth: SECONDARY_AUTH
routes:
ROUTES
)",
          {{"PRIMARY", config.upstream.base_url},
           {"SECONDARY", secondary_->base_url()},
           {"ROUTES", routes},
           {"SECONDARY_AUTH", secondary_auth}});
      path_ = WriteScratchFile("upstreams.yaml", file);
      config.upstreams_file = path_;
      config.log_rpcs = true;
      // Off unless asked: the metrics endpoint takes seconds to stop.
      if (metrics) config.metrics_listen = "127.0.0.1:0";
      config.log_sink = log_;
      config.ejection.consecutive_failures = 2;
      config.ejection.base_ejection = absl::Minutes(1);
    };
    harness_ = std::make_unique<ServerHarness>(options);
  }

  // Secondary alone, for every model, with a pool of two keys (files holding `a` and `b`) sent
  // as `scheme` (x-api-key or bearer).
  void StartWithKeys(const std::string& scheme, const std::string& a, const std::string& b) {
    StartServer("  - model: \"*\"\n    upstreams: [secondary]", /*max_retries=*/2,
                /*metrics=*/false,
                absl::StrCat("{type: ", scheme, ", key_files: [", WriteScratchFile(a, a + "\n"),
                             ", ", WriteScratchFile(b, b + "\n"), "]}"));
  }

  grpc::Status Create(const std::string& model, claude::v1::Message* reply) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    claude::v1::CreateMessageRequest request = Hello();
    request.set_model(model);
    return harness_->messages().CreateMessage(&context, request, reply);
  }

  FakeAnthropic& primary() { return harness_->upstream(); }
  FakeAnthropic& secondary() { return *secondary_; }

  // The RPC log lines naming `needle`, waiting a little for the log's thread.
  std::vector<std::string> LogLinesWith(const std::string& needle) {
    std::vector<std::string> found;
    WaitUntil(
        [&] {
          for (const std::string& line : log_->lines()) {
            if (line.find(needle) != std::string::npos) found.push_back(line);
          }
          return !found.empty();
        },
        Scaled(absl::Seconds(2)));
    return found;
  }

  std::shared_ptr<CapturedLines> log_ = std::make_shared<CapturedLines>();
  std::unique_ptr<FakeAnthropic> secondary_;
  std::unique_ptr<ServerHarness> harness_;
  std::string path_;
};

constexpr char kPrimaryThenSecondary[] = R"(  - model: "claude-*"
    upstreams: [primary, secondary])";

TEST_F(FailoverTest, RoutesByModelAndMapsTheModelId) {
  StartServer(kPrimaryThenSecondary);
  claude::v1::Message reply;
  const grpc::Status status = Create("claude-sonnet-4-5", &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(primary().requests().at(0).path, "/model/anthropic.claude-sonnet-4-5-v1%3A0/invoke");
  EXPECT_EQ(secondary().request_count(), 0);
}

TEST_F(FailoverTest, AModelNoRouteMatchesIsNotFoundNamingIt) {
  StartServer(kPrimaryThenSecondary);
  claude::v1::Message reply;
  const grpc::Status status = Create("gpt-4o", &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("\"gpt-4o\""));
  EXPECT_EQ(primary().request_count() + secondary().request_count(), 0);
}

TEST_F(FailoverTest, ARetryableFailureGoesToTheNextUpstreamAtOnce) {
  StartServer(kPrimaryThenSecondary);
  // Retrying the same upstream would wait the 10 s it asks for.
  primary().Enqueue(JsonReply(503, R"({"message":"down"})",
                              {{"x-amzn-errortype", "ServiceUnavailableException"}, {"retry-after", "10"}}));
  claude::v1::Message reply;
  const auto started = std::chrono::steady_clock::now();
  const grpc::Status status = Create("claude-sonnet-4-5", &reply);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.content(0).text().text(), "Echo: Hello there, Claude");
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_EQ(primary().request_count(), 1);
  ASSERT_EQ(secondary().request_count(), 1);
  // The Messages upstream got the caller's model name (no map of its own).
  EXPECT_THAT(secondary().requests()[0].body, HasSubstr(R"("model":"claude-sonnet-4-5")"));
  // The RPC's log line names both upstreams.
  EXPECT_EQ(LogLinesWith(R"("upstreams":["primary","secondary"])").size(), 1u);
}

TEST_F(FailoverTest, AnUpstreamUnderRetryAfterIsSkippedUntilThen) {
  StartServer(kPrimaryThenSecondary);
  primary().Enqueue(JsonReply(429, R"({"message":"slow down"})",
                              {{"x-amzn-errortype", "ThrottlingException"}, {"retry-after", "30"}}));
  claude::v1::Message reply;
  ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
  ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
  EXPECT_EQ(primary().request_count(), 1);  // the second call went straight to secondary
  EXPECT_EQ(secondary().request_count(), 2);
}

TEST_F(FailoverTest, TheFinalErrorIsTheLastAttemptsAndListsTheAttempts) {
  StartServer(kPrimaryThenSecondary, /*max_retries=*/1);
  primary().Enqueue(JsonReply(503, R"({"message":"down"})", {{"x-amzn-errortype", "ServiceUnavailableException"}}));
  secondary().Enqueue(JsonReply(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
  claude::v1::Message reply;
  const grpc::Status status = Create("claude-sonnet-4-5", &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("overloaded_error: Overloaded"));
  const std::optional<ErrorDetails> details = ParseErrorDetails(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->http_status, 529);
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(status.error_details()));
  std::string attempts;
  for (const auto& any : rpc.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) attempts = info.metadata().at("attempts");
  }
  EXPECT_EQ(attempts, "primary:503,secondary:529");
}

TEST_F(FailoverTest, AnUpstreamFailingRepeatedlyIsEjected) {
  StartServer(kPrimaryThenSecondary, /*max_retries=*/1, /*metrics=*/true);
  for (int i = 0; i < 2; ++i) {
    primary().Enqueue(JsonReply(500, R"({"message":"boom"})", {{"x-amzn-errortype", "InternalServerException"}}));
  }
  claude::v1::Message reply;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok()) << i;
  // Two failures in a row ejected primary for a minute: the last two calls never tried it.
  EXPECT_EQ(primary().request_count(), 2);
  EXPECT_EQ(secondary().request_count(), 4);
  const std::vector<MetricSample> metrics = ParseMetrics(ScrapeMetrics(harness_->server().metrics_port()));
  EXPECT_EQ(SumSamples(metrics, "claude_grpc_upstream_state", {{"upstream", "primary"}}), 1);
  EXPECT_EQ(SumSamples(metrics, "claude_grpc_upstream_state", {{"upstream", "secondary"}}), 0);
  EXPECT_EQ(SumSamples(metrics, "claude_grpc_upstream_attempts_total", {{"upstream", "primary"}, {"http_status", "500"}}), 2);
  EXPECT_EQ(SumSamples(metrics, "claude_grpc_upstream_attempts_total", {{"upstream", "secondary"}, {"http_status", "200"}}), 4);
  EXPECT_EQ(SumSamples(metrics, "claude_grpc_upstream_failovers_total", {{"upstream", "primary"}}), 2);
}

TEST_F(FailoverTest, StreamsFailOverBeforeTheFirstEvent) {
  StartServer(kPrimaryThenSecondary);
  primary().Enqueue(JsonReply(529, R"({"message":"busy"})", {{"x-amzn-errortype", "ServiceUnavailableException"}}));
  grpc::ClientContext context;
  auto reader = harness_->messages().StreamMessage(&context, Hello());
  claude::v1::MessageStreamEvent event;
  int events = 0;
  while (reader->Read(&event)) ++events;
  const grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(events, 3);
  EXPECT_EQ(secondary().request_count(), 1);
}

TEST_F(FailoverTest, AChangedFileIsServedAndABrokenOneRefused) {
  StartServer(kPrimaryThenSecondary, 2, /*metrics=*/true);
  claude::v1::Message reply;
  ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
  EXPECT_EQ(primary().request_count(), 1);
  // The same upstreams, the route now to secondary alone (another size: seen as changed).
  std::string text;
  {
    std::ifstream in(path_);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ReplaceFile(path_, absl::StrReplaceAll(
                         text, {{"upstreams: [primary, secondary]", "upstreams: [secondary]"}}));
  // Looked at no more than once a second: calls go on until one reaches secondary.
  ASSERT_TRUE(WaitUntil(
      [&] {
        EXPECT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
        return secondary().request_count() != 0;
      },
      Scaled(absl::Seconds(10)), absl::Milliseconds(50)));
  ASSERT_EQ(secondary().request_count(), 1);
  const int primary_calls = primary().request_count();
  // A change that does not parse: the running routes stay. Calls go on until the server has
  // looked at the file again (it counts the refused change); every one goes to secondary.
  ReplaceFile(path_, "upstreams: [\n");
  const auto reload_failures = [&] {
    return SumSamples(ParseMetrics(ScrapeMetrics(harness_->server().metrics_port())),
                      "claude_grpc_upstreams_file_reload_failures");
  };
  int calls_after_change = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        EXPECT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
        ++calls_after_change;
        return reload_failures() == 1;
      },
      Scaled(absl::Seconds(10)), absl::Milliseconds(50)));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
  EXPECT_EQ(primary().request_count(), primary_calls);
  EXPECT_EQ(secondary().request_count(), 1 + calls_after_change + 3);
  EXPECT_EQ(reload_failures(), 1);
}

TEST_F(FailoverTest, KeysOfAPoolAreUsedInTurnAndParkedWhenRefused) {
  StartWithKeys("x-api-key", "sk-ant-key-a", "sk-ant-key-b");
  const auto key_of = [&](int request) {
    return *FindHeader(secondary().requests().at(request).headers, "x-api-key");
  };
  claude::v1::Message reply;
  // Key a is refused: the caller gets the 401; key a is parked.
  secondary().Enqueue(JsonReply(401, R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})"));
  EXPECT_FALSE(Create("claude-sonnet-4-5", &reply).ok());
  EXPECT_EQ(key_of(0), "sk-ant-key-a");
  ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
  ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
  EXPECT_EQ(key_of(1), "sk-ant-key-b");
  EXPECT_EQ(key_of(2), "sk-ant-key-b");  // a stays parked
  // Key b hits its rate limit (a still parked): no key is free for 30 s, so the caller gets the
  // 429 itself, at once, and later calls are refused without reaching the upstream.
  secondary().Enqueue(JsonReply(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow"}})",
                                {{"retry-after", "30"}}));
  const auto started = std::chrono::steady_clock::now();
  const grpc::Status limited = Create("claude-sonnet-4-5", &reply);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(limited.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  const grpc::Status parked = Create("claude-sonnet-4-5", &reply);
  EXPECT_EQ(parked.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(parked.error_message(), HasSubstr("every key of upstream \"secondary\" is parked"));
  EXPECT_EQ(secondary().request_count(), 4);
}

TEST_F(FailoverTest, ARateLimitedKeyIsRetriedWithTheNextKeyAtOnce) {
  StartWithKeys("bearer", "sk-ant-key-c", "sk-ant-key-d");
  secondary().Enqueue(JsonReply(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow"}})",
                                {{"retry-after", "30"}}));
  claude::v1::Message reply;
  const auto started = std::chrono::steady_clock::now();
  const grpc::Status status = Create("claude-sonnet-4-5", &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  ASSERT_EQ(secondary().request_count(), 2);
  EXPECT_EQ(*FindHeader(secondary().requests()[0].headers, "authorization"), "Bearer sk-ant-key-c");
  EXPECT_EQ(*FindHeader(secondary().requests()[1].headers, "authorization"), "Bearer sk-ant-key-d");
}

TEST(UpstreamsFileAtStartTest, AFileThatDoesNotParseStopsTheServerNamingTheLine) {
  const std::string path = WriteScratchFile("upstreams.yaml",
                                            "upstreams:\n  - name: a\n    dialect: messages\n    "
                                            "base_url: http://x\n    colour: blue\nroutes: []\n");
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.upstreams_file = path;
  config.log_rpcs = false;
  absl::StatusOr<std::unique_ptr<ClaudeServer>> server = ClaudeServer::Start(std::move(config));
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()), HasSubstr(path + ":5: upstreams[0].colour: unknown key"));
}

}  // namespace
}  // namespace claude::testing
