// The Redis client whose replies the upstream event loop reads (RedisClientOptions::
// reply_watcher, as the server runs it), against a real redis-server on loopback: every
// callback runs once, on the loop thread, across pipelining from many threads, a killed Redis
// and a hung one, and the client's destruction with commands in flight.
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "service/quota/redis_client.h"
#include "service/upstream/curl_event_loop.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/wait_until.h"

namespace claude {
namespace {

using ::claude::testing::RedisServer;
using ::claude::testing::WaitUntil;

// The event loop and the id of its thread (learnt through a watch of its own).
class Loop {
 public:
  Loop() {
    const int fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
    std::promise<std::thread::id> id;
    const FdWatcher::WatchId watch = loop_.Watch(fd, [&id, fd] {
      uint64_t count;
      (void)!read(fd, &count, sizeof(count));
      id.set_value(std::this_thread::get_id());
    });
    thread_ = id.get_future().get();
    loop_.Unwatch(watch);
    loop_.Sync();
    close(fd);
  }
  CurlEventLoop& loop() { return loop_; }
  std::thread::id thread() const { return thread_; }

 private:
  CurlEventLoop loop_{CurlEventLoopOptions{}};
  std::thread::id thread_;
};

RedisClientOptions OptionsFor(const RedisServer& redis, FdWatcher* watcher) {
  RedisClientOptions options;
  options.endpoint.host = "127.0.0.1";
  options.endpoint.port = redis.port();
  options.min_backoff = absl::Milliseconds(20);
  options.max_backoff = absl::Milliseconds(200);
  options.command_timeout = absl::Milliseconds(300);
  options.reply_watcher = watcher;
  return options;
}

struct Reply {
  absl::StatusOr<RedisValue> value;
  std::thread::id thread;
};

Reply Send(RedisClient& client, std::vector<std::string> args) {
  std::promise<Reply> reply;
  client.Command(std::move(args), [&reply](absl::StatusOr<RedisValue> r) {
    reply.set_value(Reply{std::move(r), std::this_thread::get_id()});
  });
  return reply.get_future().get();
}

bool WaitConnected(RedisClient& client) {
  return WaitUntil([&] { return Send(client, {"PING"}).value.ok(); }, absl::Seconds(10),
                   absl::Milliseconds(20));
}

// A real redis-server, the event loop, and a client of the one whose replies the other reads,
// connected.
class RedisReplyWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CLAUDE_REQUIRE_REDIS_SERVER();
    ASSERT_TRUE(redis_.Start()) << redis_.error();
    client_ = std::make_unique<RedisClient>(OptionsFor(redis_, &loop_.loop()));
    ASSERT_TRUE(WaitConnected(*client_));
  }

  RedisServer redis_;
  Loop loop_;
  std::unique_ptr<RedisClient> client_;  // before the loop goes, which reads its replies
};

TEST_F(RedisReplyWatcherTest, RepliesAreReadOnTheLoopThreadOncePerCommand) {
  const Reply ping = Send(*client_, {"PING"});
  ASSERT_TRUE(ping.value.ok()) << ping.value.status();
  EXPECT_EQ(ping.value->string, "PONG");
  EXPECT_EQ(ping.thread, loop_.thread());

  // Pipelined from four threads: every reply once, in order per connection, on the loop.
  std::atomic<int> answered{0}, elsewhere{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::future<void>> replies;
      for (int i = 0; i < 500; ++i) {
        auto done = std::make_shared<std::promise<void>>();
        replies.push_back(done->get_future());
        client_->Command({"INCR", "counter"}, [&, done](absl::StatusOr<RedisValue> r) {
          if (r.ok() && r->type == RedisValue::Type::kInteger) ++answered;
          if (std::this_thread::get_id() != loop_.thread()) ++elsewhere;
          done->set_value();
        });
      }
      for (auto& r : replies) r.get();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(answered.load(), 2000);
  EXPECT_EQ(elsewhere.load(), 0);
  const Reply counter = Send(*client_, {"GET", "counter"});
  ASSERT_TRUE(counter.value.ok());
  EXPECT_EQ(counter.value->string, "2000");
}

TEST_F(RedisReplyWatcherTest, AKilledRedisFailsTheCommandsAndTheNextConnectionIsWatched) {
  redis_.Kill();
  // The loop thread reads the hang-up: the client drops the connection and fails at once.
  ASSERT_TRUE(WaitUntil([&] { return !client_->connected(); }, absl::Seconds(10)));
  const Reply refused = Send(*client_, {"PING"});
  ASSERT_FALSE(refused.value.ok());
  EXPECT_EQ(refused.value.status().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(redis_.Start()) << redis_.error();
  ASSERT_TRUE(WaitConnected(*client_)) << "the client reconnects with backoff";
  const Reply again = Send(*client_, {"PING"});
  ASSERT_TRUE(again.value.ok()) << again.value.status();
  EXPECT_EQ(again.thread, loop_.thread()) << "the new connection's replies are watched too";
}

TEST_F(RedisReplyWatcherTest, CommandsToAHungRedisTimeOutAndTheClientRecovers) {
  redis_.Pause();
  const absl::Time sent = absl::Now();
  const Reply hung = Send(*client_, {"PING"});
  ASSERT_FALSE(hung.value.ok());
  EXPECT_EQ(hung.value.status().code(), absl::StatusCode::kUnavailable) << hung.value.status();
  EXPECT_LT(absl::Now() - sent, absl::Seconds(5)) << "timed out by the Redis thread's tick";
  redis_.Resume();
  ASSERT_TRUE(WaitConnected(*client_));
  EXPECT_EQ(Send(*client_, {"PING"}).thread, loop_.thread());
}

TEST_F(RedisReplyWatcherTest, DestroyingTheClientAnswersEveryCommandInFlightOnce) {
  std::atomic<int> answered{0};
  redis_.Pause();  // so that commands are still in flight when the client goes
  for (int i = 0; i < 100; ++i) {
    client_->Command({"PING"}, [&answered](absl::StatusOr<RedisValue>) { ++answered; });
  }
  client_.reset();
  EXPECT_EQ(answered.load(), 100);
  redis_.Resume();
}

}  // namespace
}  // namespace claude
