// Maps the claude.v1 protos to and from the JSON of the HTTP Messages API, driven by the
// descriptors and the conventions written at the top of proto/claude/v1/content.proto
// (type unions, value unions, bytes as base64, extra_fields). Nothing the JSON carries is
// dropped: members the proto does not model, objects of unknown types and explicit nulls are
// kept and written back, so JSON -> proto -> JSON gives back an equal document.
#ifndef COMMON_CODEC_JSON_MAPPING_H_
#define COMMON_CODEC_JSON_MAPPING_H_

#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "claude/v1/messages.pb.h"
#include "common/codec/lone_surrogates.h"

namespace claude {

// Protobuf's parsers (C++, Python, Java, Go alike) refuse a message with more than this many
// levels of messages nested below its top level. JSON kept in a google.protobuf.Struct costs
// three levels per object (Struct, map entry, Value) and two per array, so about 33 levels of
// JSON objects inside a Struct already make a reply that no caller can parse.
inline constexpr int kMaxProtoNesting = 100;

// Parses `json`, which must hold one JSON object, into `message` (cleared first).
// Errors are INVALID_ARGUMENT and start with the JSON path of the offending value
// ("content[1].input: expected object, got string"); invalid JSON and invalid UTF-8 included.
//
// Nesting: a value that would nest messages deeper than kMaxProtoNesting levels below the top
// of the message that is finally serialized is refused ("<path>: nested too deeply ..."), so
// the server never sends a reply its callers cannot parse. `nesting_above` is how many levels
// above `message` that top is (0: `message` is the top).
//
// Duplicated keys: the last one wins, everywhere ("type" of a type union included).
// A lone UTF-16 surrogate escape ("\ud83d" without its partner: no character) becomes U+FFFD.
absl::Status JsonToMessage(absl::string_view json, google::protobuf::Message* message,
                           int nesting_above = 0);

// JsonToMessage for the JSON of one stream event, except that a lone surrogate at either end
// of the delta's string (delta.text, delta.thinking, delta.partial_json), where a stream may
// split one character's surrogate pair across two deltas, is cut out and reported in
// `*delta_edges` (cleared first) instead of becoming U+FFFD. SplitCharacterJoiner
// (split_character_joiner.h) puts such halves back together.
absl::Status JsonToStreamEvent(absl::string_view json, claude::v1::MessageStreamEvent* event,
                               std::vector<EdgeSurrogates>* delta_edges);

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

// Appends `text` to `*out` as a JSON string literal, quotes included. Bytes that are not
// well-formed UTF-8 become U+FFFD, one per byte, so the literal is valid JSON whatever `text` is.
void AppendJsonString(absl::string_view text, std::string* out);

}  // namespace claude

#endif  // COMMON_CODEC_JSON_MAPPING_H_
