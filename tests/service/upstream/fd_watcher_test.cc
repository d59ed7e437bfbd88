// The event loop as an FdWatcher: handlers run on the loop thread while the descriptor is
// readable, stop after Unwatch (applied by Sync), and outlive the caller's own descriptor.
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include <gtest/gtest.h>

#include "absl/time/time.h"
#include "service/upstream/curl_event_loop.h"
#include "tests/testing/wait_until.h"

namespace claude {
namespace {

using ::claude::testing::WaitUntil;

// An eventfd the test writes to; each handler call drains it, so a call means a new write.
class Signal {
 public:
  Signal() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~Signal() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }
  void Raise() {
    const uint64_t one = 1;
    ASSERT_EQ(write(fd_, &one, sizeof(one)), static_cast<ssize_t>(sizeof(one)));
  }
  // Closes the test's own descriptor (the watcher keeps its duplicate).
  void CloseOwn() {
    close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Drains the watched duplicate through the descriptor the handler is given by the test: an
// eventfd's counter is shared by its duplicates, so reading either empties both.
void Drain(int fd) {
  uint64_t count;
  (void)!read(fd, &count, sizeof(count));
}

TEST(FdWatcherTest, HandlersRunOnTheLoopThreadWhileReadableUntilUnwatched) {
  CurlEventLoop loop(CurlEventLoopOptions{});
  Signal watched, control;
  std::atomic<int> watched_calls{0}, control_calls{0};
  std::atomic<bool> off_the_caller_thread{true};
  const std::thread::id caller = std::this_thread::get_id();
  const FdWatcher::WatchId id = loop.Watch(watched.fd(), [&] {
    Drain(watched.fd());
    if (std::this_thread::get_id() == caller) off_the_caller_thread = false;
    ++watched_calls;
  });
  ASSERT_NE(id, 0u);
  loop.Watch(control.fd(), [&] {
    Drain(control.fd());
    ++control_calls;
  });

  watched.Raise();
  ASSERT_TRUE(WaitUntil([&] { return watched_calls.load() == 1; }, absl::Seconds(10)));
  watched.Raise();
  ASSERT_TRUE(WaitUntil([&] { return watched_calls.load() == 2; }, absl::Seconds(10)));
  EXPECT_TRUE(off_the_caller_thread.load());

  loop.Unwatch(id);
  loop.Sync();
  watched.Raise();
  // The control watch proves the loop went round its events after the write.
  control.Raise();
  ASSERT_TRUE(WaitUntil([&] { return control_calls.load() == 1; }, absl::Seconds(10)));
  loop.Sync();
  EXPECT_EQ(watched_calls.load(), 2);
}

TEST(FdWatcherTest, TheWatchOutlivesTheCallersOwnDescriptor) {
  CurlEventLoop loop(CurlEventLoopOptions{});
  auto signal = std::make_unique<Signal>();
  const int writer = dup(signal->fd());
  ASSERT_GE(writer, 0);
  std::atomic<int> calls{0};
  loop.Watch(signal->fd(), [&] { ++calls; });
  signal->CloseOwn();
  const uint64_t one = 1;
  ASSERT_EQ(write(writer, &one, sizeof(one)), static_cast<ssize_t>(sizeof(one)));
  // Level-triggered: called again and again while the counter is not drained.
  ASSERT_TRUE(WaitUntil([&] { return calls.load() >= 2; }, absl::Seconds(10)));
  Drain(writer);
  close(writer);
}

TEST(FdWatcherTest, AnUnduplicableDescriptorIsRefused) {
  CurlEventLoop loop(CurlEventLoopOptions{});
  EXPECT_EQ(loop.Watch(-1, [] {}), 0u);
}

}  // namespace
}  // namespace claude
