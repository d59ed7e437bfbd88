#include "client/bench/bench_requests.h"

#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"

namespace claude {
namespace bench {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

std::string Words(int n) {
  static const char* const kWords[] = {"alpha",   "bravo", "charlie", "delta", "echo",
                                       "foxtrot", "golf",  "hotel",   "india", "juliet"};
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += ' ';
    out += kWords[i % 10];
  }
  return out;
}

v1::CreateMessageRequest MakeRequest(const std::string& prompt) {
  v1::CreateMessageRequest request;
  request.set_model("claude-bench-1");
  request.set_max_tokens(1024);
  v1::MessageParam* message = request.add_messages();
  message->set_role(v1::ROLE_USER);
  message->set_content_text(prompt);
  return request;
}

std::vector<std::string> WordPieces(absl::string_view text) {
  std::vector<std::string> pieces;
  size_t start = 0;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    while (i < text.size() && !IsSpace(text[i])) ++i;
    while (i < text.size() && IsSpace(text[i])) ++i;
    pieces.emplace_back(text.substr(start, i - start));
    start = i;
  }
  return pieces;
}

std::string LastUserText(const v1::CreateMessageRequest& request) {
  for (int i = request.messages_size() - 1; i >= 0; --i) {
    const v1::MessageParam& m = request.messages(i);
    if (m.role() != v1::ROLE_USER) continue;
    if (m.has_content_blocks()) {
      std::string text;
      for (const v1::ContentBlock& block : m.content_blocks().blocks()) {
        if (block.has_text()) text += block.text().text();
      }
      return text;
    }
    return m.content_text();
  }
  return "";
}

std::string MessagesBody(const v1::CreateMessageRequest& request) {
  return CreateMessageBody(request, /*stream=*/false);
}

std::string ChatCompletionsBody(const v1::CreateMessageRequest& request) {
  std::string body = R"({"model":)";
  AppendJsonString(request.model(), &body);
  absl::StrAppend(&body, R"(,"max_tokens":)", request.max_tokens(),
                  R"(,"messages":[{"role":"user","content":)");
  AppendJsonString(LastUserText(request), &body);
  body += "}]}";
  return body;
}

}  // namespace bench
}  // namespace claude
