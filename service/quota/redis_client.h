// A Redis connection driven by one thread of its own: an epoll loop that owns the socket (plain
// TCP, or TLS with OpenSSL for rediss://), writes the commands hiredis formats and feeds the
// bytes back to hiredis's reply parser. No gRPC thread waits for Redis and no thread is started
// per request; commands are pipelined on the one connection, and each reply comes back on the
// Redis thread, or on the reply watcher's (below).
//
// Sending: a command is appended to the connection's output under a mutex. Over plain TCP the
// calling thread then writes it itself (a non-blocking send; what the socket does not take is
// left for the loop), which saves waking the Redis thread on every admission; over TLS only the
// loop thread touches the TLS session, so the caller wakes it (eventfd).
//
// Receiving: given a `reply_watcher` (the server passes its upstream event loop), a plain TCP
// connection's replies are read on the watcher's thread and their callbacks run there, so the
// admission a reply decides goes on, to the event loop, without a wake-up of the Redis thread
// in between. The Redis thread still connects, times commands out, writes what the caller's
// send left, and does everything over TLS.
//
// Failures: while there is no connection, a command fails at once (UNAVAILABLE). A lost
// connection fails every command in flight; a command without a reply after `command_timeout`
// drops the connection the same way (a stopped or overloaded Redis). The connection is retried
// with exponential backoff (`min_backoff` doubling to `max_backoff`). Over TLS the server's
// certificate must chain to the CA file's certificates (else the system's) and name the URL's
// host (SNI is sent for host names); a handshake that fails is a failed connection.
#ifndef SERVICE_QUOTA_REDIS_CLIENT_H_
#define SERVICE_QUOTA_REDIS_CLIENT_H_

#include <atomic>
#include <condition_variable>
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
#include "service/quota/redis_endpoint.h"
#include "service/upstream/fd_watcher.h"

struct redisReader;
struct ssl_st;

namespace claude {

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
  // Required when `endpoint.tls`; without one the system's CA bundle is used.
  std::shared_ptr<ssl_ctx_st> tls_context;
  absl::Duration command_timeout = absl::Milliseconds(500);
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Reads the replies of a plain TCP connection on its thread (see above); must outlive the
  // client. Null: the Redis thread reads them.
  FdWatcher* reply_watcher = nullptr;
  // How long a CommandSoon waits for a reply to ride after, at most (checked at the loop's
  // 10 ms tick).
  absl::Duration soon_delay = absl::Milliseconds(10);
};

// Round trips and failures, for metrics; called on the Redis thread or the reply watcher's,
// must be quick.
class RedisObserver {
 public:
  virtual ~RedisObserver() = default;
  virtual void OnReply(absl::Duration round_trip) = 0;
  // `what`: "connect", "tls" (the handshake failed: an untrusted certificate, a wrong host),
  // "disconnect", "timeout", "error" (a Redis error reply or an unparsable reply),
  // "unavailable" (a command with no connection).
  virtual void OnError(absl::string_view what) = 0;
};

class RedisClient {
 public:
  // Runs exactly once per command: the reply, an error reply as INTERNAL with Redis's
  // message, or UNAVAILABLE (no connection, lost, timed out). On the Redis thread or the
  // reply watcher's, except when the command is refused at once (no connection, too many
  // waiting, stopping): then on the calling thread, before Command returns.
  using Callback = std::function<void(absl::StatusOr<RedisValue>)>;

  // Starts the thread, which connects at once (and keeps retrying).
  explicit RedisClient(RedisClientOptions options, std::shared_ptr<RedisObserver> observer = nullptr);
  // Fails every command still waiting (UNAVAILABLE) and stops the thread.
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Thread-safe; never blocks on the network.
  void Command(std::vector<std::string> args, Callback done);
  // Like Command, but not written by itself: it goes out right after the next reply is read
  // (so a command someone waits for is never held behind it in Redis, and Redis wakes once for
  // both) or once it has waited `soon_delay`. For writes nobody waits for (a finished call's
  // charge). Commands sent after it may run before it; those sent after its write, after it.
  void CommandSoon(std::vector<std::string> args, Callback done);
  // `args` is sent first on every connection, after AUTH and SELECT and before any command, and
  // at once on the current one (e.g. SCRIPT LOAD, so EVALSHA finds its script). An error reply
  // is logged.
  void AddConnectionSetup(std::vector<std::string> args);
  // Whether the connection is up (it may drop an instant later).
  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  // Blocks until the first connection attempt has ended (up, or failed), for at most `timeout`;
  // returns whether the connection is up. For start-up only (never on an RPC thread): calls
  // that arrive before the first attempt ends would otherwise find no connection.
  bool WaitForFirstAttempt(absl::Duration timeout);

