// The chat_completions dialect as pure code: requests in, HTTP requests out; bodies in, claude.v1
// messages and events out. Streams are replayed in many chunkings, one byte at a time included,
// and must fold to the Message the unary reply gives.
#include "service/upstream/chat_completions_dialect.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/codec/json_mapping.h"
#include "common/codec/message_accumulator.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

using ::claude::testing::Chunkings;
using ::claude::testing::JsonEqual;
using ::claude::testing::ReadFixture;
using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::CreateMessageRequest Request(const std::string& json) {
  v1::CreateMessageRequest request;
  absl::Status status = JsonToMessage(json, &request);
  EXPECT_TRUE(status.ok()) << status;
  return request;
}

std::string Body(const HttpRequest& request) { return request.body ? *request.body : ""; }

absl::StatusOr<std::string> BodyFor(const std::string& request_json, bool stream = false,
                                    ChatThinking thinking = ChatThinking::kModelSuffix) {
  ChatCompletionsOptions options;
  options.thinking = thinking;
  ChatCompletionsDialect dialect(options);
  absl::StatusOr<HttpRequest> http = dialect.CreateMessage(Request(request_json), stream, {});
  if (!http.ok()) return http.status();
  return Body(*http);
}

// ---- Requests -------------------------------------------------------------------------------

TEST(ChatRequestTest, SmallestStreamedRequestIsTheDocumentedOne) {
  ChatCompletionsOptions options;
  options.base_url = "https://gateway.example/openai/";
  ChatCompletionsDialect dialect(options);
  absl::StatusOr<HttpRequest> http = dialect.CreateMessage(
      Request(R"({"model":"claude-opus-4-20250514","max_tokens":64,
                  "messages":[{"role":"user","content":"Hello"}]})"),
      /*stream=*/true, {{"traceparent", "00-abc-def-01"}});
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->method, "POST");
  EXPECT_EQ(http->url, "https://gateway.example/openai/v1/chat/completions");
  EXPECT_THAT(http->headers, ::testing::Contains(std::pair<std::string, std::string>(
                                 "traceparent", "00-abc-def-01")));
  EXPECT_THAT(http->headers, ::testing::Contains(std::pair<std::string, std::string>(
                                 "content-type", "application/json")));
  // The fixture's request, plus what every streamed request carries.
  std::string expected = ReadFixture("chat_completions/text_basic.request.json");
  expected = absl::StrReplaceAll(expected, {{R"("stream": true)",
                                             R"("stream": true, "max_tokens": 64,
                                                "stream_options": {"include_usage": true})"}});
  EXPECT_TRUE(JsonEqual(expected, Body(*http)));
}

TEST(ChatRequestTest, VisionRequestMatchesTheFixture) {
  absl::StatusOr<std::string> body = BodyFor(R"({"model":"claude-sonnet-4-20250514",
      "messages":[{"role":"user","content":[{"type":"text","text":"What's in this image?"},
        {"type":"image","source":{"type":"url","url":"https://example.com/ueugot.png"}}]}]})");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_TRUE(JsonEqual(ReadFixture("chat_completions/vision.request.json"), *body));
}

TEST(ChatRequestTest, Base64ImageBecomesADataUrl) {
  absl::StatusOr<std::string> body = BodyFor(R"({"model":"m","messages":[{"role":"user",
      "content":[{"type":"image","source":{"type":"base64","media_type":"image/png",
                                           "data":"iVBORw0KGgo="}}]}]})");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_TRUE(JsonEqual(R"({"model":"m","messages":[{"role":"user","content":[
      {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]})",
                        *body));
}

