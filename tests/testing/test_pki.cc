#include "tests/testing/test_pki.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace claude::testing {
namespace {

constexpr char kConfig[] = R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[client]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
)";

bool Run(const std::string& dir, const std::string& command) {
  const std::string line = "cd '" + dir + "' && " + command + " >openssl.log 2>&1";
  const int status = std::system(line.c_str());
  EXPECT_EQ(status, 0) << command << " failed; see " << dir << "/openssl.log";
  return status == 0;
}

struct Cleanup {
  std::string dir;
  ~Cleanup() {
    std::error_code ignored;
    if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
  }
};

}  // namespace

const TestPki& TestPki::Get() {
  static const TestPki* pki = [] {
    auto* made = new TestPki();
    char dir[] = "/tmp/claude_test_pki.XXXXXX";
    if (mkdtemp(dir) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return made;
    }
    made->dir_ = dir;
    static Cleanup cleanup;
    cleanup.dir = dir;
    std::ofstream(made->Path("openssl.cnf")) << kConfig;
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    auto ca = [&](const std::string& name) {
      return Run(dir, "openssl req -x509 " + key + " -keyout " + name + ".key -out " + name +
                          ".pem -days 2 -subj /CN=" + name + " -config openssl.cnf -extensions ca");
    };
    auto leaf = [&](const std::string& name, const std::string& ca_name, const std::string& kind,
                    const std::string& cn, int serial) {
      return Run(dir, "openssl req -new " + key + " -keyout " + name + ".key -out " + name +
                          ".csr -subj /CN=" + cn + " -config openssl.cnf") &&
             Run(dir, "openssl x509 -req -in " + name + ".csr -CA " + ca_name + ".pem -CAkey " +
                          ca_name + ".key -set_serial " + std::to_string(serial) + " -days 2 -out " +
                          name + ".pem -extfile openssl.cnf -extensions " + kind);
    };
    ca("ca") && ca("other_ca") && leaf("server", "ca", "server", "localhost", 2) &&
        leaf("client", "ca", "client", "test-client", 3) &&
        leaf("other_client", "other_ca", "client", "other-client", 4) &&
        leaf("other_server", "other_ca", "server", "localhost", 5);
    return made;
  }();
  return *pki;
}

}  // namespace claude::testing
