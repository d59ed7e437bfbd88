// What this binary is: the project's version (CMakeLists.txt) and the source revision it was
// built from (git, or -DCLAUDE_REVISION for builds without .git). --version prints them and the
// metrics export them as claude_grpc_build_info.
#ifndef COMMON_PROGRAM_INFO_BUILD_INFO_H_
#define COMMON_PROGRAM_INFO_BUILD_INFO_H_

#include <string>

namespace claude {

// "0.1.0".
const char* BuildVersion();
// A short git commit id, or "unknown".
const char* BuildRevision();
// "<program> <version> (revision <revision>)", --version's line.
std::string VersionLine(const std::string& program);

}  // namespace claude

#endif  // COMMON_PROGRAM_INFO_BUILD_INFO_H_
