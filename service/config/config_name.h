// Names that configuration files give things (callers, models): 1-128 characters of
// [A-Za-z0-9._:@/-], so they are safe in logs, metric labels and Redis keys.
#ifndef SERVICE_CONFIG_CONFIG_NAME_H_
#define SERVICE_CONFIG_CONFIG_NAME_H_

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace claude {

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

#endif  // SERVICE_CONFIG_CONFIG_NAME_H_
