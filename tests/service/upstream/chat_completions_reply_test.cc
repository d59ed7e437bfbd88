// The chat_completions dialect's replies as pure code: bodies in, claude.v1 messages, errors and
// events out. Streams are replayed in many chunkings, one byte at a time included, and must fold
// to the Message the unary reply gives. Its requests are in chat_completions_request_test.cc.
#include "service/upstream/chat_completions_dialect.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"
#include "common/codec/message_accumulator.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

using ::claude::testing::Chunkings;
using ::claude::testing::JsonEqual;
using ::claude::testing::ReadFixture;
using ::testing::HasSubstr;

// ---- Replies --------------------------------------------------------------------------------

v1::Message Decode(const std::string& body) {
  ChatCompletionsDialect dialect;
  v1::Message message;
  absl::Status status = dialect.DecodeReply(body, &message);
  EXPECT_TRUE(status.ok()) << status;
  return message;
}

// The text_basic fixtures' reply as a Message of the Messages API; the unary and the streamed
// fixture carry different ids.
std::string TextBasicMessage(absl::string_view id) {
  return absl::StrCat(R"({"id":")", id, R"(","type":"message",
      "role":"assistant","model":"claude-opus-4-20250514",
      "content":[{"type":"text","text":"Hello! How can I help you today?"}],
      "stop_reason":"end_turn",
      "usage":{"input_tokens":8,"output_tokens":12,"cache_read_input_tokens":0,
               "cache_creation_input_tokens":0,
               "cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0}}})");
}

TEST(ChatReplyTest, TextReplyFixture) {
  EXPECT_TRUE(JsonEqual(
      TextBasicMessage("msg_bdrk_01Q6WN27v95ypCa1kbanAQ6K"),
      MessageToJsonString(Decode(ReadFixture("chat_completions/text_basic.response.json")))));
}

TEST(ChatReplyTest, ReasoningBecomesAThinkingBlockFirstWithAnEmptySignature) {
  v1::Message message = Decode(ReadFixture("chat_completions/thinking.response.json"));
  ASSERT_EQ(message.content_size(), 2);
  ASSERT_TRUE(message.content(0).has_thinking());
  EXPECT_THAT(message.content(0).thinking().thinking(), HasSubstr("sin(30\u00b0) = 1/2"));
  EXPECT_EQ(message.content(0).thinking().signature(), "");
  EXPECT_EQ(message.content(1).text().text(), "The sine of 30 degrees is **1/2** or **0.5**.");
  EXPECT_EQ(message.model(), "claude-sonnet-4-20250514-thinking");
  EXPECT_EQ(message.usage().input_tokens(), 60);
  EXPECT_EQ(message.usage().output_tokens(), 239);
}

TEST(ChatReplyTest, UsageArithmeticRemovesCachedTokensFromInput) {
  v1::Message message = Decode(R"({"id":"c","model":"m","choices":[{"index":0,
      "message":{"role":"assistant","content":"x"},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":1000,"completion_tokens":7,
               "prompt_tokens_details":{"cached_tokens":600},
               "claude_cache_creation_5_m_tokens":100,"claude_cache_creation_1_h_tokens":50}})");
  EXPECT_TRUE(JsonEqual(R"({"input_tokens":250,"output_tokens":7,"cache_read_input_tokens":600,
      "cache_creation_input_tokens":150,
      "cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":50}})",
                        MessageToJsonString(message.usage())));
}

TEST(ChatReplyTest, EachFinishReason) {
  for (const auto& [finish, stop, raw] :
       std::vector<std::tuple<std::string, v1::StopReason, std::string>>{
           {"stop", v1::STOP_REASON_END_TURN, ""},
           {"length", v1::STOP_REASON_MAX_TOKENS, ""},
           {"tool_calls", v1::STOP_REASON_TOOL_USE, ""},
           {"content_filter", v1::STOP_REASON_REFUSAL, ""},
           {"function_call", v1::STOP_REASON_UNSPECIFIED, "function_call"}}) {
    v1::Message message = Decode(absl::StrCat(
        R"({"id":"c","model":"m","choices":[{"index":0,"message":{"content":"x"},"finish_reason":")",
        finish, R"("}]})"));
    EXPECT_EQ(message.stop_reason(), stop) << finish;
    EXPECT_EQ(message.stop_reason_raw(), raw) << finish;
  }
}

