// The upstreams file end to end, beyond failover_test.cc: every dialect served from the file,
// model maps on every dialect, each upstream's connect_timeout and max_connections, Models
// answered from the routes, the weighted spread, stream failover in each phase before the first
// event (and never after it), half-open recovery, the deadline across failovers, and the
// per-upstream latency metric. A real server, fake upstreams on loopback.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "tests/fake_upstream/raw_fault_server.h"
#include "tests/integration/server_calls.h"
#include "tests/testing/prometheus_text.h"
#include "tests/testing/scratch_file.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The harness's own fake is "A"; `b_` is a second fake, "B". The file's text is given with
// A_URL and B_URL in place of the real values, and SCRATCH_name in place of the path of the
// test's WriteScratchFile(name, ...) (a key file).
class RoutingTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& file, bool metrics = false,
                   std::function<void(ServerConfig&)> more = nullptr) {
    auto b = FakeAnthropic::Start();
    ASSERT_TRUE(b.ok());
    b_ = *std::move(b);
    HarnessOptions options;
    options.max_retries = 2;
    options.configure = [this, file, metrics, more](ServerConfig& config) {
      config.upstreams_file = WriteScratchFile(
          "upstreams.yaml", absl::StrReplaceAll(file, {{"A_URL", config.upstream.base_url},
                                                       {"B_URL", b_->base_url()},
                                                       {"SCRATCH", ScratchPath()}}));
      if (metrics) config.metrics_listen = "127.0.0.1:0";
      if (more) more(config);
    };
    harness_ = std::make_unique<ServerHarness>(options);
  }

  grpc::Status Create(const std::string& model, claude::v1::Message* reply,
                      absl::Duration deadline = absl::Seconds(20)) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    claude::v1::CreateMessageRequest request = Hello();
    request.set_model(model);
    return harness_->messages().CreateMessage(&context, request, reply);
  }

  // Streams Hello(); the events read and the final status.
  grpc::Status Stream(int* events) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    auto reader = harness_->messages().StreamMessage(&context, Hello());
    claude::v1::MessageStreamEvent event;
    *events = 0;
    while (reader->Read(&event)) ++*events;
    return reader->Finish();
  }

  std::vector<MetricSample> Metrics() {
    return ParseMetrics(ScrapeMetrics(harness_->server().metrics_port()));
  }

  FakeAnthropic& a() { return harness_->upstream(); }
  FakeAnthropic& b() { return *b_; }

  std::unique_ptr<FakeAnthropic> b_;
  std::unique_ptr<ServerHarness> harness_;
};

// A and B both speak the Messages API; every claude model goes to A, then B.
constexpr char kAThenB[] = R"(upstreams:
  - {name: a, dialect: messages, base_url: A_URL}
  - {name: b, dialect: messages, base_url: B_URL}
routes:
  - model: "claude-*"
    upstreams: [a, b]
)";

// The first SSE events of the echo stream: message_start alone.
std::string MessageStartEvent() {
  return "event: message_start\ndata: "
         "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":"
         "\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_"
         "reason\":"
         "null,\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\n\n";
}

// ---- Every dialect, and model maps on each.

TEST_F(RoutingTest, AChatCompletionsUpstreamIsServedWithItsModelMapAndKeys) {
  WriteScratchFile("chat_key", "sk-gateway-1\n");
  StartServer(R"(upstreams:
  - name: gateway
    dialect: chat_completions
    base_url: B_URL
    auth: {type: bearer, key_files: [SCRATCH_chat_key]}
    models: {claude-sonnet-4-5: anthropic/claude-sonnet-4.5}
routes:
  - {model: claude-sonnet-4-5, upstreams: [gateway]}
)");
  claude::v1::Message reply;
  const grpc::Status status = Create("claude-sonnet-4-5", &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.content(0).text().text(), "Echo: Hello there, Claude");
  ASSERT_EQ(b().request_count(), 1);
  const RecordedRequest request = b().requests()[0];
  EXPECT_EQ(request.path, "/v1/chat/completions");
  EXPECT_THAT(request.body, HasSubstr(R"("model":"anthropic/claude-sonnet-4.5")"));
  EXPECT_EQ(*FindHeader(request.headers, "authorization"), "Bearer sk-gateway-1");
  int events = 0;
  ASSERT_TRUE(Stream(&events).ok());
  EXPECT_GT(events, 3);
  EXPECT_EQ(a().request_count(), 0);
}

