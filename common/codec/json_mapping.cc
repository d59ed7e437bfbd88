#include "common/codec/json_mapping.h"

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <simdjson.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "claude/v1/messages.pb.h"
#include "common/codec/json_decoder.h"
#include "common/codec/json_encoder.h"
#include "common/codec/lone_surrogates.h"

// The mapping's modules: json_shapes (how each message type maps to JSON), json_decoder
// (JSON -> proto), json_encoder (proto -> JSON). This file parses the text (repairing what
// simdjson alone refuses) and holds the public entry points.

namespace claude {
namespace {

// simdjson rejects integer literals beyond 64 bits, which are valid JSON (a model may write
// one in tool input). Copies `json` to `*out` with ".0" after every integer literal of 19 or
// more digits, so it parses as a double; returns false when there is none to widen.
bool WidenBigIntegers(absl::string_view json, std::string* out) {
  bool widened = false;
  out->clear();
  out->reserve(json.size() + 16);
  for (size_t i = 0; i < json.size();) {
    const char c = json[i];
    if (c == '"') {  // copy a string literal whole, escapes included
      size_t j = i + 1;
      while (j < json.size() && json[j] != '"') j += json[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, json.size());
      out->append(json.data() + i, j - i);
      i = j;
      continue;
    }
    if (absl::ascii_isdigit(c) || c == '-') {
      size_t j = i + (c == '-' ? 1 : 0);
      while (j < json.size() && absl::ascii_isdigit(json[j])) ++j;
      const bool integer = j == json.size() || (json[j] != '.' && json[j] != 'e' && json[j] != 'E');
      out->append(json.data() + i, j - i);
      if (integer && j - i - (c == '-' ? 1 : 0) >= 19) {
        out->append(".0");
        widened = true;
      }
      i = j;
      if (i < json.size() && !integer) {  // the rest of a non-integer number
        while (i < json.size() &&
               (absl::ascii_isdigit(json[i]) || json[i] == '.' || json[i] == 'e' ||
                json[i] == 'E' || json[i] == '+' || json[i] == '-')) {
          out->push_back(json[i++]);
        }
      }
      continue;
    }
    out->push_back(c);
    ++i;
  }
  return widened;
}

// Documents above this size get a parser of their own, so that one large request or response
// does not leave a per-thread parser holding its capacity forever.
constexpr size_t kReusableParserLimit = 1 << 20;

// Parses and decodes `json`. Text that simdjson refuses only for big integers or lone
// surrogates is repaired (WidenBigIntegers, RepairLoneSurrogates with `watch`) and parsed again.
absl::Status Decode(absl::string_view json, google::protobuf::Message* message, int nesting_above,
                    const SurrogateWatch* watch, std::vector<EdgeSurrogates>* edges) {
  message->Clear();
  // Also keeps a null data() away from simdjson, which would memcpy from it.
  if (json.empty()) return absl::InvalidArgumentError("invalid JSON: empty document");
  thread_local simdjson::dom::parser reusable_parser;
  std::unique_ptr<simdjson::dom::parser> large_parser;
  simdjson::dom::parser* parser = &reusable_parser;
  if (json.size() > kReusableParserLimit) {
    large_parser = std::make_unique<simdjson::dom::parser>();
    parser = large_parser.get();
  }
  simdjson::dom::element root;
  absl::string_view text = json;
  auto error = parser->parse(text.data(), text.size()).get(root);
  std::string widened;
  std::string repaired;
  // Each repair at most once; a document may need both.
  while (error) {
    if (error == simdjson::NUMBER_ERROR && widened.empty() && WidenBigIntegers(text, &widened)) {
      text = widened;
    } else if (error == simdjson::STRING_ERROR && repaired.empty() &&
               RepairLoneSurrogates(text, &repaired, watch, edges)) {
      text = repaired;
    } else {
      break;
    }
    error = parser->parse(text.data(), text.size()).get(root);
  }
  if (error) {
    if (edges != nullptr) edges->clear();
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON: ", simdjson::error_message(error)));
  }
  return json_internal::DecodeObject(root, message, kMaxProtoNesting - nesting_above);
}

}  // namespace

absl::Status JsonToMessage(absl::string_view json, google::protobuf::Message* message,
                           int nesting_above) {
  return Decode(json, message, nesting_above, nullptr, nullptr);
}

absl::Status JsonToStreamEvent(absl::string_view json, claude::v1::MessageStreamEvent* event,
                               std::vector<EdgeSurrogates>* delta_edges) {
  static const SurrogateWatch* const kDeltaStrings =
      new SurrogateWatch{"delta", {"text", "thinking", "partial_json"}};
  delta_edges->clear();
  return Decode(json, event, 0, kDeltaStrings, delta_edges);
}

void MessageToJson(const google::protobuf::Message& message, std::string* out,
                   absl::string_view leading_members) {
  json_internal::EncodeMessage(message, out, leading_members);
}

std::string CreateMessageBody(const claude::v1::CreateMessageRequest& request, bool stream) {
  std::string body;
  MessageToJson(request, &body, stream ? "\"stream\":true" : "");
  return body;
}

std::string MessageToJsonString(const google::protobuf::Message& message) {
  std::string out;
  MessageToJson(message, &out);
  return out;
}

namespace {

// The length of the well-formed UTF-8 sequence that starts at text[i] (a byte >= 0x80), or 0:
// a stray continuation byte, an overlong form, a surrogate, beyond U+10FFFF, or cut short.
size_t Utf8SequenceLength(absl::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t length;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (text.size() - i < length || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = i + 2; k < i + length; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

void AppendJsonString(absl::string_view text, std::string* out) {
  // Bytes to look at: controls, quote and backslash (JSON requires them escaped), and every
  // byte of a multi-byte character, which is checked (see below).
  static constexpr auto kNeedsEscape = [] {
    std::array<bool, 256> table{};
    for (int c = 0; c < 0x20; ++c) table[c] = true;
    for (int c = 0x80; c < 0x100; ++c) table[c] = true;
    table['"'] = true;
    table['\\'] = true;
    return table;
  }();
  out->reserve(out->size() + text.size() + 2);
  out->push_back('"');
  size_t run_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!kNeedsEscape[c]) continue;
    if (c >= 0x80) {
      // Well-formed UTF-8 is copied; any other byte becomes U+FFFD, so the result is always
      // valid JSON text whatever the input held (upstream headers and bodies end up in logs).
      if (const size_t length = Utf8SequenceLength(text, i); length > 0) {
        i += length - 1;
        continue;
      }
      out->append(text.data() + run_start, i - run_start);
      run_start = i + 1;
      out->append(kReplacementCharacterUtf8);
      continue;
    }
    out->append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
        out->append(escaped, sizeof(escaped));
      }
    }
  }
  out->append(text.data() + run_start, text.size() - run_start);
  out->push_back('"');
}

}  // namespace claude
