// Limits and budgets shared by two server replicas through a real redis-server on loopback:
// one request limit for both, atomic under concurrent calls, budgets charged from a stream
// cancelled mid-way (message_delta's cumulative usage) over a shortened window, and Redis
// killed mid-test (open and closed behaviour), then back.
#include <atomic>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/claude_client.h"
#include "common/security/token_digest.h"
#include "tests/testing/prometheus_text.h"
#include "tests/testing/redis_commands.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/test_pki.h"
#include "tests/testing/wait_until.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kToken[] = "alice-secret-token";
constexpr char kOpsToken[] = "ops-secret-token";

// A temporary directory with the callers file and the prices file.
class ConfigFiles {
 public:
  ConfigFiles() {
    char dir[] = "/tmp/shared_quota_test.XXXXXX";
    EXPECT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  ~ConfigFiles() {
    std::remove(callers().c_str());
    std::remove(prices().c_str());
    rmdir(dir_.c_str());
  }
  std::string callers() const { return dir_ + "/callers"; }
  std::string prices() const { return dir_ + "/prices"; }
  void WriteCallers(const std::string& settings) const {
    std::ofstream(callers()) << FormatTokenDigest(DigestToken(kToken)) << " alice " << settings << "\n"
                             << FormatTokenDigest(DigestToken(kOpsToken)) << " ops admin\n";
  }
  void WritePrices(const std::string& text) const { std::ofstream(prices()) << text; }

 private:
  std::string dir_;
};

struct Replica {
  std::unique_ptr<ServerHarness> harness;
  std::unique_ptr<Client> client;
};

Replica StartReplica(const RedisServer& redis, const ConfigFiles& files, bool fail_open = true,
                     QuotaWindows windows = {}, const std::string& redis_ca_file = "") {
  HarnessOptions options;
  options.configure = [&, fail_open, windows](ServerConfig& config) {
    config.metrics_listen = "127.0.0.1:0";
    config.callers.callers_file = files.callers();
    config.callers.windows = windows;
    config.quota.redis_url = redis.url();
    config.quota.redis_ca_file = redis_ca_file;
    config.quota.redis_fail_open = fail_open;
    config.quota.prices_file = files.prices();
  };
  Replica replica;
  replica.harness = std::make_unique<ServerHarness>(options);
  ClientOptions client_options;
  client_options.caller_token = kToken;
  client_options.retry_unavailable = false;
  replica.client = std::make_unique<Client>("127.0.0.1:" + std::to_string(replica.harness->port()), client_options);
  return replica;
}

Client::CallOptions Bounded() {
  Client::CallOptions options;
  options.deadline = Scaled(absl::Seconds(20));
  return options;
}

// Windows long enough that no test crosses one by accident.
QuotaWindows StableWindows() {
  QuotaWindows windows;
  windows.minute = absl::Hours(1);
  return windows;
}

void ExpectQuotaRefusal(const absl::Status& status, const std::string& reason) {
  ASSERT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  std::optional<ErrorDetails> details = ErrorDetailsOf(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, reason);
  EXPECT_EQ(details->quota_subject, "caller:alice");
  ASSERT_TRUE(details->retry_delay.has_value());
  EXPECT_GT(*details->retry_delay, absl::ZeroDuration());
}

absl::StatusOr<CallerUsageCounts> ReadUsage(ClaudeServer& server, const std::string& caller) {
  std::promise<absl::StatusOr<CallerUsageCounts>> read;
  server.gate().ReadUsage(caller, [&read](absl::StatusOr<CallerUsageCounts> c) { read.set_value(std::move(c)); });
  return read.get_future().get();
}

TEST(SharedQuotaTest, TwoReplicasEnforceOneRequestLimit) {
  CLAUDE_REQUIRE_REDIS_SERVER();
  RedisServer redis;
  ASSERT_TRUE(redis.Start()) << redis.error();
  ConfigFiles files;
  files.WriteCallers("requests_per_minute=5");
  files.WritePrices("* 3 15 3.75 0.30\n");
  Replica a = StartReplica(redis, files, true, StableWindows());
  Replica b = StartReplica(redis, files, true, StableWindows());
  for (int i = 0; i < 5; ++i) {
    Client& client = i % 2 == 0 ? *a.client : *b.client;
    absl::StatusOr<v1::Message> reply = client.CreateMessage(Hello(), Bounded());
    EXPECT_TRUE(reply.ok()) << "call " << i << ": " << reply.status();
  }
  // The 6th call is refused on either replica, streams too.
  ExpectQuotaRefusal(a.client->CreateMessage(Hello(), Bounded()).status(), "caller_requests_per_minute");
  ExpectQuotaRefusal(b.client->StreamMessage(Hello(), nullptr, Bounded()).status(), "caller_requests_per_minute");
  EXPECT_THAT(b.client->CreateMessage(Hello(), Bounded()).status().message(),
              HasSubstr("caller \"alice\" is at its limit of 5 requests per minute"));
  EXPECT_EQ(a.harness->upstream().request_count() + b.harness->upstream().request_count(), 5);
}

TEST(SharedQuotaTest, ConcurrentCallsOnBothReplicasNeverPassTheLimit) {
  CLAUDE_REQUIRE_REDIS_SERVER();
  RedisServer redis;
  ASSERT_TRUE(redis.Start()) << redis.error();
  ConfigFiles files;
  files.WriteCallers("requests_per_minute=20");
  files.WritePrices("");
  Replica a = StartReplica(redis, files, true, StableWindows());
  Replica b = StartReplica(redis, files, true, StableWindows());
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Client& client = t % 2 == 0 ? *a.client : *b.client;
      for (int i = 0; i < 6; ++i) {
        absl::Status status = client.CreateMessage(Hello(), Bounded()).status();
        if (status.ok()) {
          ++ok;
        } else if (status.code() == absl::StatusCode::kResourceExhausted) {
          ++refused;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(refused.load(), 28);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(a.harness->upstream().request_count() + b.harness->upstream().request_count(), 20);
}

TEST(SharedQuotaTest, CancelledStreamIsChargedAndTheBudgetResetsWithItsWindow) {
  CLAUDE_REQUIRE_REDIS_SERVER();
  RedisServer redis;
  ASSERT_TRUE(redis.Start()) << redis.error();
  ConfigFiles files;
  files.WriteCallers("tokens_per_day=100 usd_per_day=0.5");
  files.WritePrices("claude-sonnet-4-5 3 15 3.75 0.30\n");
  QuotaWindows windows = StableWindows();
  windows.day = Scaled(absl::Seconds(3));  // a shortened "day"
  Replica a = StartReplica(redis, files, true, windows);
  Replica b = StartReplica(redis, files, true, windows);

  // Start just after a "day" begins, so the test does not straddle one by accident.
  absl::SleepFor(windows.DayAt(absl::Now()).end - absl::Now() + absl::Milliseconds(20));
  // message_start: 40 in, 1 out; message_delta: 70 out (cumulative); then the upstream waits.
  FakeReply reply;
  reply.headers = {{"content-type", "text/event-stream"}};
  reply.chunks = {
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
      "\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,"
      "\"usage\":{\"input_tokens\":40,\"output_tokens\":1}}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null},"
      "\"usage\":{\"output_tokens\":70}}\n\n",
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"};
  reply.delay_between_chunks = absl::Seconds(60);
  a.harness->upstream().Enqueue(reply);
  std::unique_ptr<Client::EventStream> stream = a.client->OpenStream(Hello(), Bounded());
  v1::MessageStreamEvent event;
  bool saw_delta = false;
  while (!saw_delta && stream->Next(&event)) saw_delta = event.has_message_delta();
  ASSERT_TRUE(saw_delta);
  stream->Cancel();
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kCancelled);

  // Charged when the call ended: 110 tokens and 40 x $3 + 70 x $15 per million = $0.00117.
  absl::StatusOr<CallerUsageCounts> usage;
  const absl::Time until = absl::Now() + Scaled(absl::Seconds(2));
  do {
    usage = ReadUsage(b.harness->server(), "alice");
  } while (usage.ok() && usage->tokens_today != 110 && absl::Now() < until);
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_EQ(usage->tokens_today, 110);
  EXPECT_EQ(usage->tokens_this_month, 110);
  EXPECT_EQ(usage->usd_micros_today, 1170);
  // Over the day's 100 tokens: refused on the other replica too, until the "day" ends.
  absl::Status refused = b.client->CreateMessage(Hello(), Bounded()).status();
  ExpectQuotaRefusal(refused, "caller_tokens_per_day");
  EXPECT_LE(*ErrorDetailsOf(refused)->retry_delay, windows.day);
  absl::SleepFor(*ErrorDetailsOf(refused)->retry_delay + absl::Milliseconds(50));
  EXPECT_TRUE(b.client->CreateMessage(Hello(), Bounded()).ok());
}

TEST(SharedQuotaTest, RedisDownFailsOpenOrClosedAndRecovers) {
  CLAUDE_REQUIRE_REDIS_SERVER();
  RedisServer redis;
  ASSERT_TRUE(redis.Start()) << redis.error();
  ConfigFiles files;
  files.WriteCallers("requests_per_minute=100");
  files.WritePrices("");
  Replica open = StartReplica(redis, files, /*fail_open=*/true, StableWindows());
  Replica closed = StartReplica(redis, files, /*fail_open=*/false, StableWindows());
  ASSERT_TRUE(open.client->CreateMessage(Hello(), Bounded()).ok());
  ASSERT_TRUE(closed.client->CreateMessage(Hello(), Bounded()).ok());

  redis.Kill();
  // Until the replicas notice the broken connection, a call may still be in flight on it; after
  // that, open admits and closed refuses, every time.
  absl::Status closed_status;
  WaitUntil(
      [&] {
        closed_status = closed.client->CreateMessage(Hello(), Bounded()).status();
        return !closed_status.ok();
      },
      Scaled(absl::Seconds(2)), absl::Milliseconds(20));
  ASSERT_EQ(closed_status.code(), absl::StatusCode::kUnavailable) << closed_status;
  EXPECT_THAT(closed_status.message(), HasSubstr("Redis"));
  EXPECT_EQ(ErrorDetailsOf(closed_status)->reason, "quota_store_unavailable");
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<v1::Message> reply = open.client->CreateMessage(Hello(), Bounded());
    EXPECT_TRUE(reply.ok()) << reply.status();
  }
  EXPECT_EQ(closed.client->StreamMessage(Hello(), nullptr, Bounded()).status().code(),
            absl::StatusCode::kUnavailable);
  absl::StatusOr<std::string> health = open.client->CheckHealth();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");
  const std::string metrics = ScrapeMetrics(open.harness->server().metrics_port());
  EXPECT_THAT(metrics, HasSubstr("claude_grpc_quota_fail_open_admissions_total 3"));
  EXPECT_THAT(metrics, HasSubstr("claude_grpc_redis_errors_total{kind=\"disconnect\"}"));
  EXPECT_THAT(metrics, HasSubstr("claude_grpc_redis_round_trip_seconds_count"));

  ASSERT_TRUE(redis.Start()) << redis.error();
  absl::Status back;
  WaitUntil(
      [&] {
        back = closed.client->CreateMessage(Hello(), Bounded()).status();
        return back.ok();
      },
      Scaled(absl::Seconds(10)), absl::Milliseconds(50));
  EXPECT_TRUE(back.ok()) << "the closed replica admits again once Redis is back: " << back;
  absl::StatusOr<CallerUsageCounts> usage = ReadUsage(open.harness->server(), "alice");
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_GE(usage->requests_this_minute, 1) << "counted in the new Redis";
}

TEST(SharedQuotaTest, GetCallerUsageShowsCountsAndOnlyAdminsReadOthers) {
  CLAUDE_REQUIRE_REDIS_SERVER();
  RedisServer redis;
  ASSERT_TRUE(redis.Start()) << redis.error();
  ConfigFiles files;
  files.WriteCallers("requests_per_minute=50 tokens_per_month=100000 usd_per_day=2.5");
  files.WritePrices("* 3 15 3.75 0.30\n");
  Replica a = StartReplica(redis, files, true, StableWindows());
  Replica b = StartReplica(redis, files, true, StableWindows());
  // A call's charge lands just after its status: wait for each before going on. Both calls are
  // the same, so the second charges what the first did.
  const auto tokens_at_least = [&](int64_t want) {
    absl::StatusOr<v1::CallerUsage> usage;
    const absl::Time until = absl::Now() + Scaled(absl::Seconds(2));
    do {
      usage = a.client->GetCallerUsage("", Bounded());
    } while (usage.ok() && usage->tokens_this_month() < want && absl::Now() < until);
    return usage;
  };
  ASSERT_TRUE(a.client->CreateMessage(Hello(), Bounded()).ok());
  absl::StatusOr<v1::CallerUsage> first = tokens_at_least(1);
  ASSERT_TRUE(first.ok()) << first.status();
  const int64_t per_call = first->tokens_this_month();
  ASSERT_TRUE(b.client->CreateMessage(Hello(), Bounded()).ok());
  absl::StatusOr<v1::CallerUsage> own = tokens_at_least(2 * per_call);
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->tokens_this_month(), 2 * per_call) << "both replicas' calls, charged once each";
  EXPECT_EQ(own->caller(), "alice");
  EXPECT_TRUE(own->shared());
  EXPECT_EQ(own->requests_this_minute(), 2) << "both replicas' calls";
  EXPECT_GT(own->tokens_this_month(), 0);
  EXPECT_GT(own->usd_today(), 0);
  EXPECT_EQ(own->requests_per_minute_limit(), 50);
  EXPECT_EQ(own->tokens_per_month_limit(), 100000);
  // Spend and usage by caller and model: each replica exports what its own call cost; together
  // that is what Redis holds for the day.
  const std::map<std::string, std::string> alice_sonnet = {{"caller", "alice"},
                                                           {"model", "claude-sonnet-4-5"}};
  double spend = 0;
  for (const Replica* replica : {&a, &b}) {
    const std::vector<MetricSample> m =
        ParseMetrics(ScrapeMetrics(replica->harness->server().metrics_port()));
    const double replica_spend = SumSamples(m, "claude_grpc_spend_usd_total", alice_sonnet);
    EXPECT_GT(replica_spend, 0);
    spend += replica_spend;
    EXPECT_GT(SumSamples(m, "claude_grpc_tokens_total", alice_sonnet), 0);
    EXPECT_GE(SumSamples(m, "claude_grpc_redis_round_trip_seconds_count"), 2)
        << "an admission and a charge";
    EXPECT_EQ(SumSamples(m, "claude_grpc_quota_fail_open_admissions_total"), 0);
  }
  EXPECT_NEAR(spend, own->usd_today(), 1e-6);
  EXPECT_DOUBLE_EQ(own->usd_per_day_limit(), 2.5);

  absl::Status denied = a.client->GetCallerUsage("ops", Bounded()).status();
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied) << denied;