TEST_F(RoutingTest, AMessagesUpstreamSendsTheMappedModelId) {
  StartServer(R"(upstreams:
  - name: a
    dialect: messages
    base_url: A_URL
    models:
      claude-sonnet-4-5: claude-sonnet-4-5-20250929
routes:
  - {model: "*", upstreams: [a]}
)");
  claude::v1::Message reply;
  ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
  ASSERT_TRUE(Create("claude-haiku-4-5", &reply).ok());
  grpc::ClientContext context;
  claude::v1::CountTokensRequest count;
  count.set_model("claude-sonnet-4-5");
  *count.mutable_messages() = Hello().messages();
  claude::v1::CountTokensResponse tokens;
  ASSERT_TRUE(harness_->messages().CountTokens(&context, count, &tokens).ok());
  ASSERT_EQ(a().request_count(), 3);
  EXPECT_THAT(a().requests()[0].body, HasSubstr(R"("model":"claude-sonnet-4-5-20250929")"));
  EXPECT_THAT(a().requests()[1].body,
              HasSubstr(R"("model":"claude-haiku-4-5")"));  // not in the map
  EXPECT_THAT(a().requests()[2].body, HasSubstr(R"("model":"claude-sonnet-4-5-20250929")"));
}

// ---- Each upstream's transport settings.

TEST_F(RoutingTest, AnUpstreamsConnectTimeoutAppliesToItAlone) {
  auto black_hole = RawFaultServer::Start(RawFaultServer::Mode::kBlackHole);
  ASSERT_TRUE(black_hole.ok());
  const std::string hole_url = (*black_hole)->base_url();
  StartServer(absl::StrReplaceAll(R"(upstreams:
  - {name: hole, dialect: messages, base_url: HOLE_URL, connect_timeout: 300ms}
  - {name: b, dialect: messages, base_url: B_URL}
routes:
  - {model: "*", upstreams: [hole, b]}
)",
                                  {{"HOLE_URL", hole_url}}),
              /*metrics=*/true,
              [](ServerConfig& config) { config.transport.connect_timeout = absl::Seconds(30); });
  claude::v1::Message reply;
  const auto started = std::chrono::steady_clock::now();
  const grpc::Status status = Create("claude-sonnet-4-5", &reply);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(status.ok()) << status.error_message();
  // The server's own connect timeout is 30 s: only hole's 300 ms lets the call fail over this soon.
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  EXPECT_EQ(b().request_count(), 1);
  EXPECT_EQ((*black_hole)->connection_count(), 0);
  const std::vector<MetricSample> metrics = Metrics();
  EXPECT_EQ(SumSamples(metrics, "claude_grpc_upstream_attempts_total",
                       {{"upstream", "hole"}, {"http_status", "none"}}),
            1);
}

TEST_F(RoutingTest, AnUpstreamsMaxConnectionsQueuesTheRestInOrder) {
  StartServer(R"(upstreams:
  - {name: a, dialect: messages, base_url: A_URL, max_connections: 1}
routes:
  - {model: "*", upstreams: [a]}
)");
  constexpr int kCalls = 3;
  const absl::Duration kReplyTime = absl::Milliseconds(300);
  for (int i = 1; i <= kCalls; ++i) {
    FakeReply reply = JsonReply(200, EchoMessageJson(i, Hello()));
    reply.delay_before_head = kReplyTime;
    a().Enqueue(std::move(reply));
  }
  std::atomic<int> most_at_once{0};
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      int now = a().active_replies();
      int seen = most_at_once.load();
      while (now > seen && !most_at_once.compare_exchange_weak(seen, now)) {
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  std::atomic<int> succeeded{0};
  const absl::Time started = absl::Now();
  std::vector<std::thread> callers;
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&] {
      claude::v1::Message reply;
      if (Create("claude-sonnet-4-5", &reply).ok()) succeeded.fetch_add(1);
    });
  }
  for (std::thread& t : callers) t.join();
  const absl::Duration elapsed = absl::Now() - started;
  done.store(true);
  watcher.join();
  EXPECT_EQ(succeeded.load(), kCalls);
  // One at a time: the replies' waits add up instead of overlapping.
  EXPECT_GE(elapsed, kCalls * kReplyTime - absl::Milliseconds(20));
  EXPECT_EQ(most_at_once.load(), 1);
  EXPECT_EQ(a().request_count(), kCalls);
}

// ---- Models from the routes.

