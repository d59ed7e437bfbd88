// --help and --version for the project's programs. absl's own --help exits 1 and names the
// source file (with its build path) of each flag, and its --version says only "Debug build" or
// nothing; scripts and images want exit 0, the flags, and the version and revision.
#ifndef COMMON_PROGRAM_INFO_HELP_FLAGS_H_
#define COMMON_PROGRAM_INFO_HELP_FLAGS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace claude {

// Makes absl's help flags (--helpfull, --helpon...) list the flags defined in the file whose
// path ends with `path_suffix`, e.g. "service/main.cc", naming it without its build path, and
// --version print VersionLine(). Call before absl::ParseCommandLine.
void ShowFlagsOfFile(absl::string_view path_suffix);

// The program's usage message (absl::SetProgramUsageMessage) and its flags, those defined in
// the file whose path ends with `path_suffix`, sorted by name, each with its default and help.
std::string HelpText(absl::string_view path_suffix);

// Answers -h, --help (and absl's --help* variants) with HelpText() on stdout, and --version with
// VersionLine(`program`), then exits 0; returns otherwise. Arguments after "--" are not looked
// at. Call first in main(), after absl::SetProgramUsageMessage.
void HandleHelpAndVersion(int argc, char** argv, absl::string_view program,
                          absl::string_view path_suffix);

}  // namespace claude

#endif  // COMMON_PROGRAM_INFO_HELP_FLAGS_H_
