// A program run by a test (claude-grpc-server, claude-grpc-cli): its stdout and stderr go to
// files the test reads; it is killed if it outlives the test's bound.
#ifndef TESTS_TESTING_SUBPROCESS_H_
#define TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace claude::testing {

struct ProcessResult {
  int exit_code = -1;  // -1: did not exit normally (killed)
  std::string out;
  std::string err;
};

// The lines of a program's output, without the empty one after its last line break.
std::vector<std::string> OutputLines(absl::string_view text);

// Runs `binary` with `args` and `stdin_text` on its stdin until it exits (killed after
// `timeout`, which fails the test); returns its exit code and output.
ProcessResult RunProcess(const std::string& binary, const std::vector<std::string>& args,
                         const std::string& stdin_text = "", absl::Duration timeout = absl::Seconds(20));

// A long-running child (a server): started at construction, SIGKILLed at destruction if still
// running.
class Subprocess {
 public:
  Subprocess(const std::string& binary, const std::vector<std::string>& args);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Waits up to `timeout` for `text` to appear in its stdout (or stderr); false if it does not
  // (or the process exits first).
  bool WaitForOutput(absl::string_view text, absl::Duration timeout, bool on_stderr = false);
  // Sends `signal` and waits up to `timeout` for the exit; the result as RunProcess gives it.
  ProcessResult Stop(int signal, absl::Duration timeout);

  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  std::string out_path_;
  std::string err_path_;
  std::string in_path_;
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_SUBPROCESS_H_