TEST_F(RoutingTest, ListModelsListsTheRoutesExactModelsAndPages) {
  WriteScratchFile("google_token", "ya29.token\n");
  StartServer(R"(upstreams:
  - {name: a, dialect: messages, base_url: A_URL}
  - name: vertex
    dialect: vertex
    project: p
    region: us-east5
    base_url: B_URL
    auth: {type: google_token, token_file: SCRATCH_google_token}
routes:
  - {model: claude-sonnet-4-5, upstreams: [vertex, a]}
  - {model: "claude-*", upstreams: [a]}
  - {model: claude-opus-4-1, upstreams: [vertex]}
  - {model: claude-haiku-4-5, upstreams: [a]}
)");
  const auto list = [&](claude::v1::ListModelsRequest request,
                        claude::v1::ListModelsResponse* page) {
    grpc::ClientContext context;
    return harness_->models().ListModels(&context, request, page);
  };
  claude::v1::ListModelsResponse all;
  ASSERT_TRUE(list({}, &all).ok());
  std::vector<std::string> ids;
  for (const claude::v1::ModelInfo& info : all.data()) ids.push_back(info.id());
  EXPECT_THAT(ids, ElementsAre("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"));
  EXPECT_EQ(all.data(0).type(), "model");
  EXPECT_FALSE(all.has_more());

  claude::v1::ListModelsRequest first;
  first.set_limit(2);
  claude::v1::ListModelsResponse page;
  ASSERT_TRUE(list(first, &page).ok());
  EXPECT_EQ(page.data_size(), 2);
  EXPECT_TRUE(page.has_more());
  EXPECT_EQ(page.last_id(), "claude-opus-4-1");
  claude::v1::ListModelsRequest next;
  next.set_after_id(page.last_id());
  claude::v1::ListModelsResponse rest;
  ASSERT_TRUE(list(next, &rest).ok());
  ASSERT_EQ(rest.data_size(), 1);
  EXPECT_EQ(rest.data(0).id(), "claude-haiku-4-5");
  EXPECT_FALSE(rest.has_more());
  claude::v1::ListModelsRequest unknown;
  unknown.set_after_id("gpt-4o");
  claude::v1::ListModelsResponse none;
  const grpc::Status refused = list(unknown, &none);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("after_id"));

  // GetModel: an exact route answers itself; a name only the prefix route matches goes to a.
  grpc::ClientContext exact_context;
  claude::v1::GetModelRequest exact;
  exact.set_model_id("claude-opus-4-1");
  claude::v1::ModelInfo info;
  ASSERT_TRUE(harness_->models().GetModel(&exact_context, exact, &info).ok());
  EXPECT_EQ(info.id(), "claude-opus-4-1");
  EXPECT_EQ(a().request_count() + b().request_count(), 0);
  grpc::ClientContext prefix_context;
  claude::v1::GetModelRequest prefix;
  prefix.set_model_id("claude-fake-1");
  ASSERT_TRUE(harness_->models().GetModel(&prefix_context, prefix, &info).ok());
  ASSERT_EQ(a().request_count(), 1);
  EXPECT_EQ(a().requests()[0].path, "/v1/models/claude-fake-1");
}

TEST_F(RoutingTest, AKeyRefusedWith403IsParkedAndTheOthersServe) {
  WriteScratchFile("key_a", "sk-ant-a\n");
  WriteScratchFile("key_b", "sk-ant-b\n");
  StartServer(R"(upstreams:
  - name: a
    dialect: messages
    base_url: A_URL
    auth: {type: x-api-key, key_files: [SCRATCH_key_a, SCRATCH_key_b]}
routes:
  - {model: "*", upstreams: [a]}
)");
  a().Enqueue(
      JsonReply(403, R"({"type":"error","error":{"type":"permission_error","message":"no"}})"));
  claude::v1::Message reply;
  // The server's own key was refused: never reported as the caller's auth failure.
  const grpc::Status refused = Create("claude-sonnet-4-5", &reply);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok()) << i;
  const std::vector<RecordedRequest> requests = a().requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(*FindHeader(requests[0].headers, "x-api-key"), "sk-ant-a");
  for (int i = 1; i < 4; ++i)
    EXPECT_EQ(*FindHeader(requests[i].headers, "x-api-key"), "sk-ant-b") << i;
}

// ---- Spread and failover.

TEST_F(RoutingTest, CallsSpreadByWeightWithinTheFirstRank) {
  StartServer(R"(upstreams:
  - {name: a, dialect: messages, base_url: A_URL}
  - {name: b, dialect: messages, base_url: B_URL}
routes:
  - model: "*"
    upstreams:
      - {upstream: a, rank: 1, weight: 3}
      - {upstream: b, rank: 1, weight: 1}
)");
  a().set_record_requests(false);
  b().set_record_requests(false);
  constexpr int kCalls = 400;
  claude::v1::Message reply;
  for (int i = 0; i < kCalls; ++i) ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok()) << i;
  EXPECT_EQ(a().request_count() + b().request_count(), kCalls);
  // a's share is binomial(400, 3/4): mean 300, standard deviation 8.7; the tolerance is five
  // of them, so a fair spread fails this about once in two million runs.
  EXPECT_NEAR(a().request_count(), 300, 45);
}

