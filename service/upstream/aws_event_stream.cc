#include "service/upstream/aws_event_stream.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace claude {
namespace {

constexpr size_t kPreludeBytes = 12;  // total length, headers length, prelude CRC
constexpr size_t kCrcBytes = 4;

uint32_t ReadBigEndian32(absl::string_view bytes) {
  const auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

uint64_t ReadBigEndian(absl::string_view bytes, size_t width) {
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) value = value << 8 | static_cast<unsigned char>(bytes[i]);
  return value;
}

// Two's complement of a `width`-byte big-endian integer, as a signed decimal.
std::string SignedDecimal(uint64_t value, size_t width) {
  if (width < 8 && (value >> (width * 8 - 1)) & 1) {
    return absl::StrCat(static_cast<int64_t>(value) - (int64_t{1} << (width * 8)));
  }
  return absl::StrCat(static_cast<int64_t>(value));
}

// Header value types of the event-stream encoding.
enum HeaderType : unsigned char {
  kBoolTrue = 0,
  kBoolFalse = 1,
  kByte = 2,
  kShort = 3,
  kInteger = 4,
  kLong = 5,
  kBytes = 6,
  kString = 7,
  kTimestamp = 8,
  kUuid = 9,
};

// Reads the headers section `bytes` into `out`; INTERNAL when it is not well formed.
absl::Status ReadHeaders(absl::string_view bytes, AwsEventStreamMessage* out) {
  size_t at = 0;
  const auto need = [&](size_t n, absl::string_view what) -> absl::Status {
    if (bytes.size() - at < n) {
      return absl::InternalError(absl::StrCat("event-stream header truncated in its ", what));
    }
    return absl::OkStatus();
  };
  while (at < bytes.size()) {
    if (absl::Status s = need(1, "name length"); !s.ok()) return s;
    const size_t name_length = static_cast<unsigned char>(bytes[at++]);
    if (name_length == 0) return absl::InternalError("event-stream header with an empty name");
    if (absl::Status s = need(name_length + 1, "name"); !s.ok()) return s;
    const absl::string_view name = bytes.substr(at, name_length);
    at += name_length;
    const unsigned char type = static_cast<unsigned char>(bytes[at++]);
    std::string value;
    size_t fixed_width = 0;
    switch (type) {
      case kBoolTrue: value = "true"; break;
      case kBoolFalse: value = "false"; break;
      case kByte: fixed_width = 1; break;
      case kShort: fixed_width = 2; break;
      case kInteger: fixed_width = 4; break;
      case kLong: case kTimestamp: fixed_width = 8; break;
      case kUuid: fixed_width = 16; break;
      case kBytes:
      case kString: {
        if (absl::Status s = need(2, "value length"); !s.ok()) return s;
        const size_t length = ReadBigEndian(bytes.substr(at, 2), 2);
        at += 2;
        if (absl::Status s = need(length, "value"); !s.ok()) return s;
        value.assign(bytes.data() + at, length);
        at += length;
        break;
      }
      default:
        return absl::InternalError(absl::StrCat("event-stream header \"", absl::CHexEscape(name),
                                                "\" has unknown value type ", type));
    }
    if (fixed_width > 0) {
      if (absl::Status s = need(fixed_width, "value"); !s.ok()) return s;
      const absl::string_view raw = bytes.substr(at, fixed_width);
      value = type == kUuid ? absl::BytesToHexString(raw)
                            : SignedDecimal(ReadBigEndian(raw, fixed_width), fixed_width);
      at += fixed_width;
    }
    out->headers.emplace_back(name, std::move(value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view AwsEventStreamMessage::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

uint32_t Crc32(absl::string_view bytes, uint32_t crc) {
  uLong value = crc;
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), UINT_MAX);
    value = crc32(value, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<uint32_t>(value);
}

absl::Status AwsEventStreamDecoder::Fail(absl::Status status) {
  failed_ = true;
  std::string().swap(buffer_);
  return status;
}

absl::Status AwsEventStreamDecoder::CheckPrelude(absl::string_view bytes,
                                                 uint32_t* total_length) const {
  const uint32_t total = ReadBigEndian32(bytes);
  const uint32_t headers = ReadBigEndian32(bytes.substr(4));
  const uint32_t crc = ReadBigEndian32(bytes.substr(8));
  if (Crc32(bytes.substr(0, 8)) != crc) {
    return absl::InternalError("event-stream prelude CRC mismatch");
  }
  if (total < kMinMessageBytes || headers > total - kMinMessageBytes) {
    return absl::InternalError(absl::StrCat("event-stream prelude announces ", total,
                                            " bytes with ", headers, " bytes of headers"));
  }
  if (total > max_message_bytes_) {
    return absl::ResourceExhaustedError(absl::StrCat("event-stream message of ", total,
                                                     " bytes exceeds the limit of ",
                                                     max_message_bytes_));
  }
  *total_length = total;
  return absl::OkStatus();
}

absl::Status AwsEventStreamDecoder::DecodeMessage(
    absl::string_view bytes,
    absl::FunctionRef<absl::Status(const AwsEventStreamMessage&)> on_message) {
  const uint32_t expected = ReadBigEndian32(bytes.substr(bytes.size() - kCrcBytes));
  if (Crc32(bytes.substr(0, bytes.size() - kCrcBytes)) != expected) {
    return absl::InternalError("event-stream message CRC mismatch");
  }
  const size_t headers_length = ReadBigEndian32(bytes.substr(4));
  AwsEventStreamMessage message;
  if (absl::Status s = ReadHeaders(bytes.substr(kPreludeBytes, headers_length), &message); !s.ok()) {
    return s;
  }
  message.payload = bytes.substr(kPreludeBytes + headers_length,
                                 bytes.size() - kPreludeBytes - headers_length - kCrcBytes);
  return on_message(message);
}

absl::Status AwsEventStreamDecoder::Feed(
    absl::string_view chunk,
    absl::FunctionRef<absl::Status(const AwsEventStreamMessage&)> on_message) {
  if (failed_) return absl::FailedPreconditionError("event-stream decoder failed earlier");
  while (!chunk.empty()) {
    uint32_t total = 0;
    if (buffer_.empty()) {
      // Whole messages inside the chunk are decoded in place, without a copy.
      if (chunk.size() < kPreludeBytes) {
        buffer_.assign(chunk.data(), chunk.size());
        return absl::OkStatus();
      }
      if (absl::Status s = CheckPrelude(chunk, &total); !s.ok()) return Fail(std::move(s));
      if (chunk.size() < total) {
        buffer_.reserve(total);
        buffer_.assign(chunk.data(), chunk.size());
        return absl::OkStatus();
      }
      absl::Status s = DecodeMessage(chunk.substr(0, total), on_message);
      if (!s.ok()) return Fail(std::move(s));
      chunk.remove_prefix(total);
      continue;
    }
    if (buffer_.size() < kPreludeBytes) {
      const size_t take = std::min(kPreludeBytes - buffer_.size(), chunk.size());
      buffer_.append(chunk.data(), take);
      chunk.remove_prefix(take);
      if (buffer_.size() < kPreludeBytes) return absl::OkStatus();
    }
    if (absl::Status s = CheckPrelude(buffer_, &total); !s.ok()) return Fail(std::move(s));
    const size_t take = std::min<size_t>(total - buffer_.size(), chunk.size());
    buffer_.append(chunk.data(), take);
    chunk.remove_prefix(take);
    if (buffer_.size() < total) return absl::OkStatus();
    absl::Status s = DecodeMessage(buffer_, on_message);
    if (!s.ok()) return Fail(std::move(s));
    buffer_.clear();
  }
  return absl::OkStatus();
}

}  // namespace claude
