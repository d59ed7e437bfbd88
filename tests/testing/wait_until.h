// Waiting, in a test, for something another thread or process makes true: the metric that
// settles, the transfer that ends, the file the server re-reads. Tests wait on the condition
// itself with a deadline, never for a fixed time that is too short under load and too long
// otherwise.
#ifndef TESTS_TESTING_WAIT_UNTIL_H_
#define TESTS_TESTING_WAIT_UNTIL_H_

#include "absl/functional/function_ref.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace claude::testing {

// Polls `done` until it returns true (then true) or `timeout` has passed (then false). The caller
// scales `timeout` for sanitizer builds (Scaled() in server_harness.h). `done` is called at least
// once, and once more after the deadline, so a slow poll never reports a false timeout.
inline bool WaitUntil(absl::FunctionRef<bool()> done, absl::Duration timeout,
                      absl::Duration poll_interval = absl::Milliseconds(2)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return done();
    absl::SleepFor(poll_interval);
  }
  return true;
}

}  // namespace claude::testing

#endif  // TESTS_TESTING_WAIT_UNTIL_H_
