#include "service/upstream/watched_fds.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <utility>

namespace claude {

WatchedFds::~WatchedFds() {
  for (const auto& [fd, entry] : by_fd_) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
  }
}

void WatchedFds::Add(FdWatcher::WatchId id, int duplicate, std::function<void()> on_readable) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = duplicate;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, duplicate, &event) != 0) {
    // Out of memory for the epoll entry: never readable, as if the peer were silent; the
    // watcher's own timeouts (the Redis client's command timeout) end what waits on it.
    close(duplicate);
    return;
  }
  by_fd_[duplicate] = Entry{id, std::move(on_readable)};
  fd_of_[id] = duplicate;
}

void WatchedFds::Remove(FdWatcher::WatchId id) {
  auto it = fd_of_.find(id);
  if (it == fd_of_.end()) return;
  const int fd = it->second;
  fd_of_.erase(it);
  by_fd_.erase(fd);
  // Explicitly: closing the duplicate alone would leave the registration while the watcher's
  // own descriptor keeps the socket open, reporting events under a number since reused.
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
}

bool WatchedFds::Dispatch(int fd) {
  auto it = by_fd_.find(fd);
  if (it == by_fd_.end()) return false;
  // Not erased under it: Unwatch takes effect between waits (CurlEventLoop::Execute).
  it->second.on_readable();
  return true;
}

}  // namespace claude
