// claude::Client end to end: a real server in the test process (ServerHarness) whose curl loop
// talks to the fake Anthropic upstream over loopback.
#include "client/claude_client.h"

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/codec/json_mapping.h"
#include "service/sse/sse_parser.h"
#include "tests/integration/server_calls.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/unparsable_reply_server.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using v1::CreateMessageRequest;
using v1::MessageStreamEvent;

std::string Target(const ServerHarness& h) { return absl::StrCat("127.0.0.1:", h.port()); }

// ---------------------------------------------------------------------------------------------
// Issue 12, bug 3: replies that do not parse (here: nested beyond protobuf's 100 levels). The
// stream stopped after 3 of 8 events and Finish() returned the server's OK; CreateMessage got
// UNIMPLEMENTED "No message returned for unary request".

TEST(ClientTest, RepliesThatDoNotParseFailWithInternal) {
  UnparsableReplyServer server;
  Client client(server.target());
  absl::StatusOr<v1::Message> reply = client.CreateMessage(Hello());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInternal) << reply.status();
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("does not parse as claude.v1.Message"));

  std::unique_ptr<Client::EventStream> stream = client.OpenStream(Hello());
  int events = 0;
  MessageStreamEvent event;
  while (stream->Next(&event)) ++events;
  EXPECT_EQ(events, UnparsableReplyServer::kEventsBeforeUnparsable);
  EXPECT_FALSE(stream->Next(&event));  // stays ended
  absl::Status status = stream->Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("stream event 4 from the server"));

  int seen = 0;
  absl::StatusOr<v1::Message> streamed = client.StreamMessage(Hello(), [&](const MessageStreamEvent&) { ++seen; });
  EXPECT_EQ(streamed.status().code(), absl::StatusCode::kInternal) << streamed.status();
  EXPECT_EQ(seen, UnparsableReplyServer::kEventsBeforeUnparsable);
}

// ---------------------------------------------------------------------------------------------
// Every RPC against the echo upstream.

TEST(ClientTest, CreateMessage) {
  ServerHarness h;
  Client client(Target(h));
  absl::StatusOr<v1::Message> message = client.CreateMessage(Hello());
  ASSERT_TRUE(message.ok()) << message.status();
  ASSERT_EQ(message->content_size(), 1);
  EXPECT_EQ(message->content(0).text().text(), "Echo: Hello there, Claude");
  EXPECT_EQ(message->stop_reason(), v1::STOP_REASON_END_TURN);
}

TEST(ClientTest, StreamMessageCallsBackForEveryEventAndAccumulates) {
  ServerHarness h;
  Client client(Target(h));
  std::vector<MessageStreamEvent> events;
  absl::StatusOr<v1::Message> message =
      client.StreamMessage(Hello(), [&](const MessageStreamEvent& e) { events.push_back(e); });
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->content(0).text().text(), "Echo: Hello there, Claude");
  ASSERT_GE(events.size(), 6u);
  EXPECT_TRUE(events.front().has_message_start());
  EXPECT_TRUE(events.back().has_message_stop());
  EXPECT_THAT(h.upstream().requests().back().body, HasSubstr("\"stream\":true"));
}

