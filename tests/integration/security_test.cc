// Security through real connections: TLS and mutual TLS on the gRPC port, caller tokens
// against a callers file (missing, unknown, valid, revoked), per-caller limits, and the
// largest request.
#include <cstdio>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/claude_client.h"
#include "common/security/token_digest.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/test_pki.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const TestPki& Pki() { return TestPki::Get(); }

std::string Target(ServerHarness& h) { return "127.0.0.1:" + std::to_string(h.port()); }

// Bounds only how long a failing test hangs; nothing is asserted about time.
Client::CallOptions Bounded() {
  Client::CallOptions options;
  options.deadline = Scaled(absl::Seconds(20));
  return options;
}

HarnessOptions Tls(bool mutual) {
  HarnessOptions options;
  options.configure = [mutual](ServerConfig& config) {
    config.tls.cert_file = Pki().Path("server.pem");
    config.tls.key_file = Pki().Path("server.key");
    if (mutual) config.tls.client_ca_file = Pki().Path("ca.pem");
  };
  return options;
}

// TLS options trusting the test CA and expecting its server's name.
ClientTlsOptions TrustTestCa() {
  ClientTlsOptions tls;
  tls.ca_file = Pki().Path("ca.pem");
  tls.server_name = "localhost";
  return tls;
}

ClientOptions WithTls(ClientTlsOptions tls) {
  ClientOptions options;
  options.tls = std::move(tls);
  options.retry_unavailable = false;
  return options;
}

// ---- TLS ----

TEST(SecurityTlsTest, ServesTlsToAClientThatTrustsItsCa) {
  ServerHarness h(Tls(false));
  Client client(Target(h), WithTls(TrustTestCa()));
  absl::StatusOr<std::string> health = client.CheckHealth("", Bounded());
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");
  absl::StatusOr<v1::Message> reply = client.CreateMessage(Hello(), Bounded());
  EXPECT_TRUE(reply.ok()) << reply.status();
}

TEST(SecurityTlsTest, RefusesAPlaintextClient) {
  ServerHarness h(Tls(false));
  ClientOptions options;
  options.retry_unavailable = false;
  Client client(Target(h), options);
  absl::StatusOr<std::string> health = client.CheckHealth("", Bounded());
  ASSERT_FALSE(health.ok());
  EXPECT_EQ(health.status().code(), absl::StatusCode::kUnavailable) << health.status();
  EXPECT_EQ(h.upstream().request_count(), 0);
}

TEST(SecurityTlsTest, AClientThatTrustsAnotherCaFails) {
  ServerHarness h(Tls(false));
  ClientTlsOptions tls = TrustTestCa();
  tls.ca_file = Pki().Path("other_ca.pem");
  Client client(Target(h), WithTls(tls));
  absl::StatusOr<std::string> health = client.CheckHealth("", Bounded());
  ASSERT_FALSE(health.ok());
  EXPECT_EQ(health.status().code(), absl::StatusCode::kUnavailable) << health.status();
}

TEST(SecurityTlsTest, AWrongServerNameFails) {
  ServerHarness h(Tls(false));
  ClientTlsOptions tls = TrustTestCa();
  tls.server_name = "not-the-server.example";
  Client client(Target(h), WithTls(tls));
  absl::StatusOr<std::string> health = client.CheckHealth("", Bounded());
  ASSERT_FALSE(health.ok());
  EXPECT_EQ(health.status().code(), absl::StatusCode::kUnavailable) << health.status();
}

TEST(SecurityTlsTest, AnUnreadableClientFileNeverFallsBackToPlaintext) {
  ClientTlsOptions tls = TrustTestCa();
  tls.ca_file = Pki().Path("no-such-file.pem");
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = TlsChannelCredentials(tls);
  ASSERT_FALSE(credentials.ok());
  EXPECT_THAT(credentials.status().message(), HasSubstr("no-such-file.pem"));
  ServerHarness h;  // plaintext: a silent fallback would succeed
  Client client(Target(h), WithTls(tls));
  absl::StatusOr<std::string> health = client.CheckHealth("", Bounded());
  ASSERT_FALSE(health.ok());
  EXPECT_EQ(health.status().code(), absl::StatusCode::kInvalidArgument) << health.status();
}

