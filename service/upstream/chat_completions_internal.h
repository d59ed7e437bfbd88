// The parts of the chat_completions dialect (chat_completions_dialect.h), shared between its
// files: the request body, the reading of replies (whole and streamed share the usage, finish
// reason, tool-argument and error rules), and the stream decoder.
#ifndef SERVICE_UPSTREAM_CHAT_COMPLETIONS_INTERNAL_H_
#define SERVICE_UPSTREAM_CHAT_COMPLETIONS_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <google/protobuf/struct.pb.h>
#include <simdjson.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "claude/v1/messages.pb.h"
#include "claude/v1/models.pb.h"
#include "service/upstream/chat_completions_dialect.h"
#include "service/upstream/dialect.h"

namespace claude::chat_completions {

// The body of `POST /v1/chat/completions` for `request`. INVALID_ARGUMENT naming the field
// (its JSON path) when the request holds something the Chat Completions API cannot express.
absl::StatusOr<std::string> RequestBody(const claude::v1::CreateMessageRequest& request,
                                        bool stream, ChatThinking thinking);

// The string member `key` of `obj` into `*out` (empty when absent or null); false when the
// member is something else. The view lives as long as the parsed document.
bool StringMember(simdjson::dom::object obj, const char* key, std::string_view* out);

// Claude's usage from an OpenAI-style `usage` object. OpenAI's prompt_tokens include the cached
// tokens, Claude's input_tokens do not:
//   input_tokens                = prompt_tokens - cached_tokens - cache creation (never < 0)
//   output_tokens               = completion_tokens
//   cache_read_input_tokens     = prompt_tokens_details.cached_tokens
//   cache_creation_input_tokens = claude_cache_creation_5_m_tokens + ..._1_h_tokens
// Absent counts are 0. Not a number where one is expected: INTERNAL.
absl::Status ReadUsage(simdjson::dom::object usage, claude::v1::Usage* out);
// The same from the counts; SetZeroUsage: all 0 (no usage reported yet).
void SetUsage(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens,
              int64_t cache_creation_5m, int64_t cache_creation_1h, claude::v1::Usage* out);
void SetZeroUsage(claude::v1::Usage* out);

// finish_reason -> stop_reason: stop, length, tool_calls, content_filter become end_turn,
// max_tokens, tool_use, refusal; any other value goes to `raw`.
void SetStopReason(std::string_view finish_reason, claude::v1::StopReason* reason,
                   std::string* raw);

// A tool call's `arguments` text as the tool_use input; empty text is {} (as an accumulator
// gives for a call without input_json_delta). Not a JSON object: INTERNAL naming the call.
absl::Status ParseToolArguments(std::string_view arguments, std::string_view call,
                                google::protobuf::Struct* input);

// The `error` member of a body or chunk: type = error.type, else error.code (string or number);
// code = error.code when type came from error.type.
void ReadErrorObject(simdjson::dom::object error, std::string* type, std::string* code,
                     std::string* message);

// A whole reply: chat.completion -> claude.v1.Message; the model list and a model object ->
// ListModelsResponse / ModelInfo. Malformed: INTERNAL.
absl::Status DecodeMessage(absl::string_view body, claude::v1::Message* message);
absl::Status DecodeModelList(absl::string_view body, claude::v1::ListModelsResponse* list);
absl::Status DecodeModel(absl::string_view body, claude::v1::ModelInfo* model);

// The decoder of one streamed reply (chat.completion.chunk events, then `data: [DONE]`).
std::unique_ptr<EventDecoder> NewEventDecoder(size_t max_event_bytes);

}  // namespace claude::chat_completions

#endif  // SERVICE_UPSTREAM_CHAT_COMPLETIONS_INTERNAL_H_