TEST_F(RoutingTest, AnExactRouteBeatsAPrefixRoute) {
  StartServer(R"(upstreams:
  - {name: a, dialect: messages, base_url: A_URL}
  - {name: b, dialect: messages, base_url: B_URL}
routes:
  - {model: "claude-*", upstreams: [a]}
  - {model: claude-sonnet-4-5, upstreams: [b]}
)");
  claude::v1::Message reply;
  ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
  EXPECT_EQ(b().request_count(), 1);
  ASSERT_TRUE(Create("claude-haiku-4-5", &reply).ok());
  EXPECT_EQ(a().request_count(), 1);
  EXPECT_EQ(Create("gpt-4o", &reply).error_code(), grpc::StatusCode::NOT_FOUND);
}

// Every retryable HTTP status goes to the next upstream; the caller sees b's answer.
class RetryableStatusTest : public RoutingTest, public ::testing::WithParamInterface<int> {};

TEST_P(RetryableStatusTest, FailsOverToTheNextUpstream) {
  StartServer(kAThenB);
  a().Enqueue(
      JsonReply(GetParam(), R"({"type":"error","error":{"type":"api_error","message":"no"}})"));
  claude::v1::Message reply;
  const grpc::Status status = Create("claude-sonnet-4-5", &reply);
  ASSERT_TRUE(status.ok()) << GetParam() << ": " << status.error_message();
  EXPECT_EQ(a().request_count(), 1);
  EXPECT_EQ(b().request_count(), 1);
}

INSTANTIATE_TEST_SUITE_P(Statuses, RetryableStatusTest,
                         ::testing::Values(408, 409, 429, 500, 502, 503, 504, 529));