TEST(SecurityTlsTest, MutualTlsRequiresAClientCertificateFromTheClientCa) {
  ServerHarness h(Tls(true));
  {
    Client client(Target(h), WithTls(TrustTestCa()));  // no client certificate
    absl::StatusOr<std::string> health = client.CheckHealth("", Bounded());
    ASSERT_FALSE(health.ok());
    EXPECT_EQ(health.status().code(), absl::StatusCode::kUnavailable) << health.status();
  }
  {
    ClientTlsOptions tls = TrustTestCa();
    tls.cert_file = Pki().Path("other_client.pem");
    tls.key_file = Pki().Path("other_client.key");
    Client client(Target(h), WithTls(tls));
    absl::StatusOr<std::string> health = client.CheckHealth("", Bounded());
    ASSERT_FALSE(health.ok());
    EXPECT_EQ(health.status().code(), absl::StatusCode::kUnavailable) << health.status();
  }
  EXPECT_EQ(h.upstream().request_count(), 0);
  {
    ClientTlsOptions tls = TrustTestCa();
    tls.cert_file = Pki().Path("client.pem");
    tls.key_file = Pki().Path("client.key");
    Client client(Target(h), WithTls(tls));
    absl::StatusOr<std::string> health = client.CheckHealth("", Bounded());
    ASSERT_TRUE(health.ok()) << health.status();
    EXPECT_EQ(*health, "SERVING");
    absl::StatusOr<v1::Message> reply = client.CreateMessage(Hello(), Bounded());
    EXPECT_TRUE(reply.ok()) << reply.status();
  }
}

// A certificate rotated on disk (as a renewed Kubernetes secret) is served without a restart.
TEST(SecurityTlsTest, ARotatedCertificateIsPickedUp) {
  char dir_template[] = "/tmp/security_test_rotation.XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  auto install = [&dir](const std::string& from) {
    for (const char* ext : {".key", ".pem"}) {  // each file replaced atomically
      std::ifstream in(Pki().Path(from + ext), std::ios::binary);
      std::ofstream(dir + "/tmp" + ext, std::ios::binary) << in.rdbuf();
      ASSERT_EQ(std::rename((dir + "/tmp" + ext).c_str(), (dir + "/server" + ext).c_str()), 0);
    }
  };
  install("server");
  HarnessOptions options;
  options.configure = [&dir](ServerConfig& config) {
    config.tls.cert_file = dir + "/server.pem";
    config.tls.key_file = dir + "/server.key";
    config.tls.reload_interval = absl::Seconds(1);
  };
  ServerHarness h(options);
  ClientTlsOptions old_ca = TrustTestCa();
  ClientTlsOptions new_ca = TrustTestCa();
  new_ca.ca_file = Pki().Path("other_ca.pem");
  ASSERT_TRUE(Client(Target(h), WithTls(old_ca)).CheckHealth("", Bounded()).ok());

  install("other_server");
  // The provider looks every second; new connections get the new certificate from then on.
  bool rotated = false;
  const absl::Time until = absl::Now() + Scaled(absl::Seconds(20));
  while (!rotated && absl::Now() < until) {
    rotated = Client(Target(h), WithTls(new_ca)).CheckHealth("", Bounded()).ok();
    if (!rotated) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(rotated);
  EXPECT_FALSE(Client(Target(h), WithTls(old_ca)).CheckHealth("", Bounded()).ok());
  for (const char* name : {"/server.key", "/server.pem"}) std::remove((dir + name).c_str());
  rmdir(dir.c_str());
}

ServerConfig MinimalConfig() {
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.upstream.base_url = "http://127.0.0.1:1";
  return config;
}