TEST(ClientTest, OpenStreamIteratesTheEvents) {
  ServerHarness h;
  Client client(Target(h));
  std::unique_ptr<Client::EventStream> stream = client.OpenStream(Hello());
  std::string text;
  int events = 0;
  MessageStreamEvent event;
  bool saw_stop = false;
  while (stream->Next(&event)) {
    ++events;
    saw_stop = saw_stop || event.has_message_stop();
    if (event.has_content_block_delta()) text += event.content_block_delta().delta().text_delta().text();
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_TRUE(saw_stop);
  EXPECT_GE(events, 6);
  EXPECT_EQ(text, "Echo: Hello there, Claude");
  EXPECT_FALSE(stream->Next(&event)) << "nothing after Finish";
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ClientTest, StreamTextDeliversTheTextPieces) {
  ServerHarness h;
  Client client(Target(h));
  std::vector<std::string> pieces;
  absl::StatusOr<v1::Message> message =
      client.StreamText(Hello(), [&](absl::string_view text) { pieces.emplace_back(text); });
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_GT(pieces.size(), 1u) << "one delta per word";
  EXPECT_EQ(absl::StrJoin(pieces, ""), "Echo: Hello there, Claude");
  EXPECT_EQ(message->content(0).text().text(), "Echo: Hello there, Claude");
}

TEST(ClientTest, CountTokensListModelsGetModel) {
  ServerHarness h;
  Client client(Target(h));
  v1::CountTokensRequest count;
  count.set_model("claude-sonnet-4-5");
  *count.add_messages() = Hello().messages(0);
  absl::StatusOr<v1::CountTokensResponse> tokens = client.CountTokens(count);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->input_tokens(), 3);
  EXPECT_EQ(h.upstream().requests().back().path, "/v1/messages/count_tokens");

  absl::StatusOr<v1::ListModelsResponse> models = client.ListModels();
  ASSERT_TRUE(models.ok()) << models.status();
  ASSERT_EQ(models->data_size(), 1);
  EXPECT_EQ(h.upstream().requests().back().path, "/v1/models");
  v1::ListModelsRequest page;
  page.set_limit(7);
  ASSERT_TRUE(client.ListModels(page).ok());
  EXPECT_EQ(h.upstream().requests().back().path, "/v1/models?limit=7");

  absl::StatusOr<v1::ModelInfo> model = client.GetModel(models->data(0).id());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->display_name(), models->data(0).display_name());

  absl::StatusOr<v1::ModelInfo> missing = client.GetModel("no-such-model");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// The fixtures: every way of streaming accumulates the fixture's Message.

class ClientFixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ClientFixtureTest, StreamingAccumulatesTheFixtureMessage) {
  ServerHarness h;
  Client client(Target(h));
  const std::string body = DocumentedTranscript(GetParam());
  const std::string expected = ReadFixture(GetParam() + ".message.json");

  h.upstream().Enqueue(SseReply(body, 13));
  size_t events = 0;
  absl::StatusOr<v1::Message> streamed =
      client.StreamMessage(Hello(), [&](const MessageStreamEvent&) { ++events; });
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  EXPECT_EQ(events, SseDataOf(body).size());
  EXPECT_TRUE(JsonEqual(expected, MessageToJsonString(*streamed)));

  h.upstream().Enqueue(SseReply(body));
  std::string text, thinking;
  absl::StatusOr<v1::Message> texted = client.StreamText(
      Hello(), [&](absl::string_view t) { absl::StrAppend(&text, t); },
      [&](absl::string_view t) { absl::StrAppend(&thinking, t); });
  ASSERT_TRUE(texted.ok()) << texted.status();
  EXPECT_TRUE(JsonEqual(expected, MessageToJsonString(*texted)));
  std::string expected_text, expected_thinking;
  for (const v1::ContentBlock& block : texted->content()) {
    if (block.has_text()) expected_text += block.text().text();
    if (block.has_thinking()) expected_thinking += block.thinking().thinking();
  }
  EXPECT_EQ(text, expected_text);
  EXPECT_EQ(thinking, expected_thinking);
  if (GetParam() == "thinking") {
    EXPECT_FALSE(thinking.empty());
  }

  // The unary call over an upstream stream (large max_tokens) gives the same Message.
  h.upstream().Enqueue(SseReply(body));
  absl::StatusOr<v1::Message> unary = client.CreateMessage(Hello(64000));
  ASSERT_TRUE(unary.ok()) << unary.status();
  EXPECT_TRUE(JsonEqual(expected, MessageToJsonString(*unary)));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ClientFixtureTest,
                         ::testing::Values("text_basic", "thinking", "tool_use"));

TEST(ClientTest, AStreamThatCannotBeAccumulatedIsInternalNotATruncatedMessage) {
  ServerHarness h;
  Client client(Target(h));
  // The shared tool_use transcript: its tool input fragments do not concatenate to JSON.
  h.upstream().Enqueue(SseReply(ReadFixture("tool_use.sse")));
  absl::StatusOr<v1::Message> message = client.StreamMessage(Hello(), nullptr);
  EXPECT_EQ(message.status().code(), absl::StatusCode::kInternal) << message.status();
  EXPECT_THAT(message.status().message(), HasSubstr("tool input"));

  // The iterator relays the events as they are.
  h.upstream().Enqueue(SseReply(ReadFixture("tool_use.sse")));
  std::unique_ptr<Client::EventStream> stream = client.OpenStream(Hello());
  size_t events = 0;
  MessageStreamEvent event;
  while (stream->Next(&event)) ++events;
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(events, SseDataOf(ReadFixture("tool_use.sse")).size());
}

