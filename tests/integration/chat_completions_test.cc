// The chat_completions dialect end to end: real gRPC calls to a real server started with
// upstream_api = "chat_completions", whose curl loop talks to fake-anthropic's Chat Completions
// API over loopback. Transcripts are replayed in many HTTP chunkings, one byte at a time
// included; the claude.v1 events and Message must be those of a Messages upstream.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/codec/json_mapping.h"
#include "common/codec/message_accumulator.h"
#include "service/errors/error_table.h"
#include "service/upstream/chat_completions_dialect.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using v1::CreateMessageRequest;
using v1::MessageStreamEvent;

HarnessOptions ChatOptions(int max_retries = 0) {
  HarnessOptions options;
  options.upstream_api = "chat_completions";
  options.max_retries = max_retries;
  return options;
}

struct StreamResult {
  std::vector<MessageStreamEvent> events;
  grpc::Status status;
};

StreamResult Stream(ServerHarness& h, const CreateMessageRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + Scaled(absl::Seconds(30))));
  StreamResult result;
  auto reader = h.messages().StreamMessage(&context, request);
  MessageStreamEvent event;
  while (reader->Read(&event)) result.events.push_back(event);
  result.status = reader->Finish();
  return result;
}

grpc::Status Unary(ServerHarness& h, const CreateMessageRequest& request, v1::Message* message) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + Scaled(absl::Seconds(30))));
  return h.messages().CreateMessage(&context, request, message);
}

absl::StatusOr<v1::Message> Fold(const std::vector<MessageStreamEvent>& events) {
  MessageAccumulator accumulator;
  for (const MessageStreamEvent& e : events) {
    if (absl::Status s = accumulator.Apply(e); !s.ok()) return s;
  }
  return std::move(accumulator).Finish();
}

// The Message the dialect maps a whole reply to (the unary path's answer).
v1::Message UnaryMapping(const std::string& body) {
  ChatCompletionsDialect dialect;
  v1::Message message;
  EXPECT_TRUE(dialect.DecodeReply(body, &message).ok());
  return message;
}

FakeReply SseInPieces(std::vector<std::string> pieces) {
  FakeReply reply;
  reply.headers = {{"content-type", "text/event-stream"}};
  reply.chunks = std::move(pieces);
  return reply;
}

struct Transcript {
  std::string sse;          // tests/fixtures/chat_completions/<sse>
  std::string expected;     // the Message it must give, as JSON
};

class ChatTranscriptTest : public ::testing::TestWithParam<Transcript> {};

// Every chunking of the transcript, through the server: the stream folds to the expected
// Message, and the same bytes asked for by CreateMessage (max_tokens above the threshold, so
// the server streams upstream and accumulates) give it too.
TEST_P(ChatTranscriptTest, ReplayedInEveryChunkingThroughTheServer) {
  ServerHarness h(ChatOptions());
  const std::string body = ReadFixture("chat_completions/" + GetParam().sse);
  const std::vector<std::vector<std::string>> chunkings = Chunkings(body, /*random_cuts=*/20);
  for (size_t i = 0; i < chunkings.size(); ++i) {
    h.upstream().Enqueue(SseInPieces(chunkings[i]));
    StreamResult result = Stream(h, Hello());
    ASSERT_TRUE(result.status.ok()) << "chunking " << i << ": " << result.status.error_message();
    ASSERT_FALSE(result.events.empty());
    EXPECT_TRUE(result.events.front().has_message_start());
    EXPECT_TRUE(result.events.back().has_message_stop());
    absl::StatusOr<v1::Message> folded = Fold(result.events);
    ASSERT_TRUE(folded.ok()) << folded.status();
    EXPECT_TRUE(JsonEqual(GetParam().expected, MessageToJsonString(*folded))) << "chunking " << i;
  }
  h.upstream().Enqueue(SseInPieces(chunkings[1]));  // one byte at a time
  v1::Message unary;
  grpc::Status status = Unary(h, Hello(/*max_tokens=*/64000), &unary);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(JsonEqual(GetParam().expected, MessageToJsonString(unary)));
  // What went upstream: the dialect's path, bearer auth, a streamed body asking for usage.
  const RecordedRequest request = h.upstream().requests().back();
  EXPECT_EQ(request.path, "/v1/chat/completions");
  EXPECT_THAT(request.headers, ::testing::Contains(std::pair<std::string, std::string>(
                                   "authorization", "Bearer sk-ant-test-key")));
  EXPECT_EQ(FindHeader(request.headers, "anthropic-version"), nullptr);
  EXPECT_THAT(request.body, HasSubstr(R"("stream_options":{"include_usage":true})"));
}

