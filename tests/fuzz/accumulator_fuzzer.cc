// libFuzzer target: an upstream stream's way through the server, from bytes to the Message:
// the SSE parser, the event decoder that joins split characters, and the accumulator. Nothing
// crashes or grows without bound, and a Message that accumulates is one callers can parse and
// whose JSON decodes again.
//
// Input: an SSE body (seeded with the fixtures' transcripts).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "claude/v1/messages.pb.h"
#include "common/codec/json_mapping.h"
#include "common/codec/message_accumulator.h"
#include "common/codec/split_character_joiner.h"
#include "service/sse/sse_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  claude::SseParser parser(/*max_event_bytes=*/64 * 1024);
  claude::SplitCharacterJoiner joiner;
  claude::MessageAccumulator accumulator;
  absl::Status status = parser.Feed(body, [&](const claude::SseEvent& event) {
    return joiner.Decode(absl::string_view(event.data.data(), event.data.size()),
                         [&](claude::v1::MessageStreamEvent decoded) {
      // The relay would send every decoded event to the caller: it must parse there.
      claude::v1::MessageStreamEvent sent;
      if (!sent.ParseFromString(decoded.SerializeAsString())) std::abort();
      return accumulator.Apply(decoded);
    });
  });
  (void)status;
  absl::StatusOr<claude::v1::Message> message = std::move(accumulator).Finish();
  if (!message.ok()) return 0;
  claude::v1::Message parsed;
  if (!parsed.ParseFromString(message->SerializeAsString())) std::abort();
  claude::v1::Message again;
  if (!claude::JsonToMessage(claude::MessageToJsonString(*message), &again).ok()) std::abort();
  return 0;
}