TEST(ChatRequestTest, EveryTranslatableFieldMapsAsDocumented) {
  absl::StatusOr<std::string> body = BodyFor(R"({
    "model": "claude-sonnet-4-5", "max_tokens": 1024, "temperature": 0.123456789, "top_p": 0.9,
    "stop_sequences": ["END", "STOP"], "metadata": {"user_id": "u-42"},
    "system": [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}],
    "tools": [{"name": "get_weather", "description": "Weather now", "strict": true,
               "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
    "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true},
    "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
    "messages": [
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "Use the tool.", "signature": "sig"},
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C"},
        {"type": "text", "text": "And tomorrow?"},
        {"type": "tool_result", "tool_use_id": "toolu_2",
         "content": [{"type": "text", "text": "sunny"}]}]}],
    "seed": 7
  })");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_TRUE(JsonEqual(R"({
    "model": "claude-sonnet-4-5", "max_tokens": 1024, "temperature": 0.123456789, "top_p": 0.9,
    "stop": ["END", "STOP"], "user": "u-42",
    "messages": [
      {"role": "system", "content": [{"type": "text", "text": "Be brief."},
                                     {"type": "text", "text": "Be kind."}]},
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": [{"type": "text", "text": "Let me look."}],
       "reasoning_content": "Use the tool.",
       "tool_calls": [{"id": "toolu_1", "type": "function",
                       "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "toolu_1", "content": "18 C"},
      {"role": "user", "content": [{"type": "text", "text": "And tomorrow?"}]},
      {"role": "tool", "tool_call_id": "toolu_2", "content": [{"type": "text", "text": "sunny"}]}],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather now",
               "strict": true,
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "parallel_tool_calls": false,
    "response_format": {"type": "json_schema",
                        "json_schema": {"name": "output", "schema": {"type": "object"}}},
    "seed": 7
  })", *body));
}

TEST(ChatRequestTest, ToolChoicesMap) {
  for (const auto& [claude_choice, chat_choice] :
       std::vector<std::pair<std::string, std::string>>{
           {R"({"type":"auto"})", R"("auto")"},
           {R"({"type":"any"})", R"("required")"},
           {R"({"type":"none"})", R"("none")"}}) {
    absl::StatusOr<std::string> body = BodyFor(absl::StrCat(
        R"({"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":)",
        claude_choice, "}"));
    ASSERT_TRUE(body.ok()) << body.status();
    EXPECT_TRUE(JsonEqual(absl::StrCat(R"({"model":"m","messages":[{"role":"user","content":"hi"}],
                                           "tool_choice":)", chat_choice, "}"),
                          *body));
  }
}

TEST(ChatRequestTest, ThinkingFollowsTheConfiguredConvention) {
  const std::string thinking =
      R"({"model":"claude-sonnet-4","messages":[{"role":"user","content":"hi"}],
          "thinking":{"type":"enabled","budget_tokens":8000}})";
  absl::StatusOr<std::string> suffix = BodyFor(thinking, false, ChatThinking::kModelSuffix);
  ASSERT_TRUE(suffix.ok()) << suffix.status();
  EXPECT_TRUE(JsonEqual(R"({"model":"claude-sonnet-4-thinking",
                            "messages":[{"role":"user","content":"hi"}]})", *suffix));

  absl::StatusOr<std::string> effort = BodyFor(thinking, false, ChatThinking::kReasoningEffort);
  ASSERT_TRUE(effort.ok()) << effort.status();
  EXPECT_TRUE(JsonEqual(R"({"model":"claude-sonnet-4","reasoning_effort":"medium",
                            "messages":[{"role":"user","content":"hi"}]})", *effort));

  absl::StatusOr<std::string> named = BodyFor(
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],
          "thinking":{"type":"adaptive"},"output_config":{"effort":"high"}})",
      false, ChatThinking::kReasoningEffort);
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_TRUE(JsonEqual(R"({"model":"m","reasoning_effort":"high",
                            "messages":[{"role":"user","content":"hi"}]})", *named));

  absl::StatusOr<std::string> off = BodyFor(thinking, false, ChatThinking::kOff);
  EXPECT_EQ(off.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(off.status().message()), StartsWith("thinking:"));

  absl::StatusOr<std::string> disabled = BodyFor(
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"thinking":{"type":"disabled"}})",
      false, ChatThinking::kOff);
  EXPECT_TRUE(disabled.ok()) << disabled.status();
}