INSTANTIATE_TEST_SUITE_P(
    EveryTranscript, ChatTranscriptTest,
    ::testing::Values(
        Transcript{"text_basic.sse",
                   R"({"id":"msg_bdrk_01LPPqDjLKMgfSwTRMRty9VT","type":"message",
                       "role":"assistant","model":"claude-opus-4-20250514",
                       "content":[{"type":"text","text":"Hello! How can I help you today?"}],
                       "stop_reason":"end_turn",
                       "usage":{"input_tokens":8,"output_tokens":12,"cache_read_input_tokens":0,
                                "cache_creation_input_tokens":0,
                                "cache_creation":{"ephemeral_5m_input_tokens":0,
                                                  "ephemeral_1h_input_tokens":0}}})"},
        Transcript{"thinking_tools.sse",
                   MessageToJsonString(UnaryMapping(
                       ReadFixture("chat_completions/thinking_tools.response.json")))}));

TEST(ChatServerTest, UnaryReplyFixtureThroughTheServer) {
  ServerHarness h(ChatOptions());
  h.upstream().Enqueue(JsonReply(200, ReadFixture("chat_completions/thinking.response.json")));
  v1::Message message;
  grpc::Status status = Unary(h, Hello(), &message);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(JsonEqual(
      MessageToJsonString(UnaryMapping(ReadFixture("chat_completions/thinking.response.json"))),
      MessageToJsonString(message)));
  ASSERT_EQ(message.content_size(), 2);
  EXPECT_TRUE(message.content(0).has_thinking());
  EXPECT_THAT(h.upstream().requests().back().body, ::testing::Not(HasSubstr("stream")));
}

// fake-anthropic's echo: a thinking model with two tools. The stream's Message equals the
// unary call's (ids aside: each request has its own).
TEST(ChatServerTest, EchoStreamAndUnaryGiveTheSameMessage) {
  ServerHarness h(ChatOptions());
  CreateMessageRequest request;
  ASSERT_TRUE(JsonToMessage(R"({"model":"claude-fake-1","max_tokens":4096,
      "thinking":{"type":"enabled","budget_tokens":2048},
      "messages":[{"role":"user","content":"Weather in Zürich, please"}],
      "tools":[{"name":"get_weather","input_schema":{"type":"object"}},
               {"name":"get_time","input_schema":{"type":"object"}}]})",
                            &request).ok());
  StreamResult result = Stream(h, request);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  absl::StatusOr<v1::Message> streamed = Fold(result.events);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  v1::Message unary;
  grpc::Status status = Unary(h, request, &unary);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const auto forget_ids = [](v1::Message* m) {
    m->clear_id();
    for (v1::ContentBlock& block : *m->mutable_content()) {
      if (block.has_tool_use()) block.mutable_tool_use()->clear_id();
    }
  };
  forget_ids(&*streamed);
  forget_ids(&unary);
  EXPECT_TRUE(JsonEqual(MessageToJsonString(unary), MessageToJsonString(*streamed)));
  ASSERT_EQ(unary.content_size(), 4);
  EXPECT_EQ(unary.content(0).thinking().thinking(), "Thinking about: Weather in Zürich, please");
  EXPECT_EQ(unary.content(1).text().text(), "Echo: Weather in Zürich, please");
  EXPECT_EQ(unary.content(3).tool_use().name(), "get_time");
  EXPECT_EQ(unary.content(3).tool_use().input().fields().at("text").string_value(),
            "Weather in Zürich, please");
  EXPECT_EQ(unary.stop_reason(), v1::STOP_REASON_TOOL_USE);
  EXPECT_EQ(unary.model(), "claude-fake-1-thinking");  // --chat_thinking=model_suffix
  EXPECT_EQ(unary.usage().input_tokens(), 4);
}

TEST(ChatServerTest, GatewayErrorBodyGoesThroughTheErrorTable) {
  ServerHarness h(ChatOptions());
  h.upstream().Enqueue(JsonReply(500, ReadFixture("chat_completions/error_500.json")));
  v1::Message message;
  grpc::Status status = Unary(h, Hello(), &message);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(status.error_message(), HasSubstr("api_error: fetch failed"));
  std::optional<ErrorDetails> details = ParseErrorDetails(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, "api_error");
  EXPECT_EQ(details->request_id, "2cf86e86-22a4-46e1-ac2f-032c0f2a4e89");
  EXPECT_EQ(details->http_status, 500);
}

