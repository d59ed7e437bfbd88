// Maps the claude.v1 protos to and from the JSON of the HTTP Messages API, driven by the
// descriptors and the conventions written at the top of proto/claude/v1/content.proto
// (type unions, value unions, bytes as base64, extra_fields). Nothing the JSON carries is
// dropped: members the proto does not model, objects of unknown types and explicit nulls are
// kept and written back, so JSON -> proto -> JSON gives back an equal document.
#ifndef SERVICE_CODEC_JSON_MAPPING_H_
#define SERVICE_CODEC_JSON_MAPPING_H_

#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "claude/v1/messages.pb.h"

namespace claude {

// Parses `json`, which must hold one JSON object, into `message` (cleared first).
// Errors are INVALID_ARGUMENT and start with the JSON path of the offending value
// ("content[1].input: expected object, got string"); invalid JSON and invalid UTF-8 included.
absl::Status JsonToMessage(absl::string_view json, google::protobuf::Message* message);

// Appends `message` as one JSON object to `*out`. `leading_members`, if given, is raw JSON
// member text ("\"stream\":true") written first inside the object.
// Struct keys are written sorted, so equal messages give equal bytes (which keeps prompt
// caching effective for tool schemas); numbers that cannot be JSON (NaN, infinities) become null.
void MessageToJson(const google::protobuf::Message& message, std::string* out,
                   absl::string_view leading_members = {});

// The body of `POST /v1/messages` for `request`; `stream` adds "stream":true.
std::string CreateMessageBody(const claude::v1::CreateMessageRequest& request, bool stream);

// Convenience form of MessageToJson.
std::string MessageToJsonString(const google::protobuf::Message& message);

// Appends `text` to `*out` as a JSON string literal, quotes included.
void AppendJsonString(absl::string_view text, std::string* out);

}  // namespace claude

#endif  // SERVICE_CODEC_JSON_MAPPING_H_
