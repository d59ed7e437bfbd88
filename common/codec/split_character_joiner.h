// Decodes the JSON events of one stream, joining characters that the upstream split across two
// deltas. JSON escapes a character beyond U+FFFF as a UTF-16 surrogate pair, and a stream may
// end one delta after the high half and start the next with the low half:
//
//   {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Rocket: \ud83d"}}
//   {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\ude80!"}}
//
// Neither half is a character, so neither delta can be relayed as it is (proto strings are
// UTF-8). The joiner relays "Rocket: " and then "🚀!", as the official SDKs' accumulated text
// reads. The same holds for thinking_delta's `thinking` and input_json_delta's `partial_json`.
//
// A half that finds no partner becomes U+FFFD: a high half whose block's next delta does not
// start with the low half is put back in front of that delta as U+FFFD; one still carried when
// its block stops (or the message stops) is sent as a delta of its own, holding U+FFFD, just
// before that content_block_stop (or message_stop). Lone halves anywhere else become U+FFFD
// where they stand (JsonToMessage's rule).
//
// One joiner per stream (per attempt); not thread-safe.
#ifndef COMMON_CODEC_SPLIT_CHARACTER_JOINER_H_
#define COMMON_CODEC_SPLIT_CHARACTER_JOINER_H_

#include <cstdint>
#include <map>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "claude/v1/messages.pb.h"
#include "common/codec/lone_surrogates.h"

namespace claude {

class SplitCharacterJoiner {
 public:
  using Emit = absl::FunctionRef<absl::Status(claude::v1::MessageStreamEvent event)>;

  // Decodes the JSON of the stream's next event and calls `emit` with it, preceded by a U+FFFD
  // delta when it stops a block (or the message) that still carries half a character. Errors
  // are JsonToMessage's (INVALID_ARGUMENT naming the path); a non-OK status of `emit` is
  // returned as is.
  absl::Status Decode(absl::string_view json, Emit emit);

 private:
  // A high surrogate carried over to the next delta of its block.
  struct Carried {
    uint16_t high = 0;
    claude::v1::ContentBlockDelta::DeltaCase kind = claude::v1::ContentBlockDelta::DELTA_NOT_SET;
  };

  // Joins what `delta` (an event of block `index`) and the carried half say; false when the
  // event's reported halves are not those of its own string (then it must be decoded plainly).
  bool Join(claude::v1::ContentBlockDeltaEvent* delta, const std::vector<EdgeSurrogates>& edges);
  // Emits U+FFFD deltas for the halves carried by block `index`, or by every block when
  // `index` is negative.
  absl::Status Flush(int64_t index, Emit emit);

  std::map<int64_t, Carried> carried_;  // by block index, so flushes go in block order
  std::vector<EdgeSurrogates> edges_;   // reused between events
};

}  // namespace claude

#endif  // COMMON_CODEC_SPLIT_CHARACTER_JOINER_H_
