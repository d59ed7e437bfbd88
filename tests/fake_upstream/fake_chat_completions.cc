#include "tests/fake_upstream/fake_chat_completions.h"

#include <string>
#include <cstring>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"
#include "tests/fake_upstream/echo_words.h"

namespace claude::testing {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr char kJson[] = "application/json";

EchoAnswer OpenAiError(int status, absl::string_view type, absl::string_view message) {
  std::string body = R"({"error":{"message":)";
  AppendJsonString(message, &body);
  body += R"(,"type":)";
  AppendJsonString(type, &body);
  body += R"(,"param":null,"code":null}})";
  return {status, kJson, std::move(body), {}};
}

EchoAnswer GatewayError(int status, int n) {
  std::string body = absl::StrCat(R"({"success":false,"error":{"code":"fake_error_)", status,
                                  R"(","message":"the fake gateway was asked to fail"},)",
                                  R"("trace_id":"trace_fake_)", n, R"("})");
  return {status, kJson, std::move(body), {}};
}

// The text of a message's content: a string, or its text parts concatenated.
std::string ContentText(element content) {
  std::string_view text;
  if (content.get_string().get(text) == simdjson::SUCCESS) return std::string(text);
  std::string out;
  array parts;
  if (content.get_array().get(parts) != simdjson::SUCCESS) return out;
  for (element part : parts) {
    std::string_view type;
    if (part["type"].get(type) == simdjson::SUCCESS && type == "text" &&
        part["text"].get(text) == simdjson::SUCCESS) {
      out += text;
    }
  }
  return out;
}

struct ChatRequest {
  std::string model;
  bool stream = false;
  bool include_usage = false;
  bool thinking = false;
  std::string last_user_text;
  int prompt_words = 0;
  std::vector<std::string> tools;  // function names to call
};

bool Parse(absl::string_view body, ChatRequest* request, std::string* error) {
  simdjson::dom::parser parser;
  object root;
  if (auto e = parser.parse(body.data(), body.size()).get(root); e) {
    *error = absl::StrCat("invalid JSON: ", simdjson::error_message(e));
    return false;
  }
  std::string_view model;
  array messages;
  if (root["model"].get(model) != simdjson::SUCCESS ||
      root["messages"].get(messages) != simdjson::SUCCESS) {
    *error = "model and messages are required";
    return false;
  }
  request->model = std::string(model);
  bool flag = false;
  request->stream = root["stream"].get(flag) == simdjson::SUCCESS && flag;
  request->include_usage =
      root["stream_options"]["include_usage"].get(flag) == simdjson::SUCCESS && flag;
  request->thinking = absl::EndsWith(request->model, "-thinking") ||
                      root["reasoning_effort"].error() == simdjson::SUCCESS;
  bool answers_tool = false;
  for (element message : messages) {
    std::string_view role;
    element content;
    if (message["role"].get(role) != simdjson::SUCCESS) continue;
    const std::string text =
        message["content"].get(content) == simdjson::SUCCESS ? ContentText(content) : "";
    request->prompt_words += CountWords(text);
    answers_tool = role == "tool";
    if (role == "user") request->last_user_text = text;
  }
  std::string_view tool_choice;
  const bool no_tools = root["tool_choice"].get(tool_choice) == simdjson::SUCCESS &&
                        tool_choice == "none";
  array tools;
  if (!no_tools && !answers_tool && root["tools"].get(tools) == simdjson::SUCCESS) {
    for (element tool : tools) {
      std::string_view name;
      if (tool["function"]["name"].get(name) == simdjson::SUCCESS) {
        request->tools.emplace_back(name);
      }
    }
  }
  return true;
}

// `{"text":<text>}` as JSON text, the arguments of every call.
std::string Arguments(const std::string& text) {
  std::string out = R"({"text":)";
  AppendJsonString(text, &out);
  out += "}";
  return out;
}

std::string UsageJson(int prompt, int completion) {
  return absl::StrCat(R"({"prompt_tokens":)", prompt, R"(,"completion_tokens":)", completion,
                      R"(,"total_tokens":)", prompt + completion,
                      R"(,"prompt_tokens_details":{"cached_tokens":0},)",
                      R"("claude_cache_creation_5_m_tokens":0,"claude_cache_creation_1_h_tokens":0})");
}