TEST(ChatServerTest, OpenAiErrorBodyGoesThroughTheErrorTable) {
  ServerHarness h(ChatOptions());
  h.upstream().Enqueue(JsonReply(429, R"({"error":{"message":"Rate limit reached",
      "type":"requests","param":null,"code":"rate_limit_exceeded"}})",
                                 {{"retry-after", "7"}}));
  StreamResult result = Stream(h, Hello());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(result.status.error_message(), HasSubstr("requests: Rate limit reached"));
  std::optional<ErrorDetails> details = ParseErrorDetails(result.status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, "requests");
  EXPECT_EQ(details->retry_delay, absl::Seconds(7));
}

TEST(ChatServerTest, EchoedErrorsInBothShapes) {
  ServerHarness h(ChatOptions());
  CreateMessageRequest request = Hello();
  request.set_model("fake-error-gateway-401");
  v1::Message message;
  grpc::Status status = Unary(h, request, &message);
  // The upstream refused the server's own key: never the caller's UNAUTHENTICATED.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ParseErrorDetails(status)->reason, "UPSTREAM_AUTH_FAILED");
  EXPECT_EQ(ParseErrorDetails(status)->request_id, "trace_fake_1");
  request.set_model("fake-error-openai-403");
  status = Unary(h, request, &message);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ParseErrorDetails(status)->reason, "UPSTREAM_AUTH_FAILED");
  EXPECT_EQ(ParseErrorDetails(status)->metadata["upstream_error_type"], "fake_error");
}

TEST(ChatServerTest, AStreamCutBeforeDoneEndsUnavailable) {
  ServerHarness h(ChatOptions());
  const std::string body = ReadFixture("chat_completions/text_basic.sse");
  h.upstream().Enqueue(SseReply(body.substr(0, body.find("data: [DONE]")), 16));
  StreamResult result = Stream(h, Hello());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(result.status.error_message(), HasSubstr("[DONE]"));
  ASSERT_FALSE(result.events.empty());  // what came before the cut was relayed
  EXPECT_FALSE(result.events.back().has_message_stop());
}

TEST(ChatServerTest, AnErrorChunkEndsTheStreamWithItsCode) {
  ServerHarness h(ChatOptions());
  h.upstream().Enqueue(SseReply(
      R"(data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]})"
      "\n\n"
      R"(data: {"error":{"message":"Overloaded","type":"overloaded_error"}})"
      "\n\n"));
  StreamResult result = Stream(h, Hello());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(result.status.error_message(), HasSubstr("overloaded_error: Overloaded"));
}

TEST(ChatServerTest, RefusedFieldsNeverReachTheUpstream) {
  ServerHarness h(ChatOptions());
  CreateMessageRequest request = Hello();
  request.set_top_k(5);
  v1::Message message;
  grpc::Status status = Unary(h, request, &message);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("top_k"));
  StreamResult result = Stream(h, request);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(h.upstream().request_count(), 0);
}

TEST(ChatServerTest, CountTokensIsUnimplemented) {
  ServerHarness h(ChatOptions());
  grpc::ClientContext context;
  v1::CountTokensRequest request;
  request.set_model("claude-fake-1");
  request.add_messages()->set_role(v1::ROLE_USER);
  request.mutable_messages(0)->set_content_text("hi");
  v1::CountTokensResponse response;
  grpc::Status status = h.messages().CountTokens(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(status.error_message(), HasSubstr("no token counting"));
  EXPECT_EQ(h.upstream().request_count(), 0);
}

TEST(ChatServerTest, ModelsInOpenAiShapeBecomeModelInfo) {
  ServerHarness h(ChatOptions());
  grpc::ClientContext list_context;
  v1::ListModelsRequest list_request;
  v1::ListModelsResponse list;
  grpc::Status status = h.models().ListModels(&list_context, list_request, &list);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(JsonEqual(R"({"data":[{"id":"claude-fake-1","type":"model",
      "display_name":"claude-fake-1","created_at":"2025-01-01T00:00:00Z","owned_by":"anthropic"}],
      "has_more":false,"first_id":"claude-fake-1","last_id":"claude-fake-1"})",
                        MessageToJsonString(list)));
  grpc::ClientContext get_context;
  v1::GetModelRequest get;
  get.set_model_id("claude-fake-1");
  v1::ModelInfo model;
  status = h.models().GetModel(&get_context, get, &model);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(model.created_at(), "2025-01-01T00:00:00Z");
}

}  // namespace
}  // namespace claude::testing
