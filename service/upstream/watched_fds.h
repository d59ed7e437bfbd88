// The event loop's table of the descriptors it watches for others (FdWatcher): loop thread only.
// Each entry owns a duplicate of the watcher's descriptor, registered in the loop's epoll set
// under the duplicate's own number, which no curl socket can have while the entry lives.
#ifndef SERVICE_UPSTREAM_WATCHED_FDS_H_
#define SERVICE_UPSTREAM_WATCHED_FDS_H_

#include <functional>

#include "absl/container/flat_hash_map.h"
#include "service/upstream/fd_watcher.h"

namespace claude {

class WatchedFds {
 public:
  explicit WatchedFds(int epoll_fd) : epoll_fd_(epoll_fd) {}
  ~WatchedFds();  // closes the duplicates still watched
  WatchedFds(const WatchedFds&) = delete;
  WatchedFds& operator=(const WatchedFds&) = delete;

  // Registers `duplicate` (owned from now on, closed when removed) for readability.
  void Add(FdWatcher::WatchId id, int duplicate, std::function<void()> on_readable);
  void Remove(FdWatcher::WatchId id);
  // Runs the handler of `fd` if it is a watched duplicate; false: not ours (a curl socket).
  bool Dispatch(int fd);

 private:
  struct Entry {
    FdWatcher::WatchId id;
    std::function<void()> on_readable;
  };
  const int epoll_fd_;
  absl::flat_hash_map<int, Entry> by_fd_;
  absl::flat_hash_map<FdWatcher::WatchId, int> fd_of_;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_WATCHED_FDS_H_