TEST(ChatRequestTest, CreateSignsWithTheConfiguredScheme) {
  ChatCompletionsOptions options;
  options.base_url = "http://127.0.0.1:1";
  options.api_key = std::make_shared<StaticApiKeySource>("sk-test");
  absl::StatusOr<std::unique_ptr<ChatCompletionsDialect>> dialect =
      ChatCompletionsDialect::Create(options);
  ASSERT_TRUE(dialect.ok()) << dialect.status();
  absl::StatusOr<HttpRequest> http = (*dialect)->CreateMessage(
      Request(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"), false, {});
  ASSERT_TRUE(http.ok() && http->signer != nullptr);
  absl::StatusOr<HttpHeaders> headers = http->signer->Sign(*http, absl::Now());
  ASSERT_TRUE(headers.ok()) << headers.status();
  EXPECT_THAT(*headers, ::testing::ElementsAre(std::pair<std::string, std::string>(
                            "authorization", "Bearer sk-test")));
  options.auth_scheme = "basic";
  EXPECT_EQ(ChatCompletionsDialect::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChatRequestTest, ParseChatThinkingNamesTheValues) {
  EXPECT_EQ(*ParseChatThinking("model_suffix"), ChatThinking::kModelSuffix);
  EXPECT_EQ(*ParseChatThinking("reasoning_effort"), ChatThinking::kReasoningEffort);
  EXPECT_EQ(*ParseChatThinking("off"), ChatThinking::kOff);
  EXPECT_FALSE(ParseChatThinking("on").ok());
}

struct Refusal {
  std::string request_members;  // added to a valid request
  std::string path;             // the field the status must name first
};

class ChatRefusalTest : public ::testing::TestWithParam<Refusal> {};

TEST_P(ChatRefusalTest, RefusedWithInvalidArgumentNamingTheField) {
  const Refusal& refusal = GetParam();
  const std::string json = absl::StrCat(R"({"model":"m",)", refusal.request_members, "}");
  absl::StatusOr<std::string> body = BodyFor(json);
  ASSERT_FALSE(body.ok()) << *body;
  EXPECT_EQ(body.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(body.status().message()), StartsWith(refusal.path + ":"));
  EXPECT_THAT(std::string(body.status().message()), HasSubstr("chat_completions"));
}

const char kUser[] = R"("messages":[{"role":"user","content":"hi"}])";

INSTANTIATE_TEST_SUITE_P(
    EveryRefusedField, ChatRefusalTest,
    ::testing::Values(
        Refusal{absl::StrCat(kUser, R"(,"top_k":5)"), "top_k"},
        Refusal{absl::StrCat(kUser, R"(,"cache_control":{"type":"ephemeral"})"), "cache_control"},
        Refusal{absl::StrCat(kUser, R"(,"service_tier":"auto")"), "service_tier"},
        Refusal{absl::StrCat(kUser, R"(,"inference_geo":"us")"), "inference_geo"},
        Refusal{absl::StrCat(kUser, R"(,"container":"c_1")"), "container"},
        Refusal{absl::StrCat(kUser, R"(,"system":[{"type":"text","text":"s",
                                                   "cache_control":{"type":"ephemeral"}}])"),
                "system[0].cache_control"},
        Refusal{R"("messages":[{"role":"user","content":[{"type":"text","text":"t",
                    "cache_control":{"type":"ephemeral"}}]}])",
                "messages[0].content[0].cache_control"},
        Refusal{R"("messages":[{"role":"user","content":[{"type":"document",
                    "source":{"type":"text","media_type":"text/plain","data":"d"}}]}])",
                "messages[0].content[0]"},
        Refusal{R"("messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t",
                    "content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}])",
                "messages[0].content[0].content[0]"},
        Refusal{R"("messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t",
                    "content":"boom","is_error":true}]}])",
                "messages[0].content[0].is_error"},
        Refusal{R"("messages":[{"role":"user","content":[{"type":"image",
                    "source":{"type":"file","file_id":"f_1"}}]}])",
                "messages[0].content[0].source"},
        Refusal{R"("messages":[{"role":"assistant","content":[{"type":"server_tool_use","id":"s",
                    "name":"web_search","input":{}}]}])",
                "messages[0].content[0]"},
        Refusal{R"("messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t",
                    "name":"n","input":{},"cache_control":{"type":"ephemeral"}}]}])",
                "messages[0].content[0].cache_control"},
        Refusal{absl::StrCat(kUser, R"(,"tools":[{"type":"web_search_20250305","name":"web_search"}])"),
                "tools[0]"},
        Refusal{absl::StrCat(kUser, R"(,"tools":[{"name":"t","input_schema":{"type":"object"},
                                                  "cache_control":{"type":"ephemeral"}}])"),
                "tools[0].cache_control"},
        Refusal{absl::StrCat(kUser, R"(,"output_config":{"effort":"high"})"),
                "output_config.effort"},
        Refusal{absl::StrCat(kUser, R"(,"output_config":{"format":{"type":"xml"}})"),
                "output_config.format"},
        Refusal{absl::StrCat(kUser, R"(,"thinking":{"type":"enabled","budget_tokens":2000,
                                                    "display":"omitted"})"),
                "thinking.display"},
        Refusal{R"("messages":[{"role":"user","content":"hi","name":"bob"}])",
                "messages[0].name"}));

TEST(ChatRequestTest, CountTokensIsUnimplemented) {
  ChatCompletionsDialect dialect;
  absl::StatusOr<HttpRequest> http = dialect.CountTokens(v1::CountTokensRequest(), {});
  EXPECT_EQ(http.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(http.status().message()), HasSubstr("no token counting"));
}