TEST(ChatReplyTest, ToolArgumentsThatAreNotAnObjectAreInternalNamingTheCall) {
  ChatCompletionsDialect dialect;
  v1::Message message;
  absl::Status status = dialect.DecodeReply(R"({"id":"c","model":"m","choices":[{"index":0,
      "message":{"content":null,"tool_calls":[{"id":"call_9","type":"function",
      "function":{"name":"f","arguments":"[1,2]"}}]},"finish_reason":"tool_calls"}]})",
                                            &message);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(status.message()), HasSubstr("call_9"));
  EXPECT_EQ(dialect.DecodeReply("not json", &message).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(dialect.DecodeReply(R"({"id":"c","model":"m","choices":[]})", &message).code(),
            absl::StatusCode::kInternal);
}

TEST(ChatReplyTest, ModelListBecomesListModelsResponse) {
  ChatCompletionsDialect dialect;
  v1::ListModelsResponse list;
  ASSERT_TRUE(dialect
                  .DecodeReply(R"({"object":"list","data":[
      {"id":"claude-opus-4","object":"model","created":1700000000,"owned_by":"anthropic"},
      {"id":"claude-haiku-4","object":"model","created":0,"owned_by":"anthropic"}]})",
                               &list)
                  .ok());
  EXPECT_TRUE(JsonEqual(R"({"data":[
      {"id":"claude-opus-4","type":"model","display_name":"claude-opus-4",
       "created_at":"2023-11-14T22:13:20Z","owned_by":"anthropic"},
      {"id":"claude-haiku-4","type":"model","display_name":"claude-haiku-4",
       "created_at":"1970-01-01T00:00:00Z","owned_by":"anthropic"}],
      "has_more":false,"first_id":"claude-opus-4","last_id":"claude-haiku-4"})",
                        MessageToJsonString(list)));
  v1::ModelInfo model;
  ASSERT_TRUE(
      dialect.DecodeReply(R"({"id":"m1","object":"model","created":1,"owned_by":"x"})", &model)
          .ok());
  EXPECT_EQ(model.id(), "m1");
  // Hostile shapes: INTERNAL, never a crash or a message protobuf cannot read back.
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  EXPECT_EQ(dialect.DecodeReply(R"({"id":"m1","x":)" + deep + "}", &model).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(dialect.DecodeReply(R"({"object":"model"})", &model).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(dialect.DecodeReply(R"({"data":[1]})", &list).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(dialect.DecodeReply(R"({"id":"m","created":"yesterday"})", &model).code(),
            absl::StatusCode::kInternal);
}

// ---- Errors ---------------------------------------------------------------------------------

TEST(ChatErrorTest, GatewayShape) {
  ChatCompletionsDialect dialect;
  UpstreamError error = dialect.ReadError(500, ReadFixture("chat_completions/error_500.json"), {});
  EXPECT_EQ(error.http_status, 500);
  EXPECT_EQ(error.type, "api_error");
  EXPECT_EQ(error.message, "fetch failed");
  EXPECT_EQ(error.request_id, "2cf86e86-22a4-46e1-ac2f-032c0f2a4e89");
}

TEST(ChatErrorTest, OpenAiShape) {
  ChatCompletionsDialect dialect;
  UpstreamError error = dialect.ReadError(429, R"({"error":{"message":"Rate limit reached",
      "type":"requests","param":null,"code":"rate_limit_exceeded"}})",
                                          {});
  EXPECT_EQ(error.type, "requests");
  EXPECT_EQ(error.code, "rate_limit_exceeded");
  EXPECT_EQ(error.message, "Rate limit reached");
  EXPECT_EQ(error.request_id, "");
}

