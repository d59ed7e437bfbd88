// A std::mutex that clang's -Wthread-safety analysis understands, and its scoped lock.
//
// The project's ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations are checked by the
// clang build in .ci/run (-DCLAUDE_THREAD_SAFETY=ON). libstdc++'s std::mutex and std::lock_guard
// carry no capability attributes, so annotations naming a std::mutex are ignored; these wrappers
// carry them. They stay on std::mutex rather than absl::Mutex because Debian builds Abseil
// without ThreadSanitizer annotations, so TSan builds could not see absl::Mutex synchronize.
//
//   Mutex mu_;
//   int count_ ABSL_GUARDED_BY(mu_);
//   void Add() { MutexLock lock(mu_); ++count_; }
//
// A condition variable waits through the lock (MutexLock::Wait), so the analysis still sees the
// mutex held before and after the wait, as it is. A predicate that reads guarded fields is
// declared ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_): `[&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {...}`.
#ifndef COMMON_SYNC_MUTEX_H_
#define COMMON_SYNC_MUTEX_H_

#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace claude {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds `mu` from construction to destruction, unless released early with Unlock().
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : lock_(mu.mu_) {}
  ~MutexLock() ABSL_UNLOCK_FUNCTION() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Releases the mutex before the end of the scope (to call out without holding it), and takes
  // it again.
  void Unlock() ABSL_UNLOCK_FUNCTION() { lock_.unlock(); }
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { lock_.lock(); }

  // cv.wait(...) on the held mutex: released while waiting, held again on return.
  void Wait(std::condition_variable& cv) { cv.wait(lock_); }
  template <typename Predicate>
  void Wait(std::condition_variable& cv, Predicate done) {
    cv.wait(lock_, done);
  }
  // As Wait, for at most `timeout`; returns done()'s last value.
  template <typename Predicate>
  bool WaitFor(std::condition_variable& cv, absl::Duration timeout, Predicate done) {
    // wait_for adds the timeout to the clock's now: an infinite one would overflow.
    if (timeout == absl::InfiniteDuration()) {
      cv.wait(lock_, done);
      return true;
    }
    return cv.wait_for(lock_, absl::ToChronoNanoseconds(timeout), done);
  }
  // Without a predicate: false when `timeout` passed (a spurious wake-up returns true).
  bool WaitFor(std::condition_variable& cv, absl::Duration timeout) {
    if (timeout == absl::InfiniteDuration()) {
      cv.wait(lock_);
      return true;
    }
    return cv.wait_for(lock_, absl::ToChronoNanoseconds(timeout)) == std::cv_status::no_timeout;
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace claude

#endif  // COMMON_SYNC_MUTEX_H_
