// How fake-anthropic's echo modes count and cut text: "words" are runs of non-whitespace;
// a reply streams one delta per word (with the whitespace after it).
#ifndef TESTS_FAKE_UPSTREAM_ECHO_WORDS_H_
#define TESTS_FAKE_UPSTREAM_ECHO_WORDS_H_

#include <vector>

#include "absl/strings/string_view.h"

namespace claude::testing {

inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

inline int CountWords(absl::string_view text) {
  int words = 0;
  bool in_word = false;
  for (char c : text) {
    if (IsSpace(c)) {
      in_word = false;
    } else if (!in_word) {
      in_word = true;
      ++words;
    }
  }
  return words;
}

// Cuts `text` into words, each with the whitespace that follows it (leading whitespace goes
// with the first word). The pieces concatenate to `text`.
inline std::vector<absl::string_view> WordPieces(absl::string_view text) {
  std::vector<absl::string_view> pieces;
  size_t start = 0;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsSpace(text[i])) ++i;   // leading whitespace (first piece only)
    while (i < text.size() && !IsSpace(text[i])) ++i;  // the word
    while (i < text.size() && IsSpace(text[i])) ++i;   // the whitespace after it
    pieces.push_back(text.substr(start, i - start));
    start = i;
  }
  return pieces;
}

}  // namespace claude::testing

#endif  // TESTS_FAKE_UPSTREAM_ECHO_WORDS_H_
