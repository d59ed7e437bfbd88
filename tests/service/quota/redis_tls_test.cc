// The Redis client over TLS (rediss://) against a real redis-server serving TLS only, with
// throwaway certificates: the server's certificate must chain to the CA file and name the host
// connected to; otherwise no command is ever sent (UNAVAILABLE).
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "service/quota/redis_client.h"
#include "tests/testing/redis_commands.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/test_pki.h"

namespace claude {
namespace {

using ::claude::testing::PingUntilAnswered;
using ::claude::testing::RedisServer;
using ::claude::testing::TestPki;

class ErrorKinds final : public RedisObserver {
 public:
  void OnReply(absl::Duration) override {}
  void OnError(absl::string_view what) override {
    std::lock_guard<std::mutex> lock(mu);
    kinds.emplace_back(what);
  }
  std::vector<std::string> Seen() {
    std::lock_guard<std::mutex> lock(mu);
    return kinds;
  }
  std::mutex mu;
  std::vector<std::string> kinds;
};

class RedisTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CLAUDE_REQUIRE_REDIS_SERVER();
    const TestPki& pki = TestPki::Get();
    redis_.set_tls(pki.Path("server.pem"), pki.Path("server.key"), pki.Path("ca.pem"));
    ASSERT_TRUE(redis_.Start()) << redis_.error();
  }

  std::unique_ptr<RedisClient> ClientFor(const std::string& host, const std::string& ca_file,
                                         std::shared_ptr<RedisObserver> observer = nullptr) {
    absl::StatusOr<RedisEndpoint> endpoint =
        ParseRedisUrl("rediss://" + host + ":" + std::to_string(redis_.port()) + "/0");
    EXPECT_TRUE(endpoint.ok()) << endpoint.status();
    RedisClientOptions options;
    options.endpoint = *endpoint;
    absl::StatusOr<std::shared_ptr<ssl_ctx_st>> context = MakeRedisTlsContext(ca_file);
    EXPECT_TRUE(context.ok()) << context.status();
    options.tls_context = *context;
    options.min_backoff = absl::Milliseconds(20);
    options.max_backoff = absl::Milliseconds(100);
    return std::make_unique<RedisClient>(std::move(options), std::move(observer));
  }

  // No command ever reaches Redis: every one fails UNAVAILABLE, and the handshake's failure is
  // reported as "tls".
  void ExpectRefused(const std::string& host, const std::string& ca_file) {
    auto errors = std::make_shared<ErrorKinds>();
    std::unique_ptr<RedisClient> client = ClientFor(host, ca_file, errors);
    absl::StatusOr<RedisValue> pong = PingUntilAnswered(*client, absl::Seconds(1));
    ASSERT_FALSE(pong.ok());
    EXPECT_EQ(pong.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_FALSE(client->connected());
    EXPECT_THAT(errors->Seen(), ::testing::Contains("tls"));
  }

  RedisServer redis_;
};

TEST_F(RedisTlsTest, CommandsFlowWhenTheCertificateChainsToTheCaAndNamesTheHost) {
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    SCOPED_TRACE(host);
    std::unique_ptr<RedisClient> client = ClientFor(host, TestPki::Get().Path("ca.pem"));
    absl::StatusOr<RedisValue> pong = PingUntilAnswered(*client);
    ASSERT_TRUE(pong.ok()) << pong.status();
    EXPECT_EQ(pong->string, "PONG");
    // Pipelined commands over the one TLS session, replies in order.
    std::vector<std::future<absl::StatusOr<RedisValue>>> replies;
    for (int i = 0; i < 200; ++i) {
      auto reply = std::make_shared<std::promise<absl::StatusOr<RedisValue>>>();
      replies.push_back(reply->get_future());
      client->Command({"INCR", "tls-counter-" + host},
                      [reply](absl::StatusOr<RedisValue> r) { reply->set_value(r); });
    }
    for (int i = 0; i < 200; ++i) {
      absl::StatusOr<RedisValue> r = replies[i].get();
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->integer, i + 1);
    }
  }
}

TEST_F(RedisTlsTest, ACertificateFromAnotherCaIsRefused) {
  ExpectRefused("127.0.0.1", TestPki::Get().Path("other_ca.pem"));
}

TEST_F(RedisTlsTest, ACertificateThatDoesNotNameTheHostIsRefused) {
  // Same server, same trusted CA, but reached as 127.0.0.2, which its certificate does not name.
  ExpectRefused("127.0.0.2", TestPki::Get().Path("ca.pem"));
}

TEST_F(RedisTlsTest, PlainTcpToTheTlsPortNeverConnects) {
  RedisClientOptions options;
  options.endpoint.host = "127.0.0.1";
  options.endpoint.port = redis_.port();
  options.command_timeout = absl::Milliseconds(200);
  RedisClient client(std::move(options));
  // Redis answers nothing a plain client can read: the PING times out, UNAVAILABLE.
  absl::StatusOr<RedisValue> pong = PingUntilAnswered(client, absl::Seconds(1));
  ASSERT_FALSE(pong.ok());
  EXPECT_EQ(pong.status().code(), absl::StatusCode::kUnavailable);
}

TEST(RedisTlsContextTest, AnUnreadableCaFileIsAnError) {
  absl::StatusOr<std::shared_ptr<ssl_ctx_st>> context = MakeRedisTlsContext("/nonexistent/ca.pem");
  ASSERT_FALSE(context.ok());
  EXPECT_THAT(context.status().message(), ::testing::HasSubstr("/nonexistent/ca.pem"));
}

}  // namespace
}  // namespace claude
