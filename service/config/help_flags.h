// --help for the project's programs. absl lists only the flags of files named like the program,
// and ours define theirs in a main.cc; each program names the file whose flags --help shows.
#ifndef SERVICE_CONFIG_HELP_FLAGS_H_
#define SERVICE_CONFIG_HELP_FLAGS_H_

#include <string>

#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace claude {

// Makes --help (and --helpshort) list the flags defined in the file whose path ends with
// `path_suffix`, e.g. "service/main.cc". Call before absl::ParseCommandLine.
inline void ShowFlagsOfFile(absl::string_view path_suffix) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [suffix = std::string(path_suffix)](absl::string_view file) {
    return absl::EndsWith(file, suffix);
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  absl::SetFlagsUsageConfig(config);
}

}  // namespace claude

#endif  // SERVICE_CONFIG_HELP_FLAGS_H_