// ---------------------------------------------------------------------------------------------
// Errors.

TEST(ClientTest, ErrorsCarryTheServersCodeMessageAndDetails) {
  HarnessOptions options;
  options.max_retries = 0;
  ServerHarness h(options);
  Client client(Target(h));
  for (bool stream : {false, true}) {
    SCOPED_TRACE(stream ? "stream" : "unary");
    h.upstream().Enqueue(JsonReply(429, ReadFixture("error_429_anthropic.json"), {{"retry-after", "3"}}));
    absl::StatusOr<v1::Message> message =
        stream ? client.StreamMessage(Hello(), nullptr) : client.CreateMessage(Hello());
    ASSERT_EQ(message.status().code(), absl::StatusCode::kResourceExhausted) << message.status();
    EXPECT_THAT(message.status().message(), HasSubstr("upstream HTTP 429 rate_limit_error"));
    EXPECT_THAT(message.status().message(), HasSubstr("per-minute rate limit"));
    std::optional<ErrorDetails> details = ErrorDetailsOf(message.status());
    ASSERT_TRUE(details.has_value());
    EXPECT_EQ(details->reason, "rate_limit_error");
    EXPECT_EQ(details->domain, kUpstreamErrorDomain);
    EXPECT_EQ(details->request_id, "req_011CSHoEeqs5C35K2UUqR7Fy");
    EXPECT_EQ(details->retry_delay, absl::Seconds(3));
    EXPECT_EQ(details->http_status, 429);
  }
  EXPECT_EQ(h.upstream().request_count(), 2) << "RESOURCE_EXHAUSTED is not retried by the client";
}

TEST(ClientTest, ErrorDetailsOfAStatusWithoutDetailsIsEmpty) {
  EXPECT_FALSE(ErrorDetailsOf(absl::OkStatus()).has_value());
  EXPECT_FALSE(ErrorDetailsOf(absl::UnavailableError("x")).has_value());
  const absl::Status converted = FromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "gone"));
  EXPECT_EQ(converted.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(converted.message(), "gone");
  EXPECT_FALSE(ErrorDetailsOf(converted).has_value());
}

TEST(ClientTest, AnErrorEventMidStreamEndsWithTheServersStatusAfterTheEvents) {
  ServerHarness h;
  Client client(Target(h));
  h.upstream().Enqueue(SseReply(ReadFixture("error_after_200.sse")));
  int events = 0;
  absl::StatusOr<v1::Message> message =
      client.StreamMessage(Hello(), [&](const MessageStreamEvent&) { ++events; });
  EXPECT_EQ(message.status().code(), absl::StatusCode::kUnavailable) << message.status();
  EXPECT_THAT(message.status().message(), HasSubstr("Overloaded"));
  std::optional<ErrorDetails> details = ErrorDetailsOf(message.status());
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, "overloaded_error");
  EXPECT_EQ(events, 3);
  EXPECT_EQ(h.upstream().request_count(), 1) << "streams are never retried";
}

