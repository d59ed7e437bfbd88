#include "tests/fake_upstream/fake_messages_echo.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"
#include "tests/fake_upstream/aws_event_stream_encoder.h"
#include "tests/fake_upstream/echo_words.h"
#include "tests/fake_upstream/fake_anthropic.h"

namespace claude::testing {
namespace {

constexpr char kJson[] = "application/json";
constexpr char kModelJson[] =
    R"({"type":"model","id":"claude-fake-1","display_name":"Claude Fake",)"
    R"("created_at":"2025-01-01T00:00:00Z"})";

int TextWords(const v1::MessageParam& message) {
  if (message.has_content_blocks()) {
    int words = 0;
    for (const v1::ContentBlock& block : message.content_blocks().blocks()) {
      if (block.has_text()) words += CountWords(block.text().text());
    }
    return words;
  }
  return CountWords(message.content_text());
}

// Words in the system prompt and in the text of every message.
int RequestWords(const v1::CreateMessageRequest& request) {
  int words = CountWords(request.system_text());
  for (const v1::TextBlock& block : request.system_blocks().blocks()) {
    words += CountWords(block.text());
  }
  for (const v1::MessageParam& message : request.messages()) words += TextWords(message);
  return words;
}

// The text of the last user message: its string content, or its text blocks concatenated.
std::string LastUserText(const v1::CreateMessageRequest& request) {
  for (int i = request.messages_size() - 1; i >= 0; --i) {
    const v1::MessageParam& message = request.messages(i);
    if (message.role() != v1::ROLE_USER) continue;
    if (!message.has_content_blocks()) return message.content_text();
    std::string text;
    for (const v1::ContentBlock& block : message.content_blocks().blocks()) {
      if (block.has_text()) text += block.text().text();
    }
    return text;
  }
  return std::string();
}

// The echo stream's events, in order: (event type, JSON data).
std::vector<std::pair<absl::string_view, std::string>> EchoEvents(int n, const std::string& model,
                                                                  const std::string& text,
                                                                  int input_tokens) {
  std::vector<absl::string_view> pieces = WordPieces(text);
  std::vector<std::pair<absl::string_view, std::string>> events;
  events.reserve(pieces.size() + 5);
  std::string data = R"({"type":"message_start","message":)";
  AppendMessageJson(n, model, nullptr, input_tokens, 1, &data);
  data += "}";
  events.emplace_back("message_start", std::move(data));
  events.emplace_back("content_block_start", R"({"type":"content_block_start","index":0,)"
                                             R"("content_block":{"type":"text","text":""}})");
  for (absl::string_view piece : pieces) {
    data.assign(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":)");
    AppendJsonString(piece, &data);
    data += "}}";
    events.emplace_back("content_block_delta", std::move(data));
  }
  events.emplace_back("content_block_stop", R"({"type":"content_block_stop","index":0})");
  events.emplace_back(
      "message_delta",
      absl::StrCat(R"({"type":"message_delta","delta":{"stop_reason":"end_turn",)",
                   R"("stop_sequence":null},"usage":{"output_tokens":)", pieces.size(), "}}"));
  events.emplace_back("message_stop", R"({"type":"message_stop"})");
  return events;
}

std::string EchoSse(int n, const std::string& model, const std::string& text, int input_tokens) {
  std::string out;
  out.reserve(600 + text.size() * 30);
  for (const auto& [type, data] : EchoEvents(n, model, text, input_tokens)) {
    AppendSseEvent(type, data, &out);
  }
  return out;
}

// The same events as Bedrock's InvokeModelWithResponseStream frames them.
std::string EchoEventStream(int n, const std::string& model, const std::string& text,
                            int input_tokens) {
  std::string out;
  for (const auto& [type, data] : EchoEvents(n, model, text, input_tokens)) {
    out += BedrockChunkFrame(data);
  }
  return out;
}

}  // namespace

void AppendMessageJson(int n, const std::string& model, const std::string* text, int input_tokens,
                       int output_tokens, std::string* out) {
  absl::StrAppend(out, R"({"id":"msg_fake_)", n,
                  R"(","type":"message","role":"assistant","model":)");
  AppendJsonString(model, out);
  if (text == nullptr) {
    out->append(R"(,"content":[],"stop_reason":null)");
  } else {
    out->append(R"(,"content":[{"type":"text","text":)");
    AppendJsonString(*text, out);
    out->append(R"(}],"stop_reason":"end_turn")");
  }
  absl::StrAppend(out, R"(,"stop_sequence":null,"usage":{"input_tokens":)", input_tokens,
                  R"(,"output_tokens":)", output_tokens, "}}");
}

