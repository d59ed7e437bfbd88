// The Redis client and the shared quota store against a real redis-server on loopback: two
// stores on two connections stand for two replicas.
#include "service/quota/redis_quota.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "service/quota/redis_client.h"
#include "tests/testing/redis_commands.h"
#include "tests/testing/redis_server.h"

namespace claude {
namespace {

using ::claude::testing::PingUntilAnswered;
using ::claude::testing::RedisServer;
using ::claude::testing::RunRedisCommand;

SharedDecision Admit(SharedLimits& store, const std::string& caller, const CallerLimits& limits,
                     int64_t requests = 1) {
  std::promise<SharedDecision> decision;
  store.Admit(caller, limits, absl::Now(), requests,
              [&decision](SharedDecision d) { decision.set_value(std::move(d)); });
  return decision.get_future().get();
}

class FailOpenCounter final : public QuotaFailOpenObserver {
 public:
  void OnFailOpen() override { ++count; }
  std::atomic<int> count{0};
};

// A real redis-server on loopback and a client of it that has connected; tests that stand for
// two replicas connect a second client.
class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CLAUDE_REQUIRE_REDIS_SERVER();
    ASSERT_TRUE(redis_.Start()) << redis_.error();
    client_ = std::make_unique<RedisClient>(Options());
    ASSERT_TRUE(Connected(*client_));
  }

  // Short reconnect backoff, so a test that restarts Redis waits little.
  RedisClientOptions Options() const {
    RedisClientOptions options;
    options.endpoint.host = "127.0.0.1";
    options.endpoint.port = redis_.port();
    options.min_backoff = absl::Milliseconds(20);
    options.max_backoff = absl::Milliseconds(200);
    return options;
  }

  // Whether the client has (re)connected within a few seconds: it connects in the background.
  static bool Connected(RedisClient& client) { return PingUntilAnswered(client).ok(); }

  RedisServer redis_;
  std::unique_ptr<RedisClient> client_;
};

using RedisClientTest = RedisTest;

// The shared store over the fixture's client, with this replica's own limiter (what fail-open
// counts on), in windows long enough that no test crosses one by accident.
class RedisQuotaTest : public RedisTest {
 protected:
  static RedisQuotaOptions StableOptions() {
    RedisQuotaOptions options;
    options.windows.minute = absl::Hours(1);
    return options;
  }

  CallerLimiter local_;
};

TEST(RedisUrlTest, ParsesHostPortDatabaseAndPassword) {
  absl::StatusOr<RedisEndpoint> e = ParseRedisUrl("redis://:s3cret@claude-grpc-redis:6380/2");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "claude-grpc-redis");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->db, 2);
  EXPECT_EQ(e->password, "s3cret");
  e = ParseRedisUrl("redis://localhost");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->port, 6379);
  EXPECT_EQ(e->db, 0);
  EXPECT_FALSE(e->tls);
  e = ParseRedisUrl("rediss://redis.example:6380");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->tls);
  EXPECT_EQ(e->host, "redis.example");
  EXPECT_THAT(ParseRedisUrl("redisx://h").status().message(), ::testing::HasSubstr("rediss://"));
  EXPECT_FALSE(ParseRedisUrl("http://h").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://h:99999").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://h/x").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://bad\nhost").ok());
}

TEST_F(RedisClientTest, PipelinesCommandsFromManyThreads) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::future<void>> replies;
      for (int i = 0; i < 250; ++i) {
        auto done = std::make_shared<std::promise<void>>();
        replies.push_back(done->get_future());
        client_->Command({"INCR", "counter"}, [&ok, done](absl::StatusOr<RedisValue> r) {
          if (r.ok() && r->type == RedisValue::Type::kInteger) ++ok;
          done->set_value();
        });
      }
      for (auto& r : replies) r.get();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1000);
  absl::StatusOr<RedisValue> value = RunRedisCommand(*client_, {"GET", "counter"});
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->string, "1000");
}

TEST_F(RedisClientTest, FailsFastWithoutRedisAndReconnectsWhenItIsBack) {
  redis_.Kill();
  // The first command after the kill may still be written to the dead socket; within a few
  // tries every command fails at once, UNAVAILABLE.
  absl::Time started = absl::Now();
  absl::StatusOr<RedisValue> reply;
  for (int i = 0; i < 20; ++i) {
    started = absl::Now();
    reply = RunRedisCommand(*client_, {"PING"});
    if (!reply.ok() && !client_->connected()) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - started, absl::Milliseconds(200));
  ASSERT_TRUE(redis_.Start()) << redis_.error();
  EXPECT_TRUE(Connected(*client_)) << "the client reconnects with backoff";
}

