#include "tests/testing/redis_server.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"

namespace claude::testing {

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
  if (port_ == 0) port_ = bench::FreeLoopbackPort();
  const std::string port = std::to_string(port_);
  std::vector<std::string> argv = {binary,         "--dir", dir_,          "--save", "",
                                   "--appendonly", "no",    "--daemonize", "no"};
  if (tls_cert_.empty()) {
    argv.insert(argv.end(), {"--port", port, "--bind", "127.0.0.1"});
  } else {
    // 127.0.0.2 too: a test connects there to see a certificate that does not name the host
    // refused.
    argv.insert(argv.end(), {"--port", "0", "--tls-port", port, "--bind", "127.0.0.1", "127.0.0.2",
                             "--tls-cert-file", tls_cert_, "--tls-key-file", tls_key_,
                             "--tls-ca-cert-file", tls_ca_, "--tls-auth-clients", "no"});
  }
  if (!password_.empty()) {
    argv.push_back("--requirepass");
    argv.push_back(password_);
  }
  // Logged once its listening socket is open (at redis's default log level, notice).
  absl::StatusOr<std::string> ready = process_.Start(argv, "Ready to accept connections");
  if (!ready.ok()) {
    error_ = "redis-server on port " + port + ": " + ready.status().ToString();
    return false;
  }
  return true;
}

void RedisServer::Pause() {
  if (process_.pid() > 0) kill(process_.pid(), SIGSTOP);
}

void RedisServer::Resume() {
  if (process_.pid() > 0) kill(process_.pid(), SIGCONT);
}

void RedisServer::Kill() { process_.Kill(); }

}  // namespace claude::testing
