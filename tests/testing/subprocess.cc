#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/testing/server_harness.h"

extern char** environ;

namespace claude::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts `binary`; stdin from `in_path`, stdout and stderr into the two files.
pid_t Spawn(const std::string& binary, const std::vector<std::string>& args, const std::string& in_path,
            const std::string& out_path, const std::string& err_path) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(spawned, 0) << "cannot run " << binary;
  return spawned == 0 ? pid : -1;
}

// Waits for `pid` to exit until `timeout`; kills it then (a test failure). The exit code, or
// -1 when it did not exit normally.
int Reap(pid_t pid, const std::string& binary, absl::Duration timeout) {
  int status = 0;
  const absl::Time until = absl::Now() + Scaled(timeout);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (absl::Now() > until) {
      ADD_FAILURE() << binary << " did not finish; killed";
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string TempPath(absl::string_view suffix) {
  static int run = 0;
  return absl::StrCat(::testing::TempDir(), "/subprocess_", getpid(), "_", ++run, suffix);
}

}  // namespace

std::vector<std::string> OutputLines(absl::string_view text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

ProcessResult RunProcess(const std::string& binary, const std::vector<std::string>& args,
                         const std::string& stdin_text, absl::Duration timeout) {
  const std::string in_path = TempPath(".in"), out_path = TempPath(".out"), err_path = TempPath(".err");
  std::ofstream(in_path, std::ios::binary) << stdin_text;
  ProcessResult result;
  const pid_t pid = Spawn(binary, args, in_path, out_path, err_path);
  if (pid > 0) result.exit_code = Reap(pid, binary, timeout);
  result.out = Slurp(out_path);
  result.err = Slurp(err_path);
  unlink(in_path.c_str());
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return result;
}

Subprocess::Subprocess(const std::string& binary, const std::vector<std::string>& args)
    : out_path_(TempPath(".out")), err_path_(TempPath(".err")), in_path_(TempPath(".in")) {
  std::ofstream(in_path_, std::ios::binary) << "";
  pid_ = Spawn(binary, args, in_path_, out_path_, err_path_);
}

Subprocess::~Subprocess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  unlink(in_path_.c_str());
  unlink(out_path_.c_str());
  unlink(err_path_.c_str());
}

bool Subprocess::WaitForOutput(absl::string_view text, absl::Duration timeout, bool on_stderr) {
  const absl::Time until = absl::Now() + Scaled(timeout);
  while (absl::Now() < until) {
    if (absl::StrContains(on_stderr ? err() : out(), text)) return true;
    if (pid_ <= 0 || waitpid(pid_, nullptr, WNOHANG) != 0) {
      pid_ = -1;
      return absl::StrContains(on_stderr ? err() : out(), text);
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

ProcessResult Subprocess::Stop(int signal, absl::Duration timeout) {
  ProcessResult result;
  if (pid_ > 0) {
    kill(pid_, signal);
    result.exit_code = Reap(pid_, "the subprocess", timeout);
    pid_ = -1;
  }
  result.out = out();
  result.err = err();
  return result;
}

std::string Subprocess::out() const { return Slurp(out_path_); }
std::string Subprocess::err() const { return Slurp(err_path_); }

}  // namespace claude::testing
