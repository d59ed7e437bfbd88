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
  // Serve TLS only (no plaintext port) with this certificate and key (PEM files; set before
  // Start), on 127.0.0.1 and 127.0.0.2, so a test can reach it under an address its
  // certificate does not name. Clients need no certificate.
  void set_tls(std::string cert_file, std::string key_file, std::string ca_file) {
    tls_cert_ = std::move(cert_file);
    tls_key_ = std::move(key_file);
    tls_ca_ = std::move(ca_file);
  }
  // Starts redis-server and waits until it accepts connections; false (with the reason in
  // error()) when it cannot. The first start picks the port; later starts reuse it.
  bool Start();
  // SIGKILL: the connection breaks at once, as when a pod dies.
  void Kill();
  // SIGSTOP / SIGCONT: Redis stops answering while its connections stay open (a hung or
  // overloaded Redis).
  void Pause();
  void Resume();
  int port() const { return port_; }
  std::string url() const {
    return (tls_cert_.empty() ? "redis://" : "rediss://") + std::string("127.0.0.1:") +
           std::to_string(port_) + "/0";
  }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  int port_ = 0;
  bench::Child process_;
  std::string error_;
  std::string password_;
  std::string tls_cert_, tls_key_, tls_ca_;
};

}  // namespace claude::testing

// Skips the test when redis-server is not installed.
#define CLAUDE_REQUIRE_REDIS_SERVER()                                                          \
  if (::claude::testing::RedisServer::Binary().empty()) {                                     \
    GTEST_SKIP() << "redis-server is not installed (Debian: redis-server; .ci/install-deps " \
                    "installs it): skipping the Redis tests";                                 \
  }

#endif  // TESTS_TESTING_REDIS_SERVER_H_
