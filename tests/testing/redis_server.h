// A real redis-server for tests: started on a free loopback port with a temporary directory,
// no persistence, and stopped (or killed, and started again on the same port) by the test. The
// process itself is a claude::bench::Child (client/bench/child_process.h), as the bench's.
// Tests skip with a clear message when the binary is absent (`.ci/install-deps` installs it).
#ifndef TESTS_TESTING_REDIS_SERVER_H_
#define TESTS_TESTING_REDIS_SERVER_H_

#include <string>

#include "client/bench/child_process.h"

namespace claude::testing {

class RedisServer {
 public:
  // The redis-server binary ($REDIS_SERVER, else found on PATH or in /usr/bin), or "".
  static std::string Binary();

  RedisServer();
  ~RedisServer();

  // Clients must then AUTH with it (set before Start).
  void set_password(std::string password) { password_ = std::move(password); }
  // Starts redis-server and waits until it accepts connections; false (with the reason in
  // error()) when it cannot. The first start picks the port; later starts reuse it.
  bool Start();
  // SIGKILL: the connection breaks at once, as when a pod dies.
  void Kill();
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  int port_ = 0;
  bench::Child process_;
  std::string error_;
  std::string password_;
};

}  // namespace claude::testing

// Skips the test when redis-server is not installed.
#define CLAUDE_REQUIRE_REDIS_SERVER()                                                          \
  if (::claude::testing::RedisServer::Binary().empty()) {                                     \
    GTEST_SKIP() << "redis-server is not installed (Debian: redis-server; .ci/install-deps " \
                    "installs it): skipping the Redis tests";                                 \
  }

#endif  // TESTS_TESTING_REDIS_SERVER_H_
