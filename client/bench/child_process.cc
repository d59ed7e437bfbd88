#include "client/bench/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace claude {
namespace bench {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::StatusOr<std::string> Child::Start(const std::vector<std::string>& argv,
                                         absl::string_view marker) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, "ANTHROPIC_API_KEY=")) env_strings.emplace_back(*e);
  }
  env_strings.emplace_back("ANTHROPIC_API_KEY=bench-not-a-real-key");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) return absl::InternalError("fork failed");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the bench
    if (getppid() != parent) _exit(1);
    dup2(fds[1], STDOUT_FILENO);
    // The server logs a JSON line per RPC to stderr: still formatted and written, as in
    // production, but not into the bench's own output.
    if (const int devnull = open("/dev/null", O_WRONLY); devnull >= 0) dup2(devnull, STDERR_FILENO);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  out_fd_ = fds[0];
  std::string line;
  const int64_t deadline = NowMs() + 30'000;
  while (true) {
    const int64_t left_ms = deadline - NowMs();
    if (left_ms <= 0) return absl::DeadlineExceededError(absl::StrCat(argv[0], " did not start"));
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left_ms)) <= 0) continue;
    char c;
    const ssize_t n = read(out_fd_, &c, 1);
    if (n <= 0) return absl::UnavailableError(absl::StrCat(argv[0], " exited before listening"));
    if (c != '\n') {
      line += c;
      continue;
    }
    if (absl::StrContains(line, marker)) return line;
    line.clear();
  }
}

void Child::Stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    bool reaped = false;
    for (int i = 0; i < 100 && !reaped; ++i) {
      reaped = waitpid(pid_, &status, WNOHANG) == pid_;
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!reaped) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }
  if (out_fd_ >= 0) {
    close(out_fd_);
    out_fd_ = -1;
  }
}

void Child::Kill() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  if (out_fd_ >= 0) {
    close(out_fd_);
    out_fd_ = -1;
  }
}

int64_t Child::StatusKb(absl::string_view field) const {
  if (pid_ <= 0) return -1;
  std::ifstream status(absl::StrCat("/proc/", pid_, "/status"));
  const std::string prefix = absl::StrCat(field, ":");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, prefix)) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, " kB");
    int64_t kb = 0;
    return absl::SimpleAtoi(rest, &kb) ? kb : -1;
  }
  return -1;
}

bool Child::ResetPeakRss() const {
  if (pid_ <= 0) return false;
  std::ofstream clear(absl::StrCat("/proc/", pid_, "/clear_refs"));
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

int64_t RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  // 10,000 streams take 10,000 upstream sockets in the server and as many in the fake.
  constexpr rlim_t kWanted = 65536;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < kWanted) {
    rlimit raised{kWanted, kWanted};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return static_cast<int64_t>(kWanted);
  }
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  return static_cast<int64_t>(limit.rlim_cur);
}

absl::StatusOr<std::string> StartFake(Child* fake, const std::string& binary,
                                      const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {binary, "--listen=127.0.0.1:0"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  absl::StatusOr<std::string> line = fake->Start(argv, "listening on ");
  if (!line.ok()) return line.status();
  return line->substr(line->find("listening on ") + 13);
}

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

absl::StatusOr<int> StartServer(Child* server, const std::string& binary, const std::string& upstream,
                                const std::vector<std::string>& flags, int* metrics_port) {
  std::vector<std::string> argv = {binary, "--listen=127.0.0.1:0", "--upstream=" + upstream};
  argv.insert(argv.end(), flags.begin(), flags.end());
  absl::StatusOr<std::string> line = server->Start(argv, "listening on port ");
  if (!line.ok()) return line.status();
  if (metrics_port != nullptr) {
    *metrics_port = 0;
    const absl::string_view kMetrics = "metrics on port ";
    if (const size_t at = absl::string_view(*line).find(kMetrics); at != absl::string_view::npos) {
      absl::string_view digits = absl::string_view(*line).substr(at + kMetrics.size());
      digits = digits.substr(0, digits.find_first_not_of("0123456789"));
      if (!absl::SimpleAtoi(digits, metrics_port)) *metrics_port = 0;
    }
  }
  absl::string_view rest = *line;
  rest.remove_prefix(rest.find("listening on port ") + 18);
  rest = rest.substr(0, rest.find(','));
  int port = 0;
  if (!absl::SimpleAtoi(rest, &port) || port == 0) {
    return absl::InternalError(absl::StrCat("no port in \"", *line, "\""));
  }
  return port;
}

PeakRssSampler::PeakRssSampler(const Child& child)
    : child_(child), baseline_kb_(child.StatusKb("VmRSS")), sampled_peak_(baseline_kb_) {
  child_.ResetPeakRss();
  sampler_ = std::thread([this] {
    while (sampling_.load()) {
      const int64_t kb = child_.StatusKb("VmRSS");
      if (kb > sampled_peak_.load()) sampled_peak_.store(kb);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
}

int64_t PeakRssSampler::Stop() {
  if (sampler_.joinable()) {
    sampling_.store(false);
    sampler_.join();
  }
  return std::max(sampled_peak_.load(), child_.StatusKb("VmHWM"));
}

}  // namespace bench
}  // namespace claude