// A command nobody waits for (CommandSoon) is written after the next reply, so the command
// sent after it is not held behind it in Redis; with no reply to ride after, it goes by itself
// within soon_delay.
TEST_F(RedisClientTest, CommandSoonGoesAfterTheNextReplyOrWithinItsDelay) {
  RedisClientOptions options = Options();
  options.soon_delay = absl::Hours(1);  // only a reply sends it
  RedisClient client(options);
  ASSERT_TRUE(PingUntilAnswered(client).ok());
  std::promise<absl::StatusOr<RedisValue>> soon_reply;
  client.CommandSoon({"INCRBY", "charged", "7"}, [&soon_reply](absl::StatusOr<RedisValue> r) {
    soon_reply.set_value(std::move(r));
  });
  absl::StatusOr<RedisValue> read = RunRedisCommand(client, {"GET", "charged"});
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->type, RedisValue::Type::kNil) << "the command that followed it ran first";
  EXPECT_EQ(soon_reply.get_future().get()->integer, 7) << "written after that reply";
  read = RunRedisCommand(client, {"GET", "charged"});
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->string, "7") << "commands written after it see it";

  std::promise<absl::StatusOr<RedisValue>> alone;
  std::future<absl::StatusOr<RedisValue>> alone_reply = alone.get_future();
  const absl::Time sent = absl::Now();
  client_->CommandSoon({"INCRBY", "charged", "1"},
                       [&alone](absl::StatusOr<RedisValue> r) { alone.set_value(r); });
  ASSERT_EQ(alone_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "never sent";
  EXPECT_EQ(alone_reply.get()->integer, 8);
  EXPECT_LT(absl::Now() - sent, absl::Seconds(1));
}

// Commands written by the calling thread do not wake the Redis thread; its tick still times
// them out when Redis hangs, and the connection comes back once Redis answers again.
TEST_F(RedisClientTest, CommandsToAHungRedisTimeOut) {
  RedisClientOptions options = Options();
  options.command_timeout = absl::Milliseconds(200);
  RedisClient client(options);
  ASSERT_TRUE(Connected(client));
  redis_.Pause();
  const absl::Time sent = absl::Now();
  absl::StatusOr<RedisValue> reply = RunRedisCommand(client, {"PING"});
  const absl::Duration waited = absl::Now() - sent;
  redis_.Resume();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
  EXPECT_GE(waited, absl::Milliseconds(200));
  EXPECT_LT(waited, absl::Seconds(3));
  EXPECT_TRUE(Connected(client));
}

TEST_F(RedisQuotaTest, TwoReplicasShareOneRequestLimit) {
  RedisClient client_b(Options());
  ASSERT_TRUE(Connected(client_b));
  CallerLimiter local_b;  // each replica counts for itself
  const RedisQuotaOptions options = StableOptions();
  RedisQuota a(client_.get(), &local_, options), b(&client_b, &local_b, options);
  CallerLimits limits;
  limits.requests_per_minute = 5;
  for (int i = 0; i < 5; ++i) {
    SharedDecision d = Admit(i % 2 == 0 ? a : b, "billing", limits);
    EXPECT_FALSE(d.refusal.has_value()) << "call " << i;
    EXPECT_TRUE(d.unavailable.ok());
  }
  for (SharedLimits* store : {static_cast<SharedLimits*>(&a), static_cast<SharedLimits*>(&b)}) {
    SharedDecision d = Admit(*store, "billing", limits);
    ASSERT_TRUE(d.refusal.has_value());
    EXPECT_EQ(d.refusal->reason, "caller_requests_per_minute");
    EXPECT_GT(d.refusal->retry_after, absl::ZeroDuration());
    EXPECT_LE(d.refusal->retry_after, absl::Hours(1));
  }
  EXPECT_FALSE(Admit(a, "search", limits).refusal.has_value()) << "another caller has its own count";
  // The minute's key expires after its window.
  absl::StatusOr<RedisValue> ttl = RunRedisCommand(
      *client_, {"PTTL", a.Key("billing", "rpm", options.windows.MinuteAt(absl::Now()).id)});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, absl::ToInt64Milliseconds(absl::Hours(1) + absl::Minutes(1)));
}

