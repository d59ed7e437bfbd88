// Helpers of claude-grpc-cli that do no I/O beyond reading a file: the request pieces that come
// from files (conversation, tools, images) and the checks on them.
#ifndef CLIENT_CLI_CLI_SUPPORT_H_
#define CLIENT_CLI_CLI_SUPPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "claude/v1/messages.pb.h"

namespace claude::cli {

// The whole file; an error names the file and the system's reason.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// The media type of an image from its magic bytes: "image/png", "image/jpeg", "image/gif" or
// "image/webp"; INVALID_ARGUMENT for anything else.
absl::StatusOr<std::string> ImageMediaType(absl::string_view bytes);

// An image content block holding `bytes` inline (base64 in the API's JSON).
absl::StatusOr<v1::ContentBlock> ImageBlockFromBytes(std::string bytes);

// A JSON array of messages in the API's shape ([{"role":"user","content":...}, ...]).
// Errors name the element: "[2].content[0]: ...".
absl::StatusOr<std::vector<v1::MessageParam>> ParseMessagesJson(absl::string_view json);

// A JSON array of tools in the API's shape ([{"name":..,"input_schema":{..}}, {"type":
// "web_search_20250305",..}]).
absl::StatusOr<std::vector<v1::Tool>> ParseToolsJson(absl::string_view json);

// Whether `text` is valid UTF-8 (what protobuf string fields must hold).
bool IsValidUtf8(absl::string_view text);

// `text` on one line: line breaks and other control characters become spaces.
std::string OneLine(absl::string_view text);

// Exit statuses a script can act on.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;      // anything else (INTERNAL, UNKNOWN, CANCELLED...)
inline constexpr int kExitUsage = 2;       // the command line is wrong
inline constexpr int kExitRetryLater = 3;  // UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, ABORTED
inline constexpr int kExitFixRequest = 4;  // INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION,
                                           // OUT_OF_RANGE, ALREADY_EXISTS, UNIMPLEMENTED
inline constexpr int kExitAuth = 5;        // UNAUTHENTICATED, PERMISSION_DENIED

// The exit status for a call that ended with `code` (kExitOk for OK).
int ExitCodeFor(absl::StatusCode code);

// A failed call as one JSON object (--json): {"error":{"code":"UNAVAILABLE","message":..,
// "exit_code":3,"details":{"reason","domain","request_id","http_status","retry_delay_seconds",
// "field_violations":[{"field","description"}]}}}; "details" holds what the server sent.
std::string ErrorJson(const absl::Status& status);

}  // namespace claude::cli

#endif  // CLIENT_CLI_CLI_SUPPORT_H_