void AppendSseEvent(absl::string_view type, absl::string_view data, std::string* out) {
  absl::StrAppend(out, "event: ", type, "\ndata: ", data, "\n\n");
}

std::string ApiErrorBody(absl::string_view type, absl::string_view message, int n) {
  std::string out = R"({"type":"error","error":{"type":)";
  AppendJsonString(type, &out);
  out += R"(,"message":)";
  AppendJsonString(message, &out);
  absl::StrAppend(&out, R"(},"request_id":"req_fake_)", n, "\"}");
  return out;
}

std::string EchoMessageJson(int n, const v1::CreateMessageRequest& request) {
  const std::string text = "Echo: " + LastUserText(request);
  std::string json;
  AppendMessageJson(n, request.model(), &text, RequestWords(request),
                    static_cast<int>(WordPieces(text).size()), &json);
  return json;
}

std::string LastUserTextOf(const v1::CreateMessageRequest& request) {
  return LastUserText(request);
}

EchoAnswer EchoReply(int n, const std::string& model, const v1::CreateMessageRequest& request,
                     EchoFraming framing) {
  const int input_tokens = RequestWords(request);
  const std::string text = "Echo: " + LastUserText(request);
  switch (framing) {
    case EchoFraming::kSse:
      return {200, "text/event-stream", EchoSse(n, model, text, input_tokens), {}};
    case EchoFraming::kEventStream:
      return {200,
              "application/vnd.amazon.eventstream",
              EchoEventStream(n, model, text, input_tokens),
              {}};
    case EchoFraming::kJson: break;
  }
  std::string json;
  AppendMessageJson(n, model, &text, input_tokens, static_cast<int>(WordPieces(text).size()),
                    &json);
  return {200, kJson, std::move(json), {}};
}

EchoAnswer CountTokensEcho(const v1::CreateMessageRequest& request) {
  return {200, kJson, absl::StrCat(R"({"input_tokens":)", RequestWords(request), "}"), {}};
}

EchoAnswer MessagesEcho(const std::string& body, int n, bool count_tokens) {
  v1::CreateMessageRequest request;
  if (absl::Status status = JsonToMessage(body, &request); !status.ok()) {
    return {400, kJson, ApiErrorBody("invalid_request_error", status.message(), n), {}};
  }
  if (count_tokens) return CountTokensEcho(request);
  // "stream" is not modelled, so JsonToMessage keeps it in extra_fields. (has_extra_fields()
  // first: the map of the default Struct instance is not even read, which crashes under TSan
  // with Debian's uninstrumented libprotobuf.)
  bool stream = false;
  if (request.has_extra_fields()) {
    const auto& extra = request.extra_fields().fields();
    auto it = extra.find("stream");
    stream = it != extra.end() && it->second.kind_case() == google::protobuf::Value::kBoolValue &&
             it->second.bool_value();
  }
  return EchoReply(n, request.model(), request, stream ? EchoFraming::kSse : EchoFraming::kJson);
}

EchoAnswer ModelListEcho() {
  return {200,
          kJson,
          absl::StrCat(R"({"data":[)", kModelJson, R"(],"has_more":false,"first_id":")",
                       kFakeModelId, R"(","last_id":")", kFakeModelId, R"("})"),
          {}};
}

EchoAnswer ModelEcho(absl::string_view id, int n) {
  if (id == kFakeModelId) return {200, kJson, kModelJson, {}};
  return {404, kJson, ApiErrorBody("not_found_error", absl::StrCat("model: ", id), n), {}};
}

}  // namespace claude::testing
