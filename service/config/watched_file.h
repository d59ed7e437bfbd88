// A small configuration file on disk (a mounted Kubernetes secret or config map) whose changes
// are noticed: it is stat()ed, and read again only when its modification time, size or inode
// changed. The callers file and the prices file both follow it.
#ifndef SERVICE_CONFIG_WATCHED_FILE_H_
#define SERVICE_CONFIG_WATCHED_FILE_H_

#include <sys/types.h>

#include <ctime>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace claude {

class WatchedFile {
 public:
  // Files larger than this are refused rather than read (configuration, not data).
  static constexpr long long kMaxBytes = 16 << 20;

  explicit WatchedFile(std::string path) : path_(std::move(path)) {}

  // The file's text when it changed since the last successful read (always on the first
  // call), nullopt when unchanged, or why it cannot be read. Not thread-safe: the owner
  // serializes calls. A failed read is retried on the next call.
  absl::StatusOr<std::optional<std::string>> ReadIfChanged();
  // The version just read was rejected by its parser: read it again next time.
  void Forget() { read_ = false; }
  const std::string& path() const { return path_; }

 private:
  struct Version {
    struct timespec mtime = {0, 0};
    long long size = -1;
    ino_t inode = 0;
    bool operator==(const Version& o) const {
      return mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec && size == o.size &&
             inode == o.inode;
    }
  };

  const std::string path_;
  Version version_;
  bool read_ = false;
};

}  // namespace claude

#endif  // SERVICE_CONFIG_WATCHED_FILE_H_