TEST(ChatErrorTest, UnknownBodiesLeaveTheFieldsEmpty) {
  ChatCompletionsDialect dialect;
  for (const std::string body : {"", "<html>502</html>", R"({"error":"flat"})", "[1]"}) {
    UpstreamError error = dialect.ReadError(502, body, {});
    EXPECT_EQ(error.http_status, 502);
    EXPECT_EQ(error.type, "");
    EXPECT_EQ(error.message, "");
  }
}

// ---- Streams --------------------------------------------------------------------------------

struct Replay {
  std::vector<v1::MessageStreamEvent> events;
  absl::Status status;  // the first failure of Feed, else Finish's
};

Replay DecodeStream(const std::vector<std::string>& chunks) {
  ChatCompletionsDialect dialect;
  std::unique_ptr<EventDecoder> decoder = dialect.NewEventDecoder();
  Replay replay;
  auto emit = [&](v1::MessageStreamEvent event) {
    replay.events.push_back(std::move(event));
    return absl::OkStatus();
  };
  for (const std::string& chunk : chunks) {
    replay.status = decoder->Feed(chunk, emit);
    if (!replay.status.ok()) return replay;
  }
  replay.status = decoder->Finish(emit);
  return replay;
}

absl::StatusOr<v1::Message> Fold(const std::vector<v1::MessageStreamEvent>& events) {
  MessageAccumulator accumulator;
  for (const v1::MessageStreamEvent& event : events) {
    if (absl::Status s = accumulator.Apply(event); !s.ok()) return s;
  }
  return std::move(accumulator).Finish();
}

// The events as their JSON type names and indices: "message_start", "content_block_start 0"...
std::vector<std::string> Shape(const std::vector<v1::MessageStreamEvent>& events) {
  std::vector<std::string> shape;
  for (const v1::MessageStreamEvent& e : events) {
    if (e.has_message_start()) shape.push_back("message_start");
    if (e.has_content_block_start()) {
      shape.push_back(absl::StrCat("start ", e.content_block_start().index()));
    }
    if (e.has_content_block_delta()) {
      shape.push_back(absl::StrCat("delta ", e.content_block_delta().index()));
    }
    if (e.has_content_block_stop()) {
      shape.push_back(absl::StrCat("stop ", e.content_block_stop().index()));
    }
    if (e.has_message_delta()) shape.push_back("message_delta");
    if (e.has_message_stop()) shape.push_back("message_stop");
    if (e.has_error()) shape.push_back("error");
  }
  return shape;
}

// Replays `body` in every chunking: each decodes to events of `shape` that fold to the Message
// `message_json`.
void ExpectEveryChunkingFoldsTo(const std::string& body, const std::vector<std::string>& shape,
                                const std::string& message_json) {
  for (const std::vector<std::string>& chunks : Chunkings(body)) {
    Replay replay = DecodeStream(chunks);
    ASSERT_TRUE(replay.status.ok()) << replay.status;
    EXPECT_THAT(Shape(replay.events), ::testing::ElementsAreArray(shape));
    absl::StatusOr<v1::Message> message = Fold(replay.events);
    ASSERT_TRUE(message.ok()) << message.status();
    EXPECT_TRUE(JsonEqual(message_json, MessageToJsonString(*message)));
  }
}

TEST(ChatStreamTest, TextFixtureInEveryChunkingGivesTheMessagesEventSequence) {
  ExpectEveryChunkingFoldsTo(ReadFixture("chat_completions/text_basic.sse"),
                             {"message_start", "start 0", "delta 0", "delta 0", "delta 0", "stop 0",
                              "message_delta", "message_stop"},
                             TextBasicMessage("msg_bdrk_01LPPqDjLKMgfSwTRMRty9VT"));
}

