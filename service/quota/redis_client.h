// A Redis connection driven by one thread of its own: hiredis's asynchronous API on an epoll
// loop (an adapter of ours: hiredis asks to watch its socket for reading or writing, the loop
// does, and tells hiredis when it is ready). Other threads hand it commands through a queue and
// an eventfd, so no gRPC thread waits for Redis and no thread is started per request; commands
// are pipelined on the one connection, and each reply comes back on the Redis thread.
//
// Failures: while there is no connection, a command fails at once (UNAVAILABLE). A lost
// connection fails every command in flight; a command without a reply after `command_timeout`
// drops the connection the same way (a stopped or overloaded Redis). The connection is retried
// with exponential backoff (`min_backoff` doubling to `max_backoff`).
#ifndef SERVICE_QUOTA_REDIS_CLIENT_H_
#define SERVICE_QUOTA_REDIS_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/sync/mutex.h"

struct redisAsyncContext;

namespace claude {

// Where Redis is: redis://[[user]:password@]host[:port][/db]. "rediss://" (TLS) is recognised
// and refused: Debian 12's hiredis (0.14) has no TLS.
struct RedisEndpoint {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string password;  // from the URL; --redis_password_file overrides it
};
absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url);

// One reply, converted from hiredis's: integers, (bulk or status) strings, arrays, nil.
struct RedisValue {
  enum class Type { kNil, kInteger, kString, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string string;
  std::vector<RedisValue> elements;
};

struct RedisClientOptions {
  RedisEndpoint endpoint;
  absl::Duration command_timeout = absl::Milliseconds(500);
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
};

// Round trips and failures, for metrics; called on the Redis thread, must be quick.
class RedisObserver {
 public:
  virtual ~RedisObserver() = default;
  virtual void OnReply(absl::Duration round_trip) = 0;
  // `what`: "connect", "disconnect", "timeout", "error" (a Redis error reply), "unavailable".
  virtual void OnError(absl::string_view what) = 0;
};

class RedisClient {
 public:
  // Runs on the Redis thread, exactly once per command: the reply, an error reply as
  // INTERNAL with Redis's message, or UNAVAILABLE (no connection, lost, timed out).
  using Callback = std::function<void(absl::StatusOr<RedisValue>)>;

  // Starts the thread, which connects at once (and keeps retrying).
  explicit RedisClient(RedisClientOptions options, std::shared_ptr<RedisObserver> observer = nullptr);
  // Fails every command still waiting (UNAVAILABLE) and stops the thread.
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Thread-safe; never blocks on the network.
  void Command(std::vector<std::string> args, Callback done);
  // Whether the connection is up (it may drop an instant later).
  bool connected() const { return connected_.load(std::memory_order_relaxed); }

 private:
  struct Pending;
  void Run();
  void Wake();
  void Connect();
  void Dropped(const char* what);
  void DrainQueue();
  void Send(std::vector<std::string> args, Callback done);
  void UpdateEvents();
  int WaitMillis() const;
  static void OnConnect(const redisAsyncContext* context, int status);
  static void OnDisconnect(const redisAsyncContext* context, int status);
  static void OnReply(redisAsyncContext* context, void* reply, void* privdata);
  static void AddRead(void* self);
  static void DelRead(void* self);
  static void AddWrite(void* self);
  static void DelWrite(void* self);
  static void Cleanup(void* self);

  const RedisClientOptions options_;
  const std::shared_ptr<RedisObserver> observer_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;

  Mutex mu_;
  std::deque<std::pair<std::vector<std::string>, Callback>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Loop thread only.
  redisAsyncContext* context_ = nullptr;
  int watched_fd_ = -1;
  bool want_read_ = false;
  bool want_write_ = false;
  bool registered_ = false;
  bool ready_ = false;  // connected (replies flow)
  absl::Time connect_deadline_ = absl::InfiniteFuture();
  absl::Time next_attempt_ = absl::InfinitePast();
  absl::Duration backoff_;
  // Commands sent and not answered, oldest first (replies come in order).
  std::deque<Pending*> in_flight_;

  std::atomic<bool> connected_{false};
  std::thread thread_;
};

}  // namespace claude

#endif  // SERVICE_QUOTA_REDIS_CLIENT_H_