 private:
  struct Pending {
    Callback done;
    absl::Time sent;
  };
  // A reply (or failure) to hand to its callback once the mutex is released.
  struct Completion {
    Callback done;
    absl::StatusOr<RedisValue> result;
  };
  using Completions = std::vector<Completion>;
  // Marks the first connection attempt over and wakes WaitForFirstAttempt.
  void EndFirstAttempt() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  enum class Phase { kIdle, kConnecting, kHandshaking, kReady };

  void Submit(std::vector<std::string> args, Callback done, bool now);
  void Run();
  void Wake();
  // Resolves and starts a non-blocking connect (no mutex held: the lookup may take a while).
  void Connect();
  // Queues a command to be written next (Flush), or (Defer) after the next reply
  // (TakeDeferred).
  void Append(const std::vector<std::string>& args, Callback done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Defer(const std::vector<std::string>& args, Callback done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the deferred commands behind those queued to be written: when `reply_read`, or
  // when the oldest has waited soon_delay.
  void TakeDeferred(bool reply_read) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The callback of the connection's setup commands: logs an error reply.
  Callback SetupCheck();
  void HandleEvents(uint32_t events, Completions* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The reply watcher's handler for connection `generation` (stale ones are ignored).
  void OnWatchedReadable(uint64_t generation);
  void Handshake(Completions* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void BecomeReady() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReadReplies(Completions* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Flush(Completions* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateInterest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Closes the connection, fails every command in flight and schedules the next attempt.
  void Drop(const char* what, Completions* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int WaitMillis(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Complete(Completions& completions);

  const RedisClientOptions options_;
  const std::shared_ptr<RedisObserver> observer_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;

  Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kIdle;
  // Set when the first connection attempt ends (WaitForFirstAttempt).
  bool first_attempt_over_ ABSL_GUARDED_BY(mu_) = false;
  std::condition_variable first_attempt_cv_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  ssl_st* tls_ ABSL_GUARDED_BY(mu_) = nullptr;
  redisReader* reader_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Tells a stale event (of a connection since closed, its fd number reused) from a live one.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t interest_ ABSL_GUARDED_BY(mu_) = 0;
  bool in_epoll_ ABSL_GUARDED_BY(mu_) = false;  // fd_ is in this client's epoll set
  // The reply watcher's watch of fd_ (0: the Redis thread reads the replies).
  FdWatcher::WatchId watch_ ABSL_GUARDED_BY(mu_) = 0;
  // The TLS session must write (a handshake step, or a read that needs to send) before it can
  // go on.
  bool tls_wants_write_ ABSL_GUARDED_BY(mu_) = false;
  // Why the last TLS handshake failed ("" after one succeeded), so a retry failing the same
  // way is not logged again.
  std::string last_tls_failure_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<std::string>> setup_ ABSL_GUARDED_BY(mu_);
  // Formatted commands not yet taken by the socket.
  std::string output_ ABSL_GUARDED_BY(mu_);
  // Commands sent and not answered, oldest first (replies come in order).
  std::deque<Pending> in_flight_ ABSL_GUARDED_BY(mu_);
  // CommandSoon's, formatted, not yet behind output_ (`sent`: when deferred).
  std::string deferred_output_ ABSL_GUARDED_BY(mu_);
  std::deque<Pending> deferred_ ABSL_GUARDED_BY(mu_);
  absl::Time connect_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Time next_attempt_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_);

  // Connection attempts that failed before the connection was up (loop thread only).
  size_t failed_attempts_ = 0;

  std::atomic<bool> connected_{false};
  std::thread thread_;
};

}  // namespace claude

#endif  // SERVICE_QUOTA_REDIS_CLIENT_H_
