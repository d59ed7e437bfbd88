// The chat_completions dialect's requests as pure code: claude.v1 requests in, HTTP requests
// out, and what it refuses to translate. Its replies, errors and streams are in
// chat_completions_reply_test.cc.
#include "service/upstream/chat_completions_dialect.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/codec/json_mapping.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

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
  absl::StatusOr<HttpRequest> http =
      dialect.CreateMessage(Request(R"({"model":"claude-opus-4-20250514","max_tokens":64,
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
  })",
                        *body));
}

TEST(ChatRequestTest, ToolChoicesMap) {
  for (const auto& [claude_choice, chat_choice] :
       std::vector<std::pair<std::string, std::string>>{{R"({"type":"auto"})", R"("auto")"},
                                                        {R"({"type":"any"})", R"("required")"},
                                                        {R"({"type":"none"})", R"("none")"}}) {
    absl::StatusOr<std::string> body = BodyFor(
        absl::StrCat(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":)",
                     claude_choice, "}"));
    ASSERT_TRUE(body.ok()) << body.status();
    EXPECT_TRUE(JsonEqual(absl::StrCat(R"({"model":"m","messages":[{"role":"user","content":"hi"}],
                                           "tool_choice":)",
                                       chat_choice, "}"),
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
                            "messages":[{"role":"user","content":"hi"}]})",
                        *suffix));

  absl::StatusOr<std::string> effort = BodyFor(thinking, false, ChatThinking::kReasoningEffort);
  ASSERT_TRUE(effort.ok()) << effort.status();
  EXPECT_TRUE(JsonEqual(R"({"model":"claude-sonnet-4","reasoning_effort":"medium",
                            "messages":[{"role":"user","content":"hi"}]})",
                        *effort));

  absl::StatusOr<std::string> named = BodyFor(
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],
          "thinking":{"type":"adaptive"},"output_config":{"effort":"high"}})",
      false, ChatThinking::kReasoningEffort);
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_TRUE(JsonEqual(R"({"model":"m","reasoning_effort":"high",
                            "messages":[{"role":"user","content":"hi"}]})",
                        *named));

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
        Refusal{
            absl::StrCat(kUser, R"(,"tools":[{"type":"web_search_20250305","name":"web_search"}])"),
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

}  // namespace
}  // namespace claude