TEST(ChatStreamTest, MessageStartCarriesIdModelAndZeroUsage) {
  Replay replay = DecodeStream({ReadFixture("chat_completions/text_basic.sse")});
  ASSERT_FALSE(replay.events.empty());
  EXPECT_TRUE(
      JsonEqual(R"({"type":"message_start","message":{"id":"msg_bdrk_01LPPqDjLKMgfSwTRMRty9VT",
      "type":"message","role":"assistant","model":"claude-opus-4-20250514",
      "usage":{"input_tokens":0,"output_tokens":0,"cache_read_input_tokens":0,
               "cache_creation_input_tokens":0,
               "cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0}}}})",
                MessageToJsonString(replay.events[0])));
}

// Reasoning, text, and two tool calls whose argument fragments interleave by index, split
// inside a \u escape of the arguments and between multi-byte characters: the stream folds to
// exactly the unary reply's Message, whatever the chunking.
TEST(ChatStreamTest, ReasoningAndInterleavedParallelToolCallsFoldToTheUnaryMessage) {
  const v1::Message unary = Decode(ReadFixture("chat_completions/thinking_tools.response.json"));
  ASSERT_EQ(unary.content_size(), 4);
  EXPECT_EQ(unary.content(2).tool_use().input().fields().at("note").string_value(), "\u00e9\n");
  EXPECT_EQ(unary.content(3).tool_use().input().fields().at("tz").string_value(), "日本");
  EXPECT_EQ(unary.usage().input_tokens(), 40);
  // Blocks never overlap: call 1 waits behind call 0 and follows it.
  ExpectEveryChunkingFoldsTo(
      ReadFixture("chat_completions/thinking_tools.sse"),
      {"message_start", "start 0", "delta 0", "delta 0", "stop 0", "start 1", "delta 1", "stop 1",
       "start 2", "delta 2", "delta 2", "delta 2", "stop 2", "start 3", "delta 3", "delta 3",
       "stop 3", "message_delta", "message_stop"},
      MessageToJsonString(unary));
}

std::string Chunk(const std::string& delta, const std::string& finish = "null") {
  return absl::StrCat(R"(data: {"id":"c1","model":"m","choices":[{"index":0,"delta":)", delta,
                      R"(,"finish_reason":)", finish, "}]}\n\n");
}

TEST(ChatStreamTest, EachFinishReasonReachesMessageDelta) {
  for (const auto& [finish, stop] : std::vector<std::pair<std::string, v1::StopReason>>{
           {"stop", v1::STOP_REASON_END_TURN},
           {"length", v1::STOP_REASON_MAX_TOKENS},
           {"tool_calls", v1::STOP_REASON_TOOL_USE},
           {"content_filter", v1::STOP_REASON_REFUSAL},
           {"weird", v1::STOP_REASON_UNSPECIFIED}}) {
    Replay replay = DecodeStream(
        {Chunk(R"({"content":"x"})"), Chunk("{}", "\"" + finish + "\""), "data: [DONE]\n\n"});
    ASSERT_TRUE(replay.status.ok()) << replay.status;
    absl::StatusOr<v1::Message> message = Fold(replay.events);
    ASSERT_TRUE(message.ok()) << message.status();
    EXPECT_EQ(message->stop_reason(), stop) << finish;
    EXPECT_EQ(message->stop_reason_raw(), stop == v1::STOP_REASON_UNSPECIFIED ? finish : "");
  }
}

TEST(ChatStreamTest, EmptyDeltasMakeNoEvents) {
  Replay replay = DecodeStream({Chunk(R"({"role":"assistant","content":""})"),
                                Chunk(R"({"content":"","reasoning_content":""})"),
                                Chunk("{}", "\"stop\""), "data: [DONE]\n\n"});
  ASSERT_TRUE(replay.status.ok()) << replay.status;
  EXPECT_THAT(Shape(replay.events),
              ::testing::ElementsAre("message_start", "message_delta", "message_stop"));
}

TEST(ChatStreamTest, AStreamCutBeforeDoneIsUnavailable) {
  const std::string body = ReadFixture("chat_completions/text_basic.sse");
  const std::string without_done = body.substr(0, body.find("data: [DONE]"));
  Replay replay = DecodeStream({without_done});
  EXPECT_EQ(replay.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(replay.status.message()), HasSubstr("[DONE]"));
  EXPECT_THAT(Shape(replay.events), ::testing::Not(::testing::Contains("message_stop")));
  Replay mid_event = DecodeStream({body.substr(0, body.size() - 3)});
  EXPECT_EQ(mid_event.status.code(), absl::StatusCode::kUnavailable);
}

TEST(ChatStreamTest, AnErrorChunkBecomesAnErrorEvent) {
  Replay replay =
      DecodeStream({Chunk(R"({"content":"x"})"),
                    R"(data: {"error":{"message":"Overloaded","type":"overloaded_error"}})"
                    "\n\n"});
  ASSERT_FALSE(replay.events.empty());
  const v1::MessageStreamEvent& last = replay.events.back();
  ASSERT_TRUE(last.has_error());
  EXPECT_EQ(last.error().error().type(), "overloaded_error");
  EXPECT_EQ(last.error().error().message(), "Overloaded");
  Replay gateway = DecodeStream(
      {R"(data: {"success":false,"error":{"code":"too_many_requests","message":"slow down"}})"
       "\n\n"});
  ASSERT_EQ(gateway.events.size(), 1u);
  EXPECT_EQ(gateway.events[0].error().error().type(), "too_many_requests");
}

TEST(ChatStreamTest, MalformedChunksAreInternal) {
  for (const std::string& bad :
       {std::string("data: {not json}\n\n"), Chunk(R"({"content":7})"),
        Chunk(R"({"tool_calls":[{"function":{"arguments":"{}"}}]})"),            // no index
        Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]})"),  // no id, name
        Chunk(R"({"tool_calls":[{"index":99999,"id":"a","function":{"name":"f"}}]})"),  // bound
        Chunk(R"({"tool_calls":[{"index":-1,"id":"a","function":{"name":"f"}}]})"),
        std::string("data: [DONE]\n\n")}) {  // the last: data after [DONE]
    Replay replay = DecodeStream({Chunk(R"({"content":""})") + bad + "data: [DONE]\n\n"});
    EXPECT_EQ(replay.status.code(), absl::StatusCode::kInternal) << bad;
  }
  EXPECT_EQ(DecodeStream({"data: [DONE]\n\n"}).status.code(), absl::StatusCode::kInternal);
}

