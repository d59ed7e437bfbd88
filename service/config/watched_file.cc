#include "service/config/watched_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace claude {

absl::StatusOr<std::optional<std::string>> WatchedFile::ReadIfChanged() {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(path_, ": ", std::strerror(errno)));
  }
  // A directory opens and reads as empty text; the mount directory of a secret given instead of
  // the file in it must be an error, not an empty configuration.
  if (S_ISDIR(st.st_mode))
    return absl::InvalidArgumentError(absl::StrCat(path_, ": is a directory, not a file"));
  Version version;
  version.mtime = st.st_mtim;
  version.size = static_cast<long long>(st.st_size);
  version.inode = st.st_ino;
  if (read_ && version == version_) return std::nullopt;
  if (version.size > kMaxBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": larger than ", kMaxBytes, " bytes"));
  }
  std::ifstream in(path_);
  if (!in) return absl::NotFoundError(absl::StrCat(path_, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  version_ = version;
  read_ = true;
  return text.str();
}

}  // namespace claude