// The scripts run by their SHA-1 (EVALSHA); a Redis that forgot them (a restart, SCRIPT FLUSH)
// answers NOSCRIPT and gets the script itself, so no admission or charge is lost.
TEST_F(RedisQuotaTest, RunsScriptsByShaAndResendsThemWhenRedisForgot) {
  RedisQuotaOptions options = StableOptions();
  options.fail_open = false;
  RedisQuota store(client_.get(), &local_, options);
  CallerLimits limits;
  limits.requests_per_minute = 3;
  limits.tokens_per_day = 1000;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(RunRedisCommand(*client_, {"SCRIPT", "FLUSH"}).ok());
    SharedDecision d = Admit(store, "billing", limits);
    EXPECT_TRUE(d.unavailable.ok()) << d.unavailable;
    EXPECT_FALSE(d.refusal.has_value()) << "call " << i;
  }
  EXPECT_TRUE(Admit(store, "billing", limits).refusal.has_value())
      << "the three admissions were counted";
  ASSERT_TRUE(RunRedisCommand(*client_, {"SCRIPT", "FLUSH"}).ok());
  store.Charge("billing", 40, 0, absl::Now());
  const std::string day_key = store.Key("billing", "tpd", options.windows.DayAt(absl::Now()).id);
  absl::StatusOr<RedisValue> tokens;
  for (int i = 0; i < 100; ++i) {  // the charge is fire-and-forget: wait for it
    tokens = RunRedisCommand(*client_, {"GET", day_key});
    if (tokens.ok() && tokens->string == "40") break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->string, "40");
  // The charge's resend cached its script again (the last flush emptied the cache).
  absl::StatusOr<RedisValue> known = RunRedisCommand(*client_, {"INFO", "memory"});
  ASSERT_TRUE(known.ok());
  EXPECT_THAT(known->string, ::testing::HasSubstr("number_of_cached_scripts:1"));
}

// A batch counts 1 + its requests, all or none: what does not fit leaves the count untouched.
TEST_F(RedisQuotaTest, ABatchCountsItsRequestsAllOrNothing) {
  const RedisQuotaOptions options = StableOptions();
  RedisQuota store(client_.get(), &local_, options);
  CallerLimits limits;
  limits.requests_per_minute = 10;
  ASSERT_FALSE(Admit(store, "jobs", limits, 7).refusal.has_value());  // a batch of 6
  SharedDecision d = Admit(store, "jobs", limits, 5);                 // a batch of 4: 3 are left
  ASSERT_TRUE(d.refusal.has_value());
  EXPECT_EQ(d.refusal->reason, "caller_requests_per_minute");
  EXPECT_FALSE(d.refusal->never_fits);
  EXPECT_GT(d.refusal->retry_after, absl::ZeroDuration());
  EXPECT_THAT(d.refusal->message, ::testing::HasSubstr("a batch of 4 requests counts 5"));
  EXPECT_THAT(d.refusal->message, ::testing::HasSubstr("3 are left"));
  d = Admit(store, "jobs", limits, 11);
  ASSERT_TRUE(d.refusal.has_value());
  EXPECT_TRUE(d.refusal->never_fits) << d.refusal->message;
  ASSERT_FALSE(Admit(store, "jobs", limits, 3).refusal.has_value())
      << "the refused ones counted nothing";
  EXPECT_TRUE(Admit(store, "jobs", limits).refusal.has_value()) << "10 of 10 used";
  absl::StatusOr<RedisValue> count = RunRedisCommand(
      *client_, {"GET", store.Key("jobs", "rpm", options.windows.MinuteAt(absl::Now()).id)});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->string, "10");
}

TEST_F(RedisQuotaTest, NeverAdmitsMoreThanTheLimitUnderConcurrency) {
  RedisClient client_b(Options());
  ASSERT_TRUE(Connected(client_b));
  const RedisQuotaOptions options = StableOptions();
  RedisQuota a(client_.get(), &local_, options), b(&client_b, &local_, options);
  CallerLimits limits;
  limits.requests_per_minute = 100;
  std::atomic<int> admitted{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      RedisQuota& store = t % 2 == 0 ? a : b;
      std::vector<std::future<void>> answers;
      for (int i = 0; i < 40; ++i) {
        auto done = std::make_shared<std::promise<void>>();
        answers.push_back(done->get_future());
        store.Admit("crowd", limits, absl::Now(), 1, [&, done](SharedDecision d) {
          if (!d.unavailable.ok()) {
            ADD_FAILURE() << d.unavailable;
          } else if (d.refusal) {
            ++refused;
          } else {
            ++admitted;
          }
          done->set_value();
        });
      }
      for (auto& f : answers) f.get();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 100);
  EXPECT_EQ(refused.load(), 220);
}