TEST(ChatStreamTest, ToolArgumentsThatAreNotAnObjectEndTheStreamInternalNamingTheCall) {
  Replay replay = DecodeStream(
      {Chunk(
           R"({"tool_calls":[{"index":0,"id":"call_7","function":{"name":"f","arguments":"[1,"}}]})"),
       Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"2]"}}]})"),
       Chunk("{}", "\"tool_calls\""), "data: [DONE]\n\n"});
  EXPECT_EQ(replay.status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(replay.status.message()), HasSubstr("call_7"));
  EXPECT_THAT(Shape(replay.events), ::testing::Not(::testing::Contains("stop 0")));
}

TEST(ChatStreamTest, TextAfterAnOpenToolCallWaitsForIt) {
  Replay replay = DecodeStream(
      {Chunk(
           R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{\"x\""}}]})"),
       Chunk(R"({"content":"late"})"),
       Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]})"),
       Chunk("{}", "\"tool_calls\""), "data: [DONE]\n\n"});
  ASSERT_TRUE(replay.status.ok()) << replay.status;
  EXPECT_THAT(
      Shape(replay.events),
      ::testing::ElementsAre("message_start", "start 0", "delta 0", "delta 0", "stop 0", "start 1",
                             "delta 1", "stop 1", "message_delta", "message_stop"));
  absl::StatusOr<v1::Message> message = Fold(replay.events);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->content(0).tool_use().input().fields().at("x").number_value(), 1);
  EXPECT_EQ(message->content(1).text().text(), "late");
}

}  // namespace
}  // namespace claude
