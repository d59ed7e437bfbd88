// fake-anthropic's echo mode for the Messages API (POST /v1/messages, /v1/messages/count_tokens,
// GET /v1/models[/ID]) and the echo bodies the other endpoints reuse: "Echo: <last user text>"
// as one Message, as SSE in the API's event grammar, or as Bedrock's event-stream frames, one
// text delta per word. Usage: input_tokens = words of the system prompt and every message's
// text; output_tokens = deltas.
#ifndef TESTS_FAKE_UPSTREAM_FAKE_MESSAGES_ECHO_H_
#define TESTS_FAKE_UPSTREAM_FAKE_MESSAGES_ECHO_H_

#include <string>

#include "absl/strings/string_view.h"
#include "claude/v1/messages.pb.h"
#include "tests/fake_upstream/echo_answer.h"

namespace claude::testing {

// The one model of the Messages API's model list.
inline constexpr char kFakeModelId[] = "claude-fake-1";

// POST /v1/messages (count_tokens false) or /v1/messages/count_tokens with `body`, as the `n`th
// request.
EchoAnswer MessagesEcho(const std::string& body, int n, bool count_tokens);

// GET /v1/models, and GET /v1/models/ID (404 for any model but kFakeModelId).
EchoAnswer ModelListEcho();
EchoAnswer ModelEcho(absl::string_view id, int n);

// How an echo reply is framed: one JSON Message, SSE, or Bedrock's event-stream frames.
enum class EchoFraming { kJson, kSse, kEventStream };

// The echo of `request`'s last user text as `model`, the `n`th request.
EchoAnswer EchoReply(int n, const std::string& model, const v1::CreateMessageRequest& request,
                     EchoFraming framing);

// {"input_tokens": <words of the request's text>}.
EchoAnswer CountTokensEcho(const v1::CreateMessageRequest& request);

// A Message object; `text` null means empty content and a null stop_reason (message_start's).
void AppendMessageJson(int n, const std::string& model, const std::string* text, int input_tokens,
                       int output_tokens, std::string* out);
// "event: TYPE\ndata: DATA\n\n".
void AppendSseEvent(absl::string_view type, absl::string_view data, std::string* out);

}  // namespace claude::testing

#endif  // TESTS_FAKE_UPSTREAM_FAKE_MESSAGES_ECHO_H_