TEST(SecurityTlsTest, TheServerRefusesToStartWithBadTlsFiles) {
  {
    ServerConfig config = MinimalConfig();
    config.tls.cert_file = Pki().Path("server.pem");
    absl::StatusOr<std::unique_ptr<ClaudeServer>> server = ClaudeServer::Start(config);
    ASSERT_FALSE(server.ok());
    EXPECT_THAT(server.status().message(), HasSubstr("both or neither"));
  }
  {
    ServerConfig config = MinimalConfig();
    config.tls.cert_file = Pki().Path("server.pem");
    config.tls.key_file = Pki().Path("client.key");
    absl::StatusOr<std::unique_ptr<ClaudeServer>> server = ClaudeServer::Start(config);
    ASSERT_FALSE(server.ok());
    EXPECT_THAT(server.status().message(), HasSubstr("not the private key"));
  }
  {
    ServerConfig config = MinimalConfig();
    config.tls.client_ca_file = Pki().Path("ca.pem");
    absl::StatusOr<std::unique_ptr<ClaudeServer>> server = ClaudeServer::Start(config);
    ASSERT_FALSE(server.ok());
    EXPECT_THAT(server.status().message(), HasSubstr("--tls_client_ca needs"));
  }
}

// ---- Caller tokens ----

// A callers file in a temporary directory, replaced atomically (as a Kubernetes secret is).
class CallersFileFixture {
 public:
  CallersFileFixture() {
    char dir[] = "/tmp/security_test.XXXXXX";
    EXPECT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  ~CallersFileFixture() {
    std::remove(path().c_str());
    rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/callers"; }
  void Write(const std::string& text) const {
    const std::string tmp = dir_ + "/callers.new";
    std::ofstream(tmp) << text;
    EXPECT_EQ(std::rename(tmp.c_str(), path().c_str()), 0);
  }

 private:
  std::string dir_;
};

std::string Line(const std::string& token, const std::string& rest) {
  return FormatTokenDigest(DigestToken(token)) + " " + rest + "\n";
}

HarnessOptions Authenticating(const CallersFileFixture& file, CallerLimits defaults = {}) {
  HarnessOptions options;
  options.configure = [path = file.path(), defaults](ServerConfig& config) {
    config.callers.callers_file = path;
    config.callers.callers_check_interval = absl::ZeroDuration();  // every call sees the file
    config.callers.limits = defaults;
  };
  return options;
}

ClientOptions WithToken(const std::string& token) {
  ClientOptions options;
  options.caller_token = token;
  options.retry_unavailable = false;
  return options;
}

TEST(SecurityTokenTest, MissingUnknownAndValidTokens) {
  CallersFileFixture file;
  file.Write("# test callers\n" + Line("alice-secret-token", "alice"));
  ServerHarness h(Authenticating(file));

  Client anonymous(Target(h), WithToken(""));
  absl::StatusOr<v1::Message> reply = anonymous.CreateMessage(Hello(), Bounded());
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(reply.status().message(), HasSubstr("missing caller token"));
  std::optional<ErrorDetails> details = ErrorDetailsOf(reply.status());
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, "caller_token_missing");
  EXPECT_EQ(details->domain, kLocalErrorDomain);

  Client unknown(Target(h), WithToken("mallory-guess"));
  reply = unknown.CreateMessage(Hello(), Bounded());
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(reply.status().message(), HasSubstr("unknown or revoked caller token"));
  EXPECT_THAT(reply.status().message(), Not(HasSubstr("mallory-guess")));  // never echoed
  // Every RPC of claude.v1 is guarded, streams and Models too.
  EXPECT_EQ(unknown.StreamMessage(Hello(), nullptr, Bounded()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.CountTokens(v1::CountTokensRequest(), Bounded()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.ListModels({}, Bounded()).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.GetModel("m", Bounded()).status().code(), absl::StatusCode::kUnauthenticated);

  ClientOptions basic = WithToken("");
  basic.metadata.emplace_back("authorization", "Basic YWxpY2U6cHc=");
  Client wrong_scheme(Target(h), basic);
  reply = wrong_scheme.CreateMessage(Hello(), Bounded());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(reply.status().message(), HasSubstr("Bearer"));
  EXPECT_EQ(h.upstream().request_count(), 0);  // no refused call reached the upstream

  Client alice(Target(h), WithToken("alice-secret-token"));
  reply = alice.CreateMessage(Hello(), Bounded());
  EXPECT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(alice.StreamMessage(Hello(), nullptr, Bounded()).ok());
  EXPECT_EQ(h.upstream().request_count(), 2);
  // The token goes no further than the server.
  const std::vector<RecordedRequest> sent = h.upstream().requests();  // a copy: keep it alive
  for (const auto& [name, value] : sent.back().headers) {
    EXPECT_THAT(value, Not(HasSubstr("alice-secret-token"))) << name;
  }
}

TEST(SecurityTokenTest, HealthNeedsNoToken) {
  CallersFileFixture file;
  file.Write(Line("alice-secret-token", "alice"));
  ServerHarness h(Authenticating(file));
  Client anonymous(Target(h), WithToken(""));
  absl::StatusOr<std::string> health = anonymous.CheckHealth("", Bounded());
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");
}

TEST(SecurityTokenTest, ARevokedTokenIsRefusedOnceTheFileChanges) {
  CallersFileFixture file;
  file.Write(Line("alice-secret-token", "alice") + Line("bob-secret-token", "bob"));
  ServerHarness h(Authenticating(file));
  Client alice(Target(h), WithToken("alice-secret-token"));
  Client bob(Target(h), WithToken("bob-secret-token"));
  ASSERT_TRUE(alice.CreateMessage(Hello(), Bounded()).ok());

  file.Write(Line("bob-secret-token", "bob"));  // alice's line removed
  absl::StatusOr<v1::Message> reply = alice.CreateMessage(Hello(), Bounded());
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(bob.CreateMessage(Hello(), Bounded()).ok());

  file.Write("broken line\n");  // a bad update keeps the last good list
  EXPECT_TRUE(bob.CreateMessage(Hello(), Bounded()).ok());
  EXPECT_EQ(alice.CreateMessage(Hello(), Bounded()).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(SecurityTokenTest, TheServerRefusesToStartWithoutItsCallersFile) {
  ServerConfig config = MinimalConfig();
  config.callers.callers_file = "/nonexistent/callers";
  absl::StatusOr<std::unique_ptr<ClaudeServer>> server = ClaudeServer::Start(config);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("--callers_file"));
}

// ---- Per-caller limits ----

// The retry delay is at most the window (tokens leave it by whole seconds: one more second).
void ExpectLimited(const absl::Status& status, const std::string& message, const std::string& reason) {
  ASSERT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_THAT(status.message(), HasSubstr(message));
  std::optional<ErrorDetails> details = ErrorDetailsOf(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, reason);
  ASSERT_TRUE(details->retry_delay.has_value());
  EXPECT_GT(*details->retry_delay, absl::ZeroDuration());
  EXPECT_LE(*details->retry_delay, absl::Minutes(1) + absl::Seconds(1));
}

// Waits (bounded) until `caller` has no call in flight: a cancelled call's end reaches the
// server asynchronously.
bool WaitUntilIdle(ServerHarness& h, const std::string& caller) {
  const absl::Time until = absl::Now() + Scaled(absl::Seconds(10));
  while (h.server().gate().limiter().active(caller) != 0) {
    if (absl::Now() > until) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

TEST(SecurityLimitTest, ACallerOverItsConcurrentStreamsIsRefused) {
  CallersFileFixture file;
  file.Write(Line("alice-secret-token", "alice concurrent_streams=1") + Line("bob-secret-token", "bob"));
  ServerHarness h(Authenticating(file));
  h.upstream().Enqueue(HungReply());
  Client alice(Target(h), WithToken("alice-secret-token"));
  std::unique_ptr<Client::EventStream> stream = alice.OpenStream(Hello(), Bounded());
  ASSERT_TRUE(h.upstream().WaitForRequests(1, Scaled(absl::Seconds(10))));  // admitted, in flight

  absl::StatusOr<v1::Message> reply = alice.CreateMessage(Hello(), Bounded());
  ASSERT_FALSE(reply.ok());
  ExpectLimited(reply.status(), "caller \"alice\" is at its limit of 1 concurrent streams",
                "caller_concurrent_streams");
  EXPECT_EQ(ErrorDetailsOf(reply.status())->retry_delay, absl::Seconds(1));
  // Others are not affected.
  Client bob(Target(h), WithToken("bob-secret-token"));
  EXPECT_TRUE(bob.CreateMessage(Hello(), Bounded()).ok());

  stream->Cancel();
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kCancelled);
  ASSERT_TRUE(WaitUntilIdle(h, "alice"));
  EXPECT_TRUE(alice.CreateMessage(Hello(), Bounded()).ok());
}

TEST(SecurityLimitTest, ACallerOverItsRequestsPerMinuteIsRefused) {
  CallersFileFixture file;
  file.Write(Line("alice-secret-token", "alice") + Line("bob-secret-token", "bob requests_per_minute=0"));
  CallerLimits defaults;
  defaults.requests_per_minute = 2;
  ServerHarness h(Authenticating(file, defaults));
  Client alice(Target(h), WithToken("alice-secret-token"));
  EXPECT_TRUE(alice.CreateMessage(Hello(), Bounded()).ok());
  EXPECT_TRUE(alice.StreamMessage(Hello(), nullptr, Bounded()).ok());
  absl::StatusOr<v1::Message> reply = alice.CreateMessage(Hello(), Bounded());
  ASSERT_FALSE(reply.ok());
  ExpectLimited(reply.status(), "caller \"alice\" is at its limit of 2 requests per minute",
                "caller_requests_per_minute");
  EXPECT_EQ(h.upstream().request_count(), 2);
  // bob's line lifts the limit for him.
  Client bob(Target(h), WithToken("bob-secret-token"));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bob.CreateMessage(Hello(), Bounded()).ok());
}

TEST(SecurityLimitTest, ACallerOverItsTokensPerMinuteIsRefused) {
  CallersFileFixture file;
  file.Write(Line("alice-secret-token", "alice tokens_per_minute=50"));
  ServerHarness h(Authenticating(file));
  Client alice(Target(h), WithToken("alice-secret-token"));
  // Each reply reports 12 input + 15 output tokens, which the server counts when the call ends:
  // 27, then 54 of alice's 50 (a call is admitted while the budget is not yet spent).
  for (int i = 0; i < 2; ++i) {
    h.upstream().Enqueue(JsonReply(200, ReadFixture("text_basic.message.json")));
    EXPECT_TRUE(alice.CreateMessage(Hello(), Bounded()).ok());
  }
  absl::StatusOr<v1::Message> reply = alice.CreateMessage(Hello(), Bounded());
  ASSERT_FALSE(reply.ok());
  ExpectLimited(reply.status(), "at its limit of 50 tokens per minute", "caller_tokens_per_minute");
  EXPECT_EQ(h.upstream().request_count(), 2);
}

TEST(SecurityLimitTest, WithoutAuthenticationTheLimitsAreShared) {
  HarnessOptions options;
  options.configure = [](ServerConfig& config) { config.callers.limits.requests_per_minute = 1; };
  ServerHarness h(options);
  Client first(Target(h), WithToken(""));
  Client second(Target(h), WithToken("any-token-is-ignored"));
  EXPECT_TRUE(first.CreateMessage(Hello(), Bounded()).ok());
  absl::StatusOr<v1::Message> reply = second.CreateMessage(Hello(), Bounded());
  ASSERT_FALSE(reply.ok());
  ExpectLimited(reply.status(), "the anonymous caller is at its limit of 1 requests per minute",
                "caller_requests_per_minute");
}

// ---- Request size ----

TEST(SecurityRequestSizeTest, AnOversizedRequestIsRefused) {
  HarnessOptions options;
  options.configure = [](ServerConfig& config) { config.max_request_bytes = 4096; };
  ServerHarness h(options);
  Client client(Target(h), WithToken(""));
  v1::CreateMessageRequest big = Hello();
  big.mutable_messages(0)->set_content_text(std::string(8192, 'x'));
  absl::StatusOr<v1::Message> reply = client.CreateMessage(big, Bounded());
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kResourceExhausted) << reply.status();
  // gRPC's own message names the size and the limit: "... larger than max (8232 vs. 4096)".
  EXPECT_THAT(reply.status().message(), HasSubstr("4096"));
  EXPECT_EQ(h.upstream().request_count(), 0);
  EXPECT_TRUE(client.CreateMessage(Hello(), Bounded()).ok());  // a small one still passes
}

}  // namespace
}  // namespace claude::testing
