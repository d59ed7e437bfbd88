#include "tests/fake_upstream/aws_event_stream_encoder.h"

#include <zlib.h>

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"

namespace claude {
namespace testing {
namespace {

void AppendBigEndian(uint64_t value, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// zlib directly, not the decoder's Crc32: the fake must not share the code it checks.
uint32_t ZlibCrc32(absl::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

}  // namespace

std::string EncodeEventStreamMessage(
    const std::vector<std::pair<std::string, std::string>>& string_headers,
    absl::string_view payload) {
  std::string headers;
  for (const auto& [name, value] : string_headers) {
    AppendBigEndian(name.size(), 1, &headers);
    headers += name;
    headers.push_back(7);  // string
    AppendBigEndian(value.size(), 2, &headers);
    headers += value;
  }
  const uint64_t total = 12 + headers.size() + payload.size() + 4;
  std::string message;
  AppendBigEndian(total, 4, &message);
  AppendBigEndian(headers.size(), 4, &message);
  AppendBigEndian(ZlibCrc32(message), 4, &message);
  message += headers;
  message.append(payload.data(), payload.size());
  AppendBigEndian(ZlibCrc32(message), 4, &message);
  return message;
}

std::string BedrockChunkFrame(absl::string_view event_json) {
  return EncodeEventStreamMessage({{":event-type", "chunk"},
                                   {":content-type", "application/json"},
                                   {":message-type", "event"}},
                                  absl::StrCat("{\"bytes\":\"", absl::Base64Escape(event_json),
                                               "\",\"p\":\"abcdefgh\"}"));
}

std::string BedrockExceptionFrame(absl::string_view exception_type, absl::string_view message) {
  std::string payload = "{\"message\":";
  AppendJsonString(message, &payload);
  payload += "}";
  return EncodeEventStreamMessage({{":exception-type", std::string(exception_type)},
                                   {":content-type", "application/json"},
                                   {":message-type", "exception"}},
                                  payload);
}

}  // namespace testing
}  // namespace claude