TEST(ChatRequestTest, ModelsAreGetRequests) {
  ChatCompletionsDialect dialect;
  v1::ListModelsRequest list;
  list.set_limit(1000);
  absl::StatusOr<HttpRequest> http = dialect.ListModels(list, {});
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->method, "GET");
  EXPECT_EQ(http->url, "/v1/models");
  list.set_after_id("x");
  EXPECT_EQ(dialect.ListModels(list, {}).status().code(), absl::StatusCode::kInvalidArgument);
  v1::GetModelRequest get;
  get.set_model_id("gpt/4 o");
  http = dialect.GetModel(get, {});
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->url, "/v1/models/gpt%2F4%20o");
}

// ---- Replies --------------------------------------------------------------------------------

v1::Message Decode(const std::string& body) {
  ChatCompletionsDialect dialect;
  v1::Message message;
  absl::Status status = dialect.DecodeReply(body, &message);
  EXPECT_TRUE(status.ok()) << status;
  return message;
}

TEST(ChatReplyTest, TextReplyFixture) {
  EXPECT_TRUE(JsonEqual(R"({"id":"msg_bdrk_01Q6WN27v95ypCa1kbanAQ6K","type":"message",
      "role":"assistant","model":"claude-opus-4-20250514",
      "content":[{"type":"text","text":"Hello! How can I help you today?"}],
      "stop_reason":"end_turn",
      "usage":{"input_tokens":8,"output_tokens":12,"cache_read_input_tokens":0,
               "cache_creation_input_tokens":0,
               "cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0}}})",
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
  for (const auto& [finish, stop, raw] : std::vector<std::tuple<std::string, v1::StopReason, std::string>>{
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
  ASSERT_TRUE(dialect.DecodeReply(R"({"object":"list","data":[
      {"id":"claude-opus-4","object":"model","created":1700000000,"owned_by":"anthropic"},
      {"id":"claude-haiku-4","object":"model","created":0,"owned_by":"anthropic"}]})", &list).ok());
  EXPECT_TRUE(JsonEqual(R"({"data":[
      {"id":"claude-opus-4","type":"model","display_name":"claude-opus-4",
       "created_at":"2023-11-14T22:13:20Z","owned_by":"anthropic"},
      {"id":"claude-haiku-4","type":"model","display_name":"claude-haiku-4",
       "created_at":"1970-01-01T00:00:00Z","owned_by":"anthropic"}],
      "has_more":false,"first_id":"claude-opus-4","last_id":"claude-haiku-4"})",
                        MessageToJsonString(list)));
  v1::ModelInfo model;
  ASSERT_TRUE(dialect.DecodeReply(R"({"id":"m1","object":"model","created":1,"owned_by":"x"})",
                                  &model).ok());
  EXPECT_EQ(model.id(), "m1");
  // Hostile shapes: INTERNAL, never a crash or a message protobuf cannot read back.
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  EXPECT_EQ(dialect.DecodeReply(R"({"id":"m1","x":)" + deep + "}", &model).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(dialect.DecodeReply(R"({"object":"model"})", &model).code(), absl::StatusCode::kInternal);
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
      "type":"requests","param":null,"code":"rate_limit_exceeded"}})", {});
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

