// The Redis client's calls in blocking form, for tests that talk to a real redis-server
// (redis_server.h): the client answers on its own thread, the test waits for the answer. Tests
// that include this link claude_quota.
#ifndef TESTS_TESTING_REDIS_COMMANDS_H_
#define TESTS_TESTING_REDIS_COMMANDS_H_

#include <future>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/quota/redis_client.h"
#include "tests/testing/wait_until.h"

namespace claude::testing {

// Sends one command and waits for its reply (or its failure).
inline absl::StatusOr<RedisValue> RunRedisCommand(RedisClient& client,
                                                  std::vector<std::string> args) {
  std::promise<absl::StatusOr<RedisValue>> reply;
  client.Command(std::move(args),
                 [&reply](absl::StatusOr<RedisValue> r) { reply.set_value(std::move(r)); });
  return reply.get_future().get();
}

// Sends PING until one is answered or `timeout` has passed (the client connects in the
// background, and reconnects with backoff); the last reply, so a test that expects no
// connection can check why.
inline absl::StatusOr<RedisValue> PingUntilAnswered(RedisClient& client,
                                                    absl::Duration timeout = absl::Seconds(10)) {
  absl::StatusOr<RedisValue> pong;
  WaitUntil(
      [&] {
        pong = RunRedisCommand(client, {"PING"});
        return pong.ok();
      },
      timeout, absl::Milliseconds(20));
  return pong;
}

}  // namespace claude::testing

#endif  // TESTS_TESTING_REDIS_COMMANDS_H_