  ClientOptions ops_options;
  ops_options.caller_token = kOpsToken;
  Client ops("127.0.0.1:" + std::to_string(b.harness->port()), ops_options);
  absl::StatusOr<v1::CallerUsage> alice = ops.GetCallerUsage("alice", Bounded());
  ASSERT_TRUE(alice.ok()) << alice.status();
  EXPECT_EQ(alice->requests_this_minute(), 2);
  EXPECT_EQ(alice->tokens_this_month(), own->tokens_this_month());
  EXPECT_EQ(ops.GetCallerUsage("nobody", Bounded()).status().code(), absl::StatusCode::kNotFound);
  Client stranger("127.0.0.1:" + std::to_string(b.harness->port()), ClientOptions{});
  EXPECT_EQ(stranger.GetCallerUsage("", Bounded()).status().code(), absl::StatusCode::kUnauthenticated);
}

// rediss://: two replicas share one limit over TLS; a replica trusting another CA never reaches
// Redis, so with --redis_failure=closed it refuses UNAVAILABLE.
TEST(SharedQuotaTest, RedissSharesTheLimitAndAnUntrustedCertificateIsRefused) {
  CLAUDE_REQUIRE_REDIS_SERVER();
  const TestPki& pki = TestPki::Get();
  RedisServer redis;
  redis.set_tls(pki.Path("server.pem"), pki.Path("server.key"), pki.Path("ca.pem"));
  ASSERT_TRUE(redis.Start()) << redis.error();
  ConfigFiles files;
  files.WriteCallers("requests_per_minute=3");
  files.WritePrices("");
  Replica a = StartReplica(redis, files, /*fail_open=*/false, StableWindows(), pki.Path("ca.pem"));
  Replica b = StartReplica(redis, files, /*fail_open=*/false, StableWindows(), pki.Path("ca.pem"));
  absl::Status first;
  const absl::Time until = absl::Now() + Scaled(absl::Seconds(10));
  do {  // the first TLS connection may still be under way
    first = a.client->CreateMessage(Hello(), Bounded()).status();
  } while (first.code() == absl::StatusCode::kUnavailable && absl::Now() < until);
  ASSERT_TRUE(first.ok()) << first;
  EXPECT_TRUE(b.client->CreateMessage(Hello(), Bounded()).ok());
  EXPECT_TRUE(a.client->CreateMessage(Hello(), Bounded()).ok());
  ExpectQuotaRefusal(b.client->CreateMessage(Hello(), Bounded()).status(),
                     "caller_requests_per_minute");

  Replica untrusting =
      StartReplica(redis, files, /*fail_open=*/false, StableWindows(), pki.Path("other_ca.pem"));
  for (int i = 0; i < 5; ++i) {
    const absl::Status refused = untrusting.client->CreateMessage(Hello(), Bounded()).status();
    ASSERT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
    EXPECT_EQ(ErrorDetailsOf(refused)->reason, "quota_store_unavailable");
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(ScrapeMetrics(untrusting.harness->server().metrics_port()),
              HasSubstr("claude_grpc_redis_errors_total{kind=\"tls\"}"));
}

TEST(SharedQuotaTest, PasswordFileAndDatabaseFromTheFlags) {
  CLAUDE_REQUIRE_REDIS_SERVER();
  RedisServer redis;
  redis.set_password("s3cret-redis");
  ASSERT_TRUE(redis.Start()) << redis.error();
  ConfigFiles files;
  files.WriteCallers("requests_per_minute=1");
  files.WritePrices("");
  const std::string password_file = files.prices() + ".redis-password";
  std::ofstream(password_file) << "s3cret-redis\n";  // a mounted secret's trailing newline
  HarnessOptions options;
  options.configure = [&](ServerConfig& config) {
    config.callers.callers_file = files.callers();
    config.callers.windows = StableWindows();
    config.quota.redis_url = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/3";
    config.quota.redis_password_file = password_file;
    config.quota.redis_fail_open = false;  // so an admission that works went through Redis
  };
  ServerHarness h(options);
  ClientOptions client_options;
  client_options.caller_token = kToken;
  client_options.retry_unavailable = false;
  Client client("127.0.0.1:" + std::to_string(h.port()), client_options);
  absl::Status first;
  const absl::Time until = absl::Now() + Scaled(absl::Seconds(5));
  do {  // the first connection may still be under way
    first = client.CreateMessage(Hello(), Bounded()).status();
  } while (first.code() == absl::StatusCode::kUnavailable && absl::Now() < until);
  EXPECT_TRUE(first.ok()) << first;
  ExpectQuotaRefusal(client.CreateMessage(Hello(), Bounded()).status(), "caller_requests_per_minute");
  // The keys went to database 3.
  for (int db : {0, 3}) {
    RedisClientOptions direct;
    direct.endpoint = {"127.0.0.1", redis.port(), db, "s3cret-redis"};
    RedisClient reader(direct);
    absl::StatusOr<RedisValue> size;
    const absl::Time deadline = absl::Now() + Scaled(absl::Seconds(5));
    do {
      size = RunRedisCommand(reader, {"DBSIZE"});
    } while (!size.ok() && absl::Now() < deadline);
    ASSERT_TRUE(size.ok()) << size.status();
    EXPECT_EQ(size->integer > 0, db == 3) << "database " << db << " holds " << size->integer << " keys";
  }

  ServerConfig bad;
  bad.listen = "127.0.0.1:0";
  bad.log_rpcs = false;
  bad.quota.redis_url = "rediss://127.0.0.1:6379";
  bad.quota.redis_ca_file = "/nonexistent/ca.pem";
  absl::StatusOr<std::unique_ptr<ClaudeServer>> refused = ClaudeServer::Start(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("--redis_ca_file"));
  bad.quota.redis_url = "redis://127.0.0.1:6379";
  refused = ClaudeServer::Start(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("rediss://"));
  bad.quota.redis_ca_file.clear();
  bad.quota.redis_password_file = "/nonexistent/password";
  refused = ClaudeServer::Start(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("--redis_password_file"));
  std::remove(password_file.c_str());
}

}  // namespace
}  // namespace claude::testing