TEST_F(RoutingTest, ACallersMistakeIsNotFailedOver) {
  StartServer(kAThenB);
  a().Enqueue(JsonReply(
      400, R"({"type":"error","error":{"type":"invalid_request_error","message":"bad"}})"));
  claude::v1::Message reply;
  EXPECT_EQ(Create("claude-sonnet-4-5", &reply).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(b().request_count(), 0);
}

TEST_F(RoutingTest, StreamsFailOverInEachPhaseBeforeTheFirstEvent) {
  StartServer(kAThenB);
  int events = 0;
  // An HTTP error status (overloaded); a connection that cannot be made is the next test.
  a().Enqueue(JsonReply(
      529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
  grpc::Status status = Stream(&events);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(events, 3);
  EXPECT_EQ(b().request_count(), 1);
  // A 200 whose connection dies before its first event.
  FakeReply cut = SseReply("");
  cut.close_mid_body = true;
  a().Enqueue(std::move(cut));
  status = Stream(&events);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(events, 3);
  EXPECT_EQ(b().request_count(), 2);
  EXPECT_EQ(a().request_count(), 2);
}

TEST_F(RoutingTest, StreamsFailOverWhenTheFirstUpstreamCannotBeReached) {
  auto closed = RawFaultServer::Start();
  ASSERT_TRUE(closed.ok());
  const std::string closed_url = (*closed)->base_url();
  closed->reset();  // nothing listens there any more: connections are refused
  StartServer(absl::StrReplaceAll(R"(upstreams:
  - {name: gone, dialect: messages, base_url: GONE_URL}
  - {name: b, dialect: messages, base_url: B_URL}
routes:
  - {model: "*", upstreams: [gone, b]}
)",
                                  {{"GONE_URL", closed_url}}));
  int events = 0;
  const grpc::Status status = Stream(&events);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(events, 3);
  EXPECT_EQ(b().request_count(), 1);
}

TEST_F(RoutingTest, AStreamNeverFailsOverAfterItsFirstEvent) {
  StartServer(kAThenB);
  FakeReply cut = SseReply(MessageStartEvent());
  cut.close_mid_body = true;
  a().Enqueue(std::move(cut));
  int events = 0;
  const grpc::Status status = Stream(&events);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(events, 1);  // message_start reached the caller: no other upstream may add to it
  EXPECT_EQ(b().request_count(), 0);
}

// An `error` event (HTTP 200) before any event reached the caller fails over as its HTTP status
// would (overloaded_error: 529); after the first event it ends the stream, as any failure does.
TEST_F(RoutingTest, AnErrorEventFailsOverOnlyBeforeTheFirstEvent) {
  StartServer(kAThenB);
  const std::string overloaded = ErrorEvent("overloaded_error", "Overloaded");
  a().Enqueue(SseReply(overloaded));
  int events = 0;
  grpc::Status status = Stream(&events);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(events, 3);
  EXPECT_EQ(a().request_count(), 1);
  EXPECT_EQ(b().request_count(), 1);

  // A caller's mistake reported as an error event is not failed over.
  a().Enqueue(SseReply(ErrorEvent("invalid_request_error", "bad")));
  status = Stream(&events);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(events, 0);
  EXPECT_EQ(b().request_count(), 1);

  a().Enqueue(SseReply(MessageStartEvent() + overloaded));
  status = Stream(&events);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("overloaded_error"));
  EXPECT_EQ(events, 1);  // message_start reached the caller: no other upstream may add to it
  EXPECT_EQ(b().request_count(), 1);
}

TEST_F(RoutingTest, AnEjectedUpstreamIsProbedByOneCallAndRecovers) {
  StartServer(kAThenB, /*metrics=*/true, [](ServerConfig& config) {
    config.ejection.consecutive_failures = 2;
    config.ejection.base_ejection = absl::Milliseconds(500);
  });
  for (int i = 0; i < 2; ++i)
    a().Enqueue(
        JsonReply(500, R"({"type":"error","error":{"type":"api_error","message":"boom"}})"));
  claude::v1::Message reply;
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
  EXPECT_EQ(SumSamples(Metrics(), "claude_grpc_upstream_state", {{"upstream", "a"}}),
            1);  // ejected
  ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
  EXPECT_EQ(a().request_count(), 2);  // skipped while ejected
  EXPECT_EQ(b().request_count(), 3);
  absl::SleepFor(absl::Milliseconds(600));
  // Half-open: the next call probes a, which answers; a is healthy again and gets the calls.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
  EXPECT_EQ(a().request_count(), 5);
  EXPECT_EQ(b().request_count(), 3);
  EXPECT_EQ(SumSamples(Metrics(), "claude_grpc_upstream_state", {{"upstream", "a"}}), 0);
}

TEST_F(RoutingTest, TheCallersDeadlineBoundsEveryFailover) {
  StartServer(kAThenB, /*metrics=*/false, [](ServerConfig& config) { config.max_retries = 10; });
  // Every attempt takes 400 ms to fail, on both upstreams; the caller gives 1 s in all.
  FakeReply slow_failure =
      JsonReply(503, R"({"type":"error","error":{"type":"api_error","message":"down"}})");
  slow_failure.delay_before_head = absl::Milliseconds(400);
  a().SetDefaultReply(slow_failure);
  b().SetDefaultReply(slow_failure);
  claude::v1::Message reply;
  const auto started = std::chrono::steady_clock::now();
  const grpc::Status status = Create("claude-sonnet-4-5", &reply, absl::Seconds(1));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
  // Both upstreams were tried inside the deadline, and no attempt outlived it by much.
  EXPECT_GE(a().request_count(), 1);
  EXPECT_GE(b().request_count(), 1);
  EXPECT_LE(a().request_count() + b().request_count(), 3);
}

// ---- Metrics.

TEST_F(RoutingTest, EachUpstreamsLatencyIsMeasured) {
  StartServer(kAThenB, /*metrics=*/true);
  FakeReply slow =
      JsonReply(503, R"({"type":"error","error":{"type":"api_error","message":"down"}})");
  slow.delay_before_head = absl::Milliseconds(200);
  a().Enqueue(std::move(slow));
  claude::v1::Message reply;
  ASSERT_TRUE(Create("claude-sonnet-4-5", &reply).ok());
  const std::vector<MetricSample> metrics = Metrics();
  EXPECT_EQ(SumSamples(metrics, "claude_grpc_upstream_latency_seconds_count", {{"upstream", "a"}}),
            1);
  EXPECT_EQ(SumSamples(metrics, "claude_grpc_upstream_latency_seconds_count", {{"upstream", "b"}}),
            1);
  EXPECT_GE(SumSamples(metrics, "claude_grpc_upstream_latency_seconds_sum", {{"upstream", "a"}}),
            0.2);
  // a's one attempt is past the 0.1 s bucket.
  EXPECT_EQ(SumSamples(metrics, "claude_grpc_upstream_latency_seconds_bucket",
                       {{"upstream", "a"}, {"le", "0.1"}}),
            0);
  EXPECT_EQ(SumSamples(metrics, "claude_grpc_upstream_failovers_total", {{"upstream", "a"}}), 1);
}

}  // namespace
}  // namespace claude::testing
