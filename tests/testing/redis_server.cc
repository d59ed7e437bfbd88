#include "tests/testing/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace claude::testing {
namespace {

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

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace

std::string RedisServer::Binary() {
  if (const char* env = std::getenv("REDIS_SERVER"); env != nullptr && access(env, X_OK) == 0) return env;
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs = absl::StrSplit(path == nullptr ? "" : path, ':', absl::SkipEmpty());
  dirs.push_back("/usr/bin");
  dirs.push_back("/usr/sbin");
  for (const std::string& dir : dirs) {
    const std::string candidate = dir + "/redis-server";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

RedisServer::RedisServer() {
  std::string pattern = (std::filesystem::temp_directory_path() / "claude-redis-XXXXXX").string();
  if (mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
}

RedisServer::~RedisServer() {
  Kill();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

bool RedisServer::Start() {
  const std::string binary = Binary();
  if (binary.empty()) {
    error_ = "redis-server is not installed";
    return false;
  }
  if (dir_.empty()) {
    error_ = "cannot create a temporary directory";
    return false;
  }
  if (port_ == 0) port_ = FreeLoopbackPort();
  const std::string port = std::to_string(port_);
  pid_ = fork();
  if (pid_ == 0) {
    // Dies with the test, even when the test crashes.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // Its start-up banner and warnings would bury the test's output.
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
    std::vector<const char*> argv = {binary.c_str(), "--dir", dir_.c_str(), "--save", "", "--appendonly", "no",
                                     "--daemonize", "no", "--loglevel", "warning"};
    if (tls_cert_.empty()) {
      argv.insert(argv.end(), {"--port", port.c_str(), "--bind", "127.0.0.1"});
    } else {
      argv.insert(argv.end(), {"--port", "0", "--tls-port", port.c_str(), "--bind", "127.0.0.1", "127.0.0.2",
                               "--tls-cert-file", tls_cert_.c_str(), "--tls-key-file", tls_key_.c_str(),
                               "--tls-ca-cert-file", tls_ca_.c_str(), "--tls-auth-clients", "no"});
    }
    if (!password_.empty()) {
      argv.push_back("--requirepass");
      argv.push_back(password_.c_str());
    }
    argv.push_back(nullptr);
    execv(binary.c_str(), const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < until) {
    if (Accepts(port_)) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "redis-server exited at start (port " + port + " taken?)";
      return false;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  error_ = "redis-server did not accept connections within 10 s";
  return false;
}

void RedisServer::Pause() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void RedisServer::Resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace claude::testing
