// Throwaway certificates for TLS tests, made with the openssl command at test time into a
// temporary directory (removed at exit); no private key is ever committed.
//
//   ca.pem                               the test CA
//   server.pem, server.key               signed by it, for localhost and 127.0.0.1
//   client.pem, client.key               a client certificate signed by it
//   other_ca.pem                         an unrelated CA
//   other_client.pem, other_client.key   a client certificate signed by the other CA
//   other_server.pem, other_server.key   a server certificate (localhost) signed by the other CA
#ifndef TESTS_TESTING_TEST_PKI_H_
#define TESTS_TESTING_TEST_PKI_H_

#include <string>

namespace claude::testing {

class TestPki {
 public:
  // Made once per process; fails the test (and returns an empty directory) when openssl fails.
  static const TestPki& Get();

  // The path of one of the files above.
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_TEST_PKI_H_
