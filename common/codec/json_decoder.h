// Internal to the codec (json_mapping.h is its interface): JSON parsed by simdjson -> a
// message, by the shapes of json_shapes.h. Errors are INVALID_ARGUMENT naming the JSON path.
#ifndef COMMON_CODEC_JSON_DECODER_H_
#define COMMON_CODEC_JSON_DECODER_H_

#include <google/protobuf/message.h>
#include <simdjson.h>

#include "absl/status/status.h"

namespace claude {
namespace json_internal {

// Decodes `root`, which must be a JSON object, into `message`. `max_nesting`: how many levels
// of messages may be nested below `message` (see kMaxProtoNesting).
absl::Status DecodeObject(simdjson::dom::element root, google::protobuf::Message* message,
                          int max_nesting);

}  // namespace json_internal
}  // namespace claude

#endif  // COMMON_CODEC_JSON_DECODER_H_
