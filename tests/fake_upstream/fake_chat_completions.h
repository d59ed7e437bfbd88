// fake-anthropic's echo mode for the chat_completions dialect: OpenAI's Chat Completions API as
// an OpenAI-compatible gateway in front of Claude speaks it (POST /v1/chat/completions, Bearer
// auth, the gateway's usage members), so tests, the quickstart and the bench run it offline.
//
//   POST /v1/chat/completions   "Echo: <last user text>" as a chat.completion, or (with
//                               "stream":true) as chat.completion.chunk events, one content
//                               delta per word, ending with the usage chunk (when
//                               stream_options.include_usage) and `data: [DONE]`.
//     - a model ending in "-thinking", or a reasoning_effort, adds reasoning_content
//       ("Thinking about: <last user text>"), streamed one word per delta before the content;
//     - tools (and tool_choice other than "none") make it call every tool at once, arguments
//       {"text": <last user text>}, finish_reason "tool_calls"; streamed, each call's
//       arguments come in two fragments and the calls interleave by index;
//     - a model "fake-error-gateway-<status>" or "fake-error-openai-<status>" answers <status>
//       with the gateway's error body or OpenAI's; a body that is not a request: 400, OpenAI's.
//   Usage: prompt_tokens = words of every message's text, completion_tokens = content deltas.
//
// The model list in OpenAI's shape serves GET /v1/models from chat_completions clients (those
// that send no anthropic-version header).
#ifndef TESTS_FAKE_UPSTREAM_FAKE_CHAT_COMPLETIONS_H_
#define TESTS_FAKE_UPSTREAM_FAKE_CHAT_COMPLETIONS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "tests/fake_upstream/echo_answer.h"

namespace claude::testing {

// The echo reply to the chat completions request `body`; `n` numbers the request (ids).
EchoAnswer ChatCompletionsEcho(absl::string_view body, int n);

// GET /v1/models and GET /v1/models/{id} in OpenAI's shape (one model, "claude-fake-1").
EchoAnswer ChatModelsEcho(absl::string_view id_or_empty);

}  // namespace claude::testing

#endif  // TESTS_FAKE_UPSTREAM_FAKE_CHAT_COMPLETIONS_H_