TEST_F(RedisQuotaTest, BudgetsRefuseUntilTheirWindowResets) {
  RedisQuotaOptions options = StableOptions();
  options.windows.day = absl::Seconds(2);  // a shortened "day"
  options.windows.month = absl::Hours(1);
  RedisQuota store(client_.get(), &local_, options);
  CallerLimits limits;
  limits.tokens_per_day = 100;
  limits.usd_micros_per_month = 1'000'000;  // $1

  // Start right after a "day" begins, so the test does not straddle one by accident.
  absl::SleepFor(options.windows.DayAt(absl::Now()).end - absl::Now() + absl::Milliseconds(20));
  ASSERT_FALSE(Admit(store, "a", limits).refusal.has_value());
  store.Charge("a", 150, 0, absl::Now());
  // A charge is written right after the next reply (this PING's); every admission written
  // after it sees it: one connection, in order.
  ASSERT_TRUE(RunRedisCommand(*client_, {"PING"}).ok());
  SharedDecision d = Admit(store, "a", limits);
  ASSERT_TRUE(d.refusal.has_value());
  EXPECT_EQ(d.refusal->reason, "caller_tokens_per_day");
  EXPECT_LE(d.refusal->retry_after, absl::Seconds(2));
  EXPECT_THAT(d.refusal->message, ::testing::HasSubstr("100 tokens per day"));

  std::promise<absl::StatusOr<CallerUsageCounts>> read;
  store.Read("a", absl::Now(), [&read](absl::StatusOr<CallerUsageCounts> c) { read.set_value(std::move(c)); });
  absl::StatusOr<CallerUsageCounts> counts = read.get_future().get();
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->tokens_today, 150);
  EXPECT_EQ(counts->tokens_this_month, 150);
  EXPECT_EQ(counts->requests_this_minute, 1);

  // The next "day": tokens reset; then the month's dollar budget refuses.
  absl::SleepFor(d.refusal->retry_after + absl::Milliseconds(20));
  EXPECT_FALSE(Admit(store, "a", limits).refusal.has_value());
  store.Charge("a", 1, 1'200'000, absl::Now());
  ASSERT_TRUE(RunRedisCommand(*client_, {"PING"}).ok());
  d = Admit(store, "a", limits);
  ASSERT_TRUE(d.refusal.has_value());
  EXPECT_EQ(d.refusal->reason, "caller_usd_per_month");
  EXPECT_THAT(d.refusal->message, ::testing::HasSubstr("$1.00 per month"));
}

TEST_F(RedisQuotaTest, FailOpenCountsLocallyAndFailClosedRefusesThenRedisIsBack) {
  auto fail_open = std::make_shared<FailOpenCounter>();
  const RedisQuotaOptions open_options = StableOptions();
  RedisQuota open(client_.get(), &local_, open_options, fail_open);
  RedisQuotaOptions closed_options = open_options;
  closed_options.fail_open = false;
  RedisQuota closed(client_.get(), &local_, closed_options);
  CallerLimits limits;
  limits.requests_per_minute = 3;

  ASSERT_FALSE(Admit(open, "a", limits).refusal.has_value());  // counted in Redis: 1 of 3
  redis_.Kill();
  for (int i = 0; i < 20 && client_->connected(); ++i) {
    (void)RunRedisCommand(*client_, {"PING"});
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_FALSE(client_->connected());
  // Open: the replica's own count decides (it has seen none of the Redis-counted calls).
  for (int i = 0; i < 3; ++i) {
    SharedDecision d = Admit(open, "a", limits);
    EXPECT_TRUE(d.unavailable.ok());
    EXPECT_FALSE(d.refusal.has_value()) << i;
  }
  SharedDecision d = Admit(open, "a", limits);
  ASSERT_TRUE(d.refusal.has_value());
  EXPECT_EQ(d.refusal->reason, "caller_requests_per_minute");
  EXPECT_EQ(fail_open->count.load(), 4);
  // Closed: refused, UNAVAILABLE.
  d = Admit(closed, "b", limits);
  EXPECT_EQ(d.unavailable.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(d.unavailable.message(), ::testing::HasSubstr("Redis"));

  // Back (empty: no persistence): Redis counts again.
  ASSERT_TRUE(redis_.Start()) << redis_.error();
  ASSERT_TRUE(Connected(*client_));
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(Admit(closed, "b", limits).refusal.has_value()) << i;
  d = Admit(closed, "b", limits);
  ASSERT_TRUE(d.refusal.has_value());
  EXPECT_TRUE(d.unavailable.ok());
  EXPECT_EQ(fail_open->count.load(), 4);
}

}  // namespace
}  // namespace claude
