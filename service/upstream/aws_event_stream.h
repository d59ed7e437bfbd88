// AWS event-stream framing (content-type application/vnd.amazon.eventstream), as Amazon Bedrock's
// InvokeModelWithResponseStream sends it. Each message is
//
//   prelude:  total length (uint32 BE) | headers length (uint32 BE) | CRC32 of those 8 bytes
//   headers:  repeated { name length (uint8) | name | value type (uint8) | value }
//   payload:  total length - headers length - 16 bytes
//   trailer:  CRC32 of every byte of the message before it (prelude included)
//
// all integers big-endian, CRC32 the IEEE/zlib one. Header values are typed (bool, byte, short,
// int, long, bytes, string, timestamp, uuid); every type is read, and any value is kept as text
// (strings and bytes as they are, numbers in decimal, uuids in hex) since the headers Bedrock
// sends (`:message-type`, `:event-type`, `:exception-type`, `:content-type`) are strings.
#ifndef SERVICE_UPSTREAM_AWS_EVENT_STREAM_H_
#define SERVICE_UPSTREAM_AWS_EVENT_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace claude {

// One decoded message. Views into the decoder's buffer or the caller's chunk: valid only during
// the callback.
struct AwsEventStreamMessage {
  std::vector<std::pair<absl::string_view, std::string>> headers;  // in wire order
  absl::string_view payload;

  // The value of the first header named `name`, or "" when absent.
  absl::string_view Header(absl::string_view name) const;
};

// The CRC32 (IEEE 802.3, as zlib computes it) of `bytes`, continuing from `crc`.
uint32_t Crc32(absl::string_view bytes, uint32_t crc = 0);

// Incremental decoder, safe at any byte split. Memory stays bounded by `max_message_bytes`: a
// prelude announcing a larger message is refused before its bytes are read.
//
// Not thread-safe; one decoder per response body.
class AwsEventStreamDecoder {
 public:
  static constexpr size_t kDefaultMaxMessageBytes = 16 << 20;
  // A prelude (12) and a message CRC (4): the smallest possible message.
  static constexpr size_t kMinMessageBytes = 16;

  explicit AwsEventStreamDecoder(size_t max_message_bytes = kDefaultMaxMessageBytes)
      : max_message_bytes_(max_message_bytes) {}

  // Feeds the next chunk and calls `on_message` for each message it completes, in order.
  // Returns the first non-OK status of `on_message` as is; a malformed message is INTERNAL
  // naming what is wrong (a prelude or message CRC mismatch, lengths that do not add up, a
  // truncated or unknown header), a message over the limit RESOURCE_EXHAUSTED. After any error
  // every later Feed returns FAILED_PRECONDITION.
  absl::Status Feed(absl::string_view chunk,
                    absl::FunctionRef<absl::Status(const AwsEventStreamMessage&)> on_message);

  // True when bytes of an unfinished message are held (the body was cut mid-message).
  bool HasPartialMessage() const { return !buffer_.empty(); }

 private:
  // The total length the prelude at the start of `bytes` (>= 12 bytes) announces, checked.
  absl::Status CheckPrelude(absl::string_view bytes, uint32_t* total_length) const;
  // Decodes the whole message `bytes` (its prelude already checked).
  absl::Status DecodeMessage(
      absl::string_view bytes,
      absl::FunctionRef<absl::Status(const AwsEventStreamMessage&)> on_message);
  absl::Status Fail(absl::Status status);

  const size_t max_message_bytes_;
  bool failed_ = false;
  std::string buffer_;  // the start of a message that is not complete yet
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_AWS_EVENT_STREAM_H_