// The server retries the upstream itself and says so with a retry pushback, so a client whose
// channel retries UNAVAILABLE (meant for an unreachable server) does not multiply the attempts.
TEST(ClientTest, UpstreamFailuresTheServerAlreadyRetriedAreNotRetriedAgain) {
  HarnessOptions options;
  options.max_retries = 0;  // the server gives up at once: UNAVAILABLE reaches the client
  ServerHarness h(options);
  Client client(Target(h));  // retry_unavailable defaults to true
  h.upstream().Enqueue(JsonReply(529, ReadFixture("error_529_anthropic.json")));
  EXPECT_EQ(client.CreateMessage(Hello()).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(h.upstream().request_count(), 1);
}

TEST(ClientTest, UnreachableServerIsUnavailable) {
  ClientOptions options;
  options.retry_unavailable = false;
  Client client("127.0.0.1:1", options);
  absl::StatusOr<v1::Message> message = client.CreateMessage(Hello());
  EXPECT_EQ(message.status().code(), absl::StatusCode::kUnavailable) << message.status();
}

// ---------------------------------------------------------------------------------------------
// Deadlines and cancellation.

TEST(ClientTest, CallDeadlineOverridesTheDefault) {
  ServerHarness h;
  Client client(Target(h));
  Client::CallOptions call;
  call.deadline = absl::Milliseconds(200);
  for (bool stream : {false, true}) {
    SCOPED_TRACE(stream ? "stream" : "unary");
    h.upstream().Enqueue(HungReply());
    const absl::Time start = absl::Now();
    absl::StatusOr<v1::Message> message =
        stream ? client.StreamMessage(Hello(), nullptr, call) : client.CreateMessage(Hello(), call);
    EXPECT_EQ(message.status().code(), absl::StatusCode::kDeadlineExceeded) << message.status();
    EXPECT_LT(absl::Now() - start, Scaled(absl::Seconds(3)));
  }
  EXPECT_TRUE(h.upstream().WaitForDisconnects(2, Scaled(absl::Seconds(2))));
}

TEST(ClientTest, DefaultDeadlineFromClientOptions) {
  ServerHarness h;
  ClientOptions options;
  options.default_deadline = absl::Milliseconds(200);
  Client client(Target(h), options);
  h.upstream().Enqueue(HungReply());
  EXPECT_EQ(client.CreateMessage(Hello()).status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(ClientTest, CancelMidStreamClosesTheUpstream) {
  ServerHarness h;
  Client client(Target(h));
  h.upstream().Enqueue(Drip());
  std::unique_ptr<Client::EventStream> stream = client.OpenStream(Hello());
  MessageStreamEvent event;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stream->Next(&event));
  stream->Cancel();
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Seconds(1))));
  while (stream->Next(&event)) {
  }
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(2))));
}

TEST(ClientTest, CancelFromAnotherThreadWhileWaiting) {
  ServerHarness h;
  Client client(Target(h));
  h.upstream().Enqueue(HungReply());
  std::unique_ptr<Client::EventStream> stream = client.OpenStream(Hello());
  ASSERT_TRUE(h.upstream().WaitForRequests(1, Scaled(absl::Seconds(5))));
  std::thread canceller([&] { stream->Cancel(); });
  MessageStreamEvent event;
  EXPECT_FALSE(stream->Next(&event));
  canceller.join();
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Seconds(1))));
}

TEST(ClientTest, DroppingAnUnfinishedStreamCancelsIt) {
  ServerHarness h;
  Client client(Target(h));
  h.upstream().Enqueue(Drip());
  std::unique_ptr<Client::EventStream> stream = client.OpenStream(Hello());
  MessageStreamEvent event;
  ASSERT_TRUE(stream->Next(&event));
  stream.reset();
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Seconds(1))));
}

// ---------------------------------------------------------------------------------------------
// Metadata.

TEST(ClientTest, MetadataReachesTheUpstreamAsHeaders) {
  ServerHarness h;
  ClientOptions options;
  options.metadata = {{"anthropic-beta", "context-1m-2025-08-07"}};
  Client client(Target(h), options);
  ASSERT_TRUE(client.CreateMessage(Hello()).ok());
  RecordedRequest sent = h.upstream().requests().back();
  const std::string* beta = FindHeader(sent.headers, "anthropic-beta");
  ASSERT_NE(beta, nullptr);
  EXPECT_EQ(*beta, "context-1m-2025-08-07");

  // Per-call metadata goes with the client's; keys are lower-cased for gRPC.
  Client::CallOptions call;
  call.metadata = {{"Anthropic-Beta", "fine-grained-tool-streaming-2025-05-14"}};
  ASSERT_TRUE(client.StreamMessage(Hello(), nullptr, call).ok());
  sent = h.upstream().requests().back();
  beta = FindHeader(sent.headers, "anthropic-beta");
  ASSERT_NE(beta, nullptr);
  EXPECT_EQ(*beta, "context-1m-2025-08-07,fine-grained-tool-streaming-2025-05-14");
}

// A Models service that records what each call brought.
class RecordingModels final : public v1::Models::Service {
 public:
  grpc::Status GetModel(grpc::ServerContext* context, const v1::GetModelRequest* request,
                        v1::ModelInfo* response) override {
    absl::MutexLock lock(&mu_);
    metadata_.clear();
    for (const auto& [k, v] : context->client_metadata()) {
      metadata_.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
    }
    deadline_ = absl::FromChrono(context->deadline());
    response->set_id(request->model_id());
    return grpc::Status::OK;
  }
  std::multimap<std::string, std::string> metadata() {
    absl::MutexLock lock(&mu_);
    return metadata_;
  }
  absl::Time deadline() {
    absl::MutexLock lock(&mu_);
    return deadline_;
  }