EchoAnswer Unary(const ChatRequest& request, int n, const std::string& text,
                 const std::string& reasoning) {
  std::string body = absl::StrCat(R"({"id":"chatcmpl-fake-)", n,
                                  R"(","object":"chat.completion","created":1768619365,"model":)");
  AppendJsonString(request.model, &body);
  body += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":)";
  AppendJsonString(text, &body);
  if (request.thinking) {
    body += R"(,"reasoning_content":)";
    AppendJsonString(reasoning, &body);
  }
  if (!request.tools.empty()) {
    body += R"(,"tool_calls":[)";
    for (size_t i = 0; i < request.tools.size(); ++i) {
      if (i > 0) body += ",";
      absl::StrAppend(&body, R"({"id":"call_fake_)", n, "_", i, R"(","type":"function","function":{"name":)");
      AppendJsonString(request.tools[i], &body);
      body += R"(,"arguments":)";
      AppendJsonString(Arguments(request.last_user_text), &body);
      body += "}}";
    }
    body += "]";
  }
  absl::StrAppend(&body, R"(},"finish_reason":)",
                  request.tools.empty() ? R"("stop")" : R"("tool_calls")", R"(}],"usage":)",
                  UsageJson(request.prompt_words, static_cast<int>(WordPieces(text).size())), "}");
  return {200, kJson, std::move(body), {}};
}

EchoAnswer Stream(const ChatRequest& request, int n, const std::string& text,
                  const std::string& reasoning) {
  std::string head = absl::StrCat(R"(data: {"id":"chatcmpl-fake-)", n,
                                  R"(","object":"chat.completion.chunk","created":1768619445,"model":)");
  AppendJsonString(request.model, &head);
  head += R"(,"choices":[{"index":0,"delta":)";
  std::string out;
  const auto chunk = [&](const std::string& delta, absl::string_view finish = "null") {
    absl::StrAppend(&out, head, delta, R"(,"finish_reason":)", finish, "}],\"usage\":null}\n\n");
  };
  const auto piece = [](absl::string_view member, absl::string_view text_piece) {
    std::string delta = absl::StrCat("{\"", member, "\":");
    AppendJsonString(text_piece, &delta);
    return delta + "}";
  };
  chunk(R"({"role":"assistant","content":""})");
  if (request.thinking) {
    for (absl::string_view word : WordPieces(reasoning)) chunk(piece("reasoning_content", word));
  }
  for (absl::string_view word : WordPieces(text)) chunk(piece("content", word));
  // Every call opens (id, name), then the two halves of all arguments, interleaved by index.
  const std::string arguments = Arguments(request.last_user_text);
  const size_t half = arguments.size() / 2;
  for (size_t i = 0; i < request.tools.size(); ++i) {
    std::string call = absl::StrCat(R"({"tool_calls":[{"index":)", i, R"(,"id":"call_fake_)", n,
                                    "_", i, R"(","type":"function","function":{"name":)");
    AppendJsonString(request.tools[i], &call);
    chunk(call + R"(,"arguments":""}}]})");
  }
  for (size_t part = 0; part < 2; ++part) {
    for (size_t i = 0; i < request.tools.size(); ++i) {
      std::string call = absl::StrCat(R"({"tool_calls":[{"index":)", i, R"(,"function":{"arguments":)");
      AppendJsonString(part == 0 ? arguments.substr(0, half) : arguments.substr(half), &call);
      chunk(call + "}}]}");
    }
  }
  chunk("{}", request.tools.empty() ? R"("stop")" : R"("tool_calls")");
  if (request.include_usage) {
    out += head.substr(0, head.find(R"(,"choices":)"));
    absl::StrAppend(&out, R"(,"choices":[],"usage":)",
                    UsageJson(request.prompt_words, static_cast<int>(WordPieces(text).size())),
                    "}\n\n");
  }
  out += "data: [DONE]\n\n";
  return {200, "text/event-stream", std::move(out), {}};
}

}  // namespace

EchoAnswer ChatCompletionsEcho(absl::string_view body, int n) {
  ChatRequest request;
  std::string error;
  if (!Parse(body, &request, &error)) return OpenAiError(400, "invalid_request_error", error);
  int status = 0;
  if (absl::StartsWith(request.model, "fake-error-gateway-") &&
      absl::SimpleAtoi(request.model.substr(std::strlen("fake-error-gateway-")), &status)) {
    return GatewayError(status, n);
  }
  if (absl::StartsWith(request.model, "fake-error-openai-") &&
      absl::SimpleAtoi(request.model.substr(std::strlen("fake-error-openai-")), &status)) {
    return OpenAiError(status, "fake_error", "the fake was asked to fail");
  }
  const std::string text = "Echo: " + request.last_user_text;
  const std::string reasoning = "Thinking about: " + request.last_user_text;
  return request.stream ? Stream(request, n, text, reasoning) : Unary(request, n, text, reasoning);
}

EchoAnswer ChatModelsEcho(absl::string_view id_or_empty) {
  constexpr char kModel[] =
      R"({"id":"claude-fake-1","object":"model","created":1735689600,"owned_by":"anthropic"})";
  if (id_or_empty.empty()) {
    return {200, kJson, absl::StrCat(R"({"object":"list","data":[)", kModel, "]}"), {}};
  }
  if (id_or_empty == "claude-fake-1") return {200, kJson, kModel, {}};
  return OpenAiError(404, "invalid_request_error", absl::StrCat("model not found: ", id_or_empty));
}

}  // namespace claude::testing
