// Lone UTF-16 surrogates in JSON text. JSON escapes a character beyond U+FFFF as two escapes,
// a high and a low surrogate ("\ud83d\ude80" is U+1F680). One of them without its partner is
// valid JSON grammar but no character: it has no UTF-8 form, and simdjson 3.0.1 (Debian 12's)
// refuses the whole document ("Problem while parsing a string"; it has no option to replace
// them, which came in later versions). Upstreams produce them when a stream splits a pair
// across two deltas, so the codec repairs the text before parsing it.
#ifndef COMMON_CODEC_LONE_SURROGATES_H_
#define COMMON_CODEC_LONE_SURROGATES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace claude {

// A lone surrogate cut from an end of a watched string (see RepairLoneSurrogates).
struct EdgeSurrogates {
  std::string member;          // the key of the string ("text")
  uint16_t leading_low = 0;    // 0xDC00..0xDFFF that began the string; 0: none
  uint16_t trailing_high = 0;  // 0xD800..0xDBFF that ended the string; 0: none
};

// What RepairLoneSurrogates watches: string members of the object that is member `object` of
// the top-level object (`object` "delta" and `members` {"text"} watch
// {"delta":{"text":"..."}}). Keys are compared as written, escapes and all.
struct SurrogateWatch {
  absl::string_view object;
  std::vector<absl::string_view> members;
};

// Copies `json` to `*out` with every lone surrogate escape replaced by "\ufffd" (U+FFFD, the
// replacement character), except that, for the strings `watch` names, a lone low surrogate
// right after the opening quote and a lone high one right before the closing quote are cut
// out and reported in `*edges` instead (`watch` and `edges` may be null). Returns false, with
// `*out` unspecified, when there was no lone surrogate to repair. Malformed JSON is copied as
// it is (the parser then reports it); bytes are never added except as "\ufffd" escapes.
bool RepairLoneSurrogates(absl::string_view json, std::string* out, const SurrogateWatch* watch,
                          std::vector<EdgeSurrogates>* edges);

// Appends the UTF-8 encoding of `code_point` (at most U+10FFFF, not a surrogate) to `*out`.
void AppendUtf8(uint32_t code_point, std::string* out);

// The code point of a surrogate pair.
inline uint32_t CombineSurrogates(uint16_t high, uint16_t low) {
  return 0x10000 + ((static_cast<uint32_t>(high) - 0xD800) << 10) +
         (static_cast<uint32_t>(low) - 0xDC00);
}

inline constexpr char kReplacementCharacterUtf8[] = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace claude

#endif  // COMMON_CODEC_LONE_SURROGATES_H_
