// Folds the events of a streamed message into the Message that the non-streaming call
// returns, as the official SDKs do: state keyed by block index, text and thinking appended,
// tool input = the concatenated input_json_delta fragments parsed at content_block_stop
// ({} when no fragment came), signatures replaced, message_delta usage overwriting (never
// adding to) the usage so far. Used by the server (CreateMessage over a streamed upstream
// call) and by the client library, so both accumulate identically.
#ifndef COMMON_CODEC_MESSAGE_ACCUMULATOR_H_
#define COMMON_CODEC_MESSAGE_ACCUMULATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "claude/v1/messages.pb.h"

namespace claude {

// Applies a message_delta's usage to the usage so far, as the API defines it: every value the
// delta carries overwrites the earlier one (its counts are cumulative, never added); values it
// lacks, or sends as null, keep theirs. MessageAccumulator and the server's per-RPC record
// both follow a stream's usage with it.
void ApplyUsageDelta(const claude::v1::MessageDeltaUsage& delta, claude::v1::Usage* usage);

class MessageAccumulator {
 public:
  // Applies the next event. A stream that breaks the API's event grammar (an event before
  // message_start, a delta for an unknown index, a delta that does not fit its block, tool
  // input that is not a JSON object...) gives INVALID_ARGUMENT naming the event and index, and
  // an `error` event gives ABORTED with the API's error type and message. After any error,
  // every later call fails the same way. Events and deltas of types this proto does not know
  // cannot change the Message; they are counted in ignored_events().
  absl::Status Apply(const claude::v1::MessageStreamEvent& event);

  // True once message_stop was applied.
  bool done() const { return stopped_; }

  // The message so far (content blocks still open may be partial).
  const claude::v1::Message& message() const { return message_; }

  // The finished message; FAILED_PRECONDITION when the stream ended before message_stop,
  // so a truncated stream is never mistaken for a complete one.
  absl::StatusOr<claude::v1::Message> Finish() &&;

  // Events that this proto version could not fold into the Message.
  int64_t ignored_events() const { return ignored_events_; }

 private:
  absl::Status ApplyUnchecked(const claude::v1::MessageStreamEvent& event);
  absl::Status StartBlock(const claude::v1::ContentBlockStartEvent& event);
  absl::Status ApplyDelta(const claude::v1::ContentBlockDeltaEvent& event);
  absl::Status StopBlock(int64_t index);
  void ApplyMessageDelta(const claude::v1::MessageDeltaEvent& event);
  absl::StatusOr<claude::v1::ContentBlock*> OpenBlock(absl::string_view event, int64_t index);

  claude::v1::Message message_;
  // Per block index: the input_json_delta fragments so far, and whether any came.
  struct BlockState {
    bool open = true;
    bool has_json = false;
    std::string json;
  };
  std::vector<BlockState> blocks_;
  bool started_ = false;
  bool stopped_ = false;
  absl::Status failure_;
  int64_t ignored_events_ = 0;
};

}  // namespace claude

#endif  // COMMON_CODEC_MESSAGE_ACCUMULATOR_H_
