// A file descriptor watched by a thread that already waits in epoll (the upstream event loop),
// instead of by a thread of its own: its handler then runs on that thread.
//
// Why: the Redis client reads the reply that admits a call this way, so the admission goes on,
// and hands the call's request to the event loop, on the event loop's own thread. With a thread
// of its own, every Redis-checked call would wake that thread and then the event loop (two
// wake-ups, tens of microseconds each on a busy machine) where one does.
#ifndef SERVICE_UPSTREAM_FD_WATCHER_H_
#define SERVICE_UPSTREAM_FD_WATCHER_H_

#include <cstdint>
#include <functional>

namespace claude {

class FdWatcher {
 public:
  using WatchId = uint64_t;
  virtual ~FdWatcher() = default;

  // Watches a duplicate of `fd` for readability, level-triggered: `on_readable` runs on the
  // watcher's thread, again at each wait while data (or a hang-up) is left, until Unwatch. It
  // must not block. The duplicate keeps the number from being reused, so the caller may close
  // `fd` at any time (after shutdown(): the duplicate keeps the connection itself open until
  // Unwatch). Thread-safe; takes effect on the watcher's thread. Returns 0 when the descriptor
  // cannot be duplicated (out of descriptors): nothing is watched.
  virtual WatchId Watch(int fd, std::function<void()> on_readable) = 0;
  // Stops the watch. Thread-safe; takes effect before the watcher waits again, so a handler
  // already running or due in the same wake-up may still run once: handlers check that what
  // they are about to read is still theirs.
  virtual void Unwatch(WatchId id) = 0;
  // Blocks until every Watch and Unwatch made before it has taken effect and no handler runs.
  // Never on the watcher's thread (it would wait for itself), nor holding a lock handlers take.
  virtual void Sync() = 0;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_FD_WATCHER_H_