 private:
  absl::Mutex mu_;
  std::multimap<std::string, std::string> metadata_;
  absl::Time deadline_;
};

struct RecordingServer {
  RecordingServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~RecordingServer() { server->Shutdown(); }
  RecordingModels service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

TEST(ClientTest, CallerTokenMetadataDeadlineAndConfigureHook) {
  RecordingServer server;
  ClientOptions options;
  options.caller_token = "tok-123";
  options.metadata = {{"x-team", "search"}};
  options.default_deadline = absl::Minutes(3);
  Client client(absl::StrCat("127.0.0.1:", server.port), options);

  absl::Time before = absl::Now();
  ASSERT_TRUE(client.GetModel("m").ok());
  auto metadata = server.service.metadata();
  EXPECT_EQ(metadata.find("authorization")->second, "Bearer tok-123");
  EXPECT_EQ(metadata.find("x-team")->second, "search");
  EXPECT_GT(server.service.deadline(), before + absl::Minutes(3) - absl::Seconds(10));
  EXPECT_LT(server.service.deadline(), before + absl::Minutes(3) + absl::Seconds(10));

  bool configured = false;
  Client::CallOptions call;
  call.deadline = absl::Seconds(20);
  call.metadata = {{"x-call", "1"}};
  call.configure = [&](grpc::ClientContext& context) {
    configured = true;
    context.AddMetadata("x-configured", "yes");
  };
  before = absl::Now();
  ASSERT_TRUE(client.GetModel("m", call).ok());
  metadata = server.service.metadata();
  EXPECT_TRUE(configured);
  EXPECT_EQ(metadata.find("x-call")->second, "1");
  EXPECT_EQ(metadata.find("x-configured")->second, "yes");
  EXPECT_EQ(metadata.find("authorization")->second, "Bearer tok-123");
  EXPECT_LT(server.service.deadline(), before + absl::Seconds(25));

  // No deadline at all.
  ClientOptions unbounded;
  unbounded.default_deadline = absl::InfiniteDuration();
  Client forever(absl::StrCat("127.0.0.1:", server.port), unbounded);
  ASSERT_TRUE(forever.GetModel("m").ok());
  EXPECT_GT(server.service.deadline(), absl::Now() + absl::Hours(24 * 365));
  EXPECT_EQ(server.service.metadata().count("authorization"), 0u);
}

// ---------------------------------------------------------------------------------------------
// Channel configuration.

TEST(ClientTest, ServiceConfig) {
  ClientOptions options;
  EXPECT_THAT(ClientServiceConfig(options), HasSubstr(R"("retryableStatusCodes":["UNAVAILABLE"])"));
  EXPECT_THAT(ClientServiceConfig(options), ::testing::Not(HasSubstr("round_robin")));
  EXPECT_THAT(ClientServiceConfig(options), ::testing::Not(HasSubstr("StreamMessage")));
  options.round_robin = true;
  EXPECT_THAT(ClientServiceConfig(options), HasSubstr(R"("loadBalancingConfig":[{"round_robin":{}}])"));
  options.retry_unavailable = false;
  EXPECT_EQ(ClientServiceConfig(options), R"({"loadBalancingConfig":[{"round_robin":{}}]})");
  options.round_robin = false;
  EXPECT_EQ(ClientServiceConfig(options), "");
}

TEST(ClientTest, RoundRobinSpreadsCallsOverEveryAddress) {
  ServerHarness a, b;
  const std::string target = absl::StrCat("ipv4:127.0.0.1:", a.port(), ",127.0.0.1:", b.port());
  {
    ClientOptions options;
    options.round_robin = true;
    Client client(target, options);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(client.CreateMessage(Hello()).ok());
  }
  EXPECT_GE(a.upstream().request_count(), 2);
  EXPECT_GE(b.upstream().request_count(), 2);
  EXPECT_EQ(a.upstream().request_count() + b.upstream().request_count(), 10);

  // pick_first (the default) sends everything to one address.
  const int a_before = a.upstream().request_count(), b_before = b.upstream().request_count();
  Client client(target);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(client.CreateMessage(Hello()).ok());
  EXPECT_TRUE((a.upstream().request_count() - a_before == 6) != (b.upstream().request_count() - b_before == 6));
}

}  // namespace
}  // namespace claude::testing
