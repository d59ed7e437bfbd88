// The text of our small line-oriented configuration files (the callers file, the prices file):
// lines of blank-separated fields, `#` comments, and the names they give things.
#ifndef SERVICE_CONFIG_CONFIG_TEXT_H_
#define SERVICE_CONFIG_CONFIG_TEXT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace claude {

// One line with something on it: its 1-based number and its fields.
struct ConfigLine {
  int number = 0;
  std::vector<absl::string_view> fields;  // views into the text
};

// The lines of `text` that hold fields once `#` comments are cut off; fields are separated by
// spaces, tabs (and a CRLF file's CR).
inline std::vector<ConfigLine> ConfigLines(absl::string_view text) {
  std::vector<ConfigLine> lines;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (const size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (!fields.empty()) lines.push_back({number, std::move(fields)});
  }
  return lines;
}

// "line N: what", INVALID_ARGUMENT.
inline absl::Status ConfigLineError(const ConfigLine& line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line.number, ": ", what));
}

// Names that configuration files give things (callers, models): 1-128 characters of
// [A-Za-z0-9._:@/-], so they are safe in logs, metric labels and Redis keys.
inline bool IsValidConfigName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '@' && c != '/' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace claude

#endif  // SERVICE_CONFIG_CONFIG_TEXT_H_
