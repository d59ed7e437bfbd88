// The gRPC port's credentials from their files, without the rest of the server: every refusal
// names the flag (and the path) at fault, and the credentials that are made serve what the flags
// ask for: plaintext, TLS that asks no client certificate, or mutual TLS against the client CA.
// Rotation and the whole server's handshakes are covered end to end
// (tests/integration/security_test.cc).
#include "service/security/server_tls.h"

#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testing/scratch_file.h"
#include "tests/testing/test_pki.h"

namespace claude {
namespace {

using ::claude::testing::ScratchPath;
using ::claude::testing::TestPki;
using ::claude::testing::WriteScratchFile;
using ::testing::HasSubstr;

const TestPki& Pki() { return TestPki::Get(); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

ServerTlsConfig ServerCertificate() {
  ServerTlsConfig tls;
  tls.cert_file = Pki().Path("server.pem");
  tls.key_file = Pki().Path("server.key");
  return tls;
}

// The refusal MakeServerCredentials gives for `tls`; fails the test when it accepts it.
absl::Status Refusal(const ServerTlsConfig& tls) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = MakeServerCredentials(tls);
  EXPECT_FALSE(credentials.ok()) << "accepted";
  if (credentials.ok()) return absl::OkStatus();
  EXPECT_EQ(credentials.status().code(), absl::StatusCode::kInvalidArgument)
      << credentials.status();
  return credentials.status();
}

// A gRPC server on a loopback port of its own, listening with `credentials`, that answers every
// call UNIMPLEMENTED (the generic service's default): a call that gets through the handshake
// ends so.
class ServerWith {
 public:
  explicit ServerWith(std::shared_ptr<grpc::ServerCredentials> credentials) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", std::move(credentials), &port_);
    builder.RegisterCallbackGenericService(&unimplemented_);
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
    EXPECT_GT(port_, 0);
  }
  ~ServerWith() {
    if (server_ != nullptr) server_->Shutdown();
  }

  // The status of one call on a fresh channel with `credentials` (TLS expects the name
  // "localhost", which the test server certificates carry).
  grpc::StatusCode Call(const std::shared_ptr<grpc::ChannelCredentials>& credentials) const {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // no connection shared between calls
    grpc::GenericStub stub(
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port_), credentials, args));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, "/claude.test.Nothing/Call", grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status status) { done.set_value(std::move(status)); });
    return done.get_future().get().error_code();
  }

 private:
  grpc::CallbackGenericService unimplemented_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// TLS trusting the test CA, with the client certificate `client` ("client", "other_client") or
// none ("").
std::shared_ptr<grpc::ChannelCredentials> TlsClient(const std::string& client) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile(Pki().Path("ca.pem"));
  if (!client.empty()) {
    options.pem_cert_chain = ReadFile(Pki().Path(client + ".pem"));
    options.pem_private_key = ReadFile(Pki().Path(client + ".key"));
  }
  return grpc::SslCredentials(options);
}

TEST(ServerTlsTest, WithoutCertificateAndKeyThePortIsPlaintext) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = MakeServerCredentials({});
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  ServerWith server(*credentials);
  EXPECT_EQ(server.Call(grpc::InsecureChannelCredentials()), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(server.Call(TlsClient("")), grpc::StatusCode::UNAVAILABLE);
}

TEST(ServerTlsTest, CertificateAndKeyGoTogether) {
  ServerTlsConfig only_cert;
  only_cert.cert_file = Pki().Path("server.pem");
  EXPECT_THAT(Refusal(only_cert).message(), HasSubstr("--tls_cert and --tls_key go together"));
  ServerTlsConfig only_key;
  only_key.key_file = Pki().Path("server.key");
  EXPECT_THAT(Refusal(only_key).message(), HasSubstr("--tls_cert and --tls_key go together"));
}

TEST(ServerTlsTest, AClientCaNeedsACertificate) {
  ServerTlsConfig tls;
  tls.client_ca_file = Pki().Path("ca.pem");
  EXPECT_THAT(Refusal(tls).message(), HasSubstr("--tls_client_ca needs --tls_cert and --tls_key"));
}