TEST(ChatStreamTest, TextFixtureInEveryChunkingGivesTheMessagesEventSequence) {
  const std::string body = ReadFixture("chat_completions/text_basic.sse");
  for (const std::vector<std::string>& chunks : Chunkings(body)) {
    Replay replay = DecodeStream(chunks);
    ASSERT_TRUE(replay.status.ok()) << replay.status;
    EXPECT_THAT(Shape(replay.events),
                ::testing::ElementsAre("message_start", "start 0", "delta 0", "delta 0", "delta 0",
                                       "stop 0", "message_delta", "message_stop"));
    absl::StatusOr<v1::Message> message = Fold(replay.events);
    ASSERT_TRUE(message.ok()) << message.status();
    EXPECT_TRUE(JsonEqual(R"({"id":"msg_bdrk_01LPPqDjLKMgfSwTRMRty9VT","type":"message",
        "role":"assistant","model":"claude-opus-4-20250514",
        "content":[{"type":"text","text":"Hello! How can I help you today?"}],
        "stop_reason":"end_turn",
        "usage":{"input_tokens":8,"output_tokens":12,"cache_read_input_tokens":0,
                 "cache_creation_input_tokens":0,
                 "cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0}}})",
                          MessageToJsonString(*message)));
  }
}

TEST(ChatStreamTest, MessageStartCarriesIdModelAndZeroUsage) {
  Replay replay = DecodeStream({ReadFixture("chat_completions/text_basic.sse")});
  ASSERT_FALSE(replay.events.empty());
  EXPECT_TRUE(JsonEqual(R"({"type":"message_start","message":{"id":"msg_bdrk_01LPPqDjLKMgfSwTRMRty9VT",
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
  const std::string body = ReadFixture("chat_completions/thinking_tools.sse");
  for (const std::vector<std::string>& chunks : Chunkings(body)) {
    Replay replay = DecodeStream(chunks);
    ASSERT_TRUE(replay.status.ok()) << replay.status;
    // Blocks never overlap: call 1 waits behind call 0 and follows it.
    EXPECT_THAT(Shape(replay.events),
                ::testing::ElementsAre("message_start", "start 0", "delta 0", "delta 0", "stop 0",
                                       "start 1", "delta 1", "stop 1", "start 2", "delta 2",
                                       "delta 2", "delta 2", "stop 2", "start 3", "delta 3",
                                       "delta 3", "stop 3", "message_delta", "message_stop"));
    absl::StatusOr<v1::Message> message = Fold(replay.events);
    ASSERT_TRUE(message.ok()) << message.status();
    EXPECT_TRUE(JsonEqual(MessageToJsonString(unary), MessageToJsonString(*message)));
  }
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
    Replay replay = DecodeStream({Chunk(R"({"content":"x"})"), Chunk("{}", "\"" + finish + "\""),
                            "data: [DONE]\n\n"});
    ASSERT_TRUE(replay.status.ok()) << replay.status;
    absl::StatusOr<v1::Message> message = Fold(replay.events);
    ASSERT_TRUE(message.ok()) << message.status();
    EXPECT_EQ(message->stop_reason(), stop) << finish;
    EXPECT_EQ(message->stop_reason_raw(), stop == v1::STOP_REASON_UNSPECIFIED ? finish : "");
  }
}

TEST(ChatStreamTest, EmptyDeltasMakeNoEvents) {
  Replay replay = DecodeStream({Chunk(R"({"role":"assistant","content":""})"),
                          Chunk(R"({"content":"","reasoning_content":""})"), Chunk("{}", "\"stop\""),
                          "data: [DONE]\n\n"});
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
  Replay replay = DecodeStream({Chunk(R"({"content":"x"})"),
                          R"(data: {"error":{"message":"Overloaded","type":"overloaded_error"}})"
                          "\n\n"});
  ASSERT_FALSE(replay.events.empty());
  const v1::MessageStreamEvent& last = replay.events.back();
  ASSERT_TRUE(last.has_error());
  EXPECT_EQ(last.error().error().type(), "overloaded_error");
  EXPECT_EQ(last.error().error().message(), "Overloaded");
  Replay gateway = DecodeStream({R"(data: {"success":false,"error":{"code":"too_many_requests","message":"slow down"}})"
                           "\n\n"});
  ASSERT_EQ(gateway.events.size(), 1u);
  EXPECT_EQ(gateway.events[0].error().error().type(), "too_many_requests");
}

TEST(ChatStreamTest, MalformedChunksAreInternal) {
  for (const std::string& bad :
       {std::string("data: {not json}\n\n"), Chunk(R"({"content":7})"),
        Chunk(R"({"tool_calls":[{"function":{"arguments":"{}"}}]})"),  // no index
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
      {Chunk(R"({"tool_calls":[{"index":0,"id":"call_7","function":{"name":"f","arguments":"[1,"}}]})"),
       Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"2]"}}]})"),
       Chunk("{}", "\"tool_calls\""), "data: [DONE]\n\n"});
  EXPECT_EQ(replay.status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(replay.status.message()), HasSubstr("call_7"));
  EXPECT_THAT(Shape(replay.events), ::testing::Not(::testing::Contains("stop 0")));
}

TEST(ChatStreamTest, TextAfterAnOpenToolCallWaitsForIt) {
  Replay replay = DecodeStream(
      {Chunk(R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{\"x\""}}]})"),
       Chunk(R"({"content":"late"})"),
       Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]})"),
       Chunk("{}", "\"tool_calls\""), "data: [DONE]\n\n"});
  ASSERT_TRUE(replay.status.ok()) << replay.status;
  EXPECT_THAT(Shape(replay.events),
              ::testing::ElementsAre("message_start", "start 0", "delta 0", "delta 0", "stop 0",
                                     "start 1", "delta 1", "stop 1", "message_delta",
                                     "message_stop"));
  absl::StatusOr<v1::Message> message = Fold(replay.events);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->content(0).tool_use().input().fields().at("x").number_value(), 1);
  EXPECT_EQ(message->content(1).text().text(), "late");
}

}  // namespace
}  // namespace claude
