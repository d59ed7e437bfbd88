#include "service/config/api_key_source.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"

namespace claude {

std::string FileApiKeySource::Key() {
  MutexLock lock(mu_);
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) return key_;  // keep the last key while a secret is swapped
  if (st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec &&
      static_cast<long long>(st.st_size) == size_) {
    return key_;
  }
  std::ifstream in(path_);
  if (!in) return key_;
  std::stringstream text;
  text << in.rdbuf();
  mtime_ = st.st_mtim;
  size_ = static_cast<long long>(st.st_size);
  key_ = std::string(absl::StripAsciiWhitespace(text.str()));
  return key_;
}

bool FileApiKeySource::Present() {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) return false;
  return !Key().empty();
}

}  // namespace claude