// Each file flag and the field of ServerTlsConfig that holds it.
struct FileFlag {
  std::string flag;
  std::string ServerTlsConfig::*field;
};
const FileFlag kFileFlags[] = {{"--tls_cert", &ServerTlsConfig::cert_file},
                               {"--tls_key", &ServerTlsConfig::key_file},
                               {"--tls_client_ca", &ServerTlsConfig::client_ca_file}};

// The refusal when the file of `flag` (the others valid, mutual TLS) is `path`.
std::string RefusalWithFile(const FileFlag& flag, const std::string& path) {
  ServerTlsConfig tls = ServerCertificate();
  tls.client_ca_file = Pki().Path("ca.pem");
  tls.*flag.field = path;
  return std::string(Refusal(tls).message());
}

TEST(ServerTlsTest, AMissingFileIsNamedByItsFlagAndPath) {
  const std::string missing = ScratchPath("no_such_file.pem");
  for (const FileFlag& flag : kFileFlags) {
    EXPECT_EQ(RefusalWithFile(flag, missing), flag.flag + "=" + missing + ": cannot be read");
  }
}

TEST(ServerTlsTest, AFileThatIsNotPemIsNamedByItsFlagAndPath) {
  const std::string garbage =
      WriteScratchFile("garbage", std::string("\x00\xff not pem at all\n", 18));
  const std::string empty = WriteScratchFile("empty", "");
  for (const FileFlag& flag : kFileFlags) {
    EXPECT_EQ(RefusalWithFile(flag, garbage), flag.flag + "=" + garbage + ": not a PEM file");
    EXPECT_EQ(RefusalWithFile(flag, empty), flag.flag + "=" + empty + ": not a PEM file");
  }
}

TEST(ServerTlsTest, PemWithoutACertificateOrAKeyIsRefused) {
  const std::string broken = WriteScratchFile(
      "broken.pem", "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n");
  ServerTlsConfig cert = ServerCertificate();
  cert.cert_file = broken;
  EXPECT_EQ(Refusal(cert).message(), "--tls_cert holds no readable certificate");
  ServerTlsConfig key_as_cert = ServerCertificate();
  key_as_cert.cert_file = Pki().Path("server.key");
  EXPECT_EQ(Refusal(key_as_cert).message(), "--tls_cert holds no readable certificate");
  ServerTlsConfig cert_as_key = ServerCertificate();
  cert_as_key.key_file = Pki().Path("server.pem");
  EXPECT_EQ(Refusal(cert_as_key).message(),
            "--tls_key holds no readable (unencrypted) private key");
}

TEST(ServerTlsTest, AKeyOfAnotherCertificateIsRefused) {
  ServerTlsConfig tls = ServerCertificate();
  tls.key_file = Pki().Path("client.key");
  EXPECT_EQ(Refusal(tls).message(), "--tls_key is not the private key of --tls_cert's certificate");
}

TEST(ServerTlsTest, TlsWithoutAClientCaAsksNoClientCertificate) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(ServerCertificate());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  ServerWith server(*credentials);
  EXPECT_EQ(server.Call(TlsClient("")), grpc::StatusCode::UNIMPLEMENTED);
  // Not asked for, so not checked: a certificate no CA of the server's signed is no obstacle.
  EXPECT_EQ(server.Call(TlsClient("other_client")), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(server.Call(grpc::InsecureChannelCredentials()), grpc::StatusCode::UNAVAILABLE);
}

TEST(ServerTlsTest, WithAClientCaEveryClientShowsACertificateItSigned) {
  ServerTlsConfig tls = ServerCertificate();
  tls.client_ca_file = Pki().Path("ca.pem");
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = MakeServerCredentials(tls);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  ServerWith server(*credentials);
  EXPECT_EQ(server.Call(TlsClient("client")), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(server.Call(TlsClient("")), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(server.Call(TlsClient("other_client")), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace claude
