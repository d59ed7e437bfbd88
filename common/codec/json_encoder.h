// Internal to the codec (json_mapping.h is its interface): a message -> JSON text, by the
// shapes of json_shapes.h.
#ifndef COMMON_CODEC_JSON_ENCODER_H_
#define COMMON_CODEC_JSON_ENCODER_H_

#include <string>

#include <google/protobuf/message.h>

#include "absl/strings/string_view.h"

namespace claude {
namespace json_internal {

// Appends `message` to `*out` as one JSON object; see MessageToJson (json_mapping.h).
void EncodeMessage(const google::protobuf::Message& message, std::string* out,
                   absl::string_view leading_members);

}  // namespace json_internal
}  // namespace claude

#endif  // COMMON_CODEC_JSON_ENCODER_H_
