// The requests the bench sends, and the shape of fake-anthropic's echo replies to them (the raw
// scenario's in-process echo service answers the same way).
#ifndef CLIENT_BENCH_BENCH_REQUESTS_H_
#define CLIENT_BENCH_BENCH_REQUESTS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "claude/v1/messages.pb.h"

namespace claude {
namespace bench {

// One short user turn for the unary suites.
inline constexpr char kShortPrompt[] =
    "Hello! Please answer in one short sentence: what is a load generator for?";
// The memory and soak suites' prompt (fake-anthropic streams its own generated reply).
inline constexpr char kStoryPrompt[] = "Hello! Tell me a long story.";

// `n` words, space-separated, cycling through a fixed list.
std::string Words(int n);

// A CreateMessageRequest of one user turn with `prompt` as its text.
v1::CreateMessageRequest MakeRequest(const std::string& prompt);

// Runs of non-whitespace with the whitespace after them, as fake-anthropic cuts its deltas.
std::vector<std::string> WordPieces(absl::string_view text);

// The text of the request's last user turn (its text blocks joined).
std::string LastUserText(const v1::CreateMessageRequest& request);

// The direct-HTTP bodies of a request: the Messages API's, and the Chat Completions API's (one
// user turn of text).
std::string MessagesBody(const v1::CreateMessageRequest& request);
std::string ChatCompletionsBody(const v1::CreateMessageRequest& request);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_BENCH_REQUESTS_H_
