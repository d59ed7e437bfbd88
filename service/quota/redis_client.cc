#include "service/quota/redis_client.h"
#include "service/observability/server_log.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace claude {

namespace {

constexpr int kMaxEvents = 8;
// Commands waiting for their reply, at most: beyond it a command fails at once (UNAVAILABLE)
// rather than queueing without bound behind a stalled Redis.
constexpr size_t kMaxInFlight = 100'000;
// A reply larger than this (ours are a few integers) is not Redis's: the connection is dropped.
constexpr size_t kMaxReplyBytes = 1 << 20;
// How often the Redis thread looks at the oldest command's age and at the deferred ones.
constexpr absl::Duration kTick = absl::Milliseconds(10);
// Reads per readable event, so one flooding connection cannot hold the loop forever.
constexpr int kMaxReadsPerEvent = 64;

bool IsIpAddress(const std::string& host) {
  in6_addr any;
  return inet_pton(AF_INET, host.c_str(), &any) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &any) == 1;
}

RedisValue Convert(const redisReply& reply) {
  RedisValue value;
  switch (reply.type) {
    case REDIS_REPLY_INTEGER:
      value.type = RedisValue::Type::kInteger;
      value.integer = reply.integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      value.type = RedisValue::Type::kString;
      value.string.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ARRAY:
      value.type = RedisValue::Type::kArray;
      value.elements.reserve(reply.elements);
      for (size_t i = 0; i < reply.elements; ++i) value.elements.push_back(Convert(*reply.element[i]));
      break;
    default:
      break;
  }
  return value;
}

// Appends `args` to `out` in Redis's protocol.
void Format(const std::vector<std::string>& args, std::string* out) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* formatted = nullptr;
  const int length = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(),
                                            lengths.data());
  if (length < 0) std::abort();  // out of memory
  out->append(formatted, static_cast<size_t>(length));
  free(formatted);
}

}  // namespace

RedisClient::RedisClient(RedisClientOptions options, std::shared_ptr<RedisObserver> observer)
    : options_(std::move(options)), observer_(std::move(observer)), backoff_(options_.min_backoff) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.u64 = 0;  // connections count from 1
  if (epoll_fd_ < 0 || wake_fd_ < 0 || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake) != 0) {
    std::cerr << "claude-grpc-server: cannot create the Redis loop's epoll set: " << std::strerror(errno)
              << std::endl;
    std::abort();
  }
  thread_ = std::thread([this] { Run(); });
}

RedisClient::~RedisClient() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  Wake();
  thread_.join();
  // The thread's last Drop unwatched the connection; a handler may still be running.
  if (options_.reply_watcher != nullptr) options_.reply_watcher->Sync();
  close(wake_fd_);
  close(epoll_fd_);
}

void RedisClient::Complete(Completions& completions) {
  for (Completion& c : completions) c.done(std::move(c.result));
  completions.clear();
}

void RedisClient::Command(std::vector<std::string> args, Callback done) {
  Submit(std::move(args), std::move(done), /*now=*/true);
}

void RedisClient::CommandSoon(std::vector<std::string> args, Callback done) {
  Submit(std::move(args), std::move(done), /*now=*/false);
}

void RedisClient::Submit(std::vector<std::string> args, Callback done, bool now) {
  absl::Status refused;
  bool wake = false;
  {
    MutexLock lock(mu_);
    if (stopping_) {
      done(absl::UnavailableError("the Redis client is stopping"));
      return;
    }
    if (phase_ == Phase::kIdle) {
      refused = absl::UnavailableError("no connection to Redis");
    } else if (in_flight_.size() + deferred_.size() >= kMaxInFlight) {
      refused = absl::UnavailableError("too many Redis commands waiting for a reply");
    } else if (!now) {
      Defer(args, std::move(done));
    } else {
      Append(args, std::move(done));
      if (phase_ == Phase::kReady && !options_.endpoint.tls) {
        // Sent from this thread: a non-blocking send under the mutex, which saves waking the
        // loop. What the socket does not take, or an error, is left to the loop (EPOLLOUT).
        Flush(nullptr);
        UpdateInterest();
      } else {
        wake = true;
      }
    }
  }
  if (!refused.ok()) {
    if (observer_) observer_->OnError("unavailable");
    done(std::move(refused));
    return;
  }
  if (wake) Wake();
}

void RedisClient::Wake() {
  const uint64_t one = 1;
  // A full counter (never in practice) still leaves the fd readable: the wake is not lost.
  (void)!write(wake_fd_, &one, sizeof(one));
}

void RedisClient::Append(const std::vector<std::string>& args, Callback done) {
  Format(args, &output_);
  in_flight_.push_back(Pending{std::move(done), absl::Now()});
}

void RedisClient::Defer(const std::vector<std::string>& args, Callback done) {
  Format(args, &deferred_output_);
  deferred_.push_back(Pending{std::move(done), absl::Now()});
}

void RedisClient::TakeDeferred(bool reply_read) {
  if (deferred_.empty()) return;
  const absl::Time now = absl::Now();
  if (!reply_read && now - deferred_.front().sent < options_.soon_delay) return;
  output_ += deferred_output_;
  deferred_output_.clear();
  for (Pending& pending : deferred_) {
    pending.sent = now;  // their round trip, and timeout, count from here
    in_flight_.push_back(std::move(pending));
  }
  deferred_.clear();
}

void RedisClient::Connect() {
  // The name lookup may block: this thread only, with no lock held.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  int fd = -1;
  if (getaddrinfo(options_.endpoint.host.c_str(), absl::StrCat(options_.endpoint.port).c_str(),
                  &hints, &addresses) == 0) {
    std::vector<const addrinfo*> candidates;
    for (const addrinfo* a = addresses; a != nullptr; a = a->ai_next) candidates.push_back(a);
    // A connection that failed after connect() started (refused, timed out) was to one of the
    // host's addresses: each failed attempt starts one address further ("localhost" may list
    // ::1 first while Redis listens on 127.0.0.1 only).
    std::rotate(candidates.begin(),
                candidates.begin() + failed_attempts_ % std::max<size_t>(candidates.size(), 1),
                candidates.end());
    for (const addrinfo* a : candidates) {
      if (fd >= 0) break;
      fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      const int one = 1;
      // Commands are small and latency-bound: never hold one back to coalesce.
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
        close(fd);
        fd = -1;
      }
    }
    freeaddrinfo(addresses);
  }
  Completions failed;
  {
    MutexLock lock(mu_);
    if (fd < 0) {
      Drop("connect", &failed);
    } else {
      fd_ = fd;
      ++generation_;
      phase_ = Phase::kConnecting;
      reader_ = redisReaderCreate();
      connect_deadline_ = absl::Now() + options_.connect_timeout;
      interest_ = 0;
      // Sent first on the new connection, before any command queued meanwhile.
      if (!options_.endpoint.password.empty())
        Append({"AUTH", options_.endpoint.password}, SetupCheck());
      if (options_.endpoint.db != 0)
        Append({"SELECT", absl::StrCat(options_.endpoint.db)}, SetupCheck());
      for (const std::vector<std::string>& args : setup_) Append(args, SetupCheck());
      UpdateInterest();
    }
  }
  Complete(failed);
}

RedisClient::Callback RedisClient::SetupCheck() {
  return [this](absl::StatusOr<RedisValue> reply) {
    if (!reply.ok() && reply.status().code() == absl::StatusCode::kInternal) {
      LogEvent(Severity::kError, absl::StrCat("Redis refused the connection's setup: ", reply.status().message()),
               {{"event", "redis_setup_refused"}});
      if (observer_) observer_->OnError("connect");
    }
  };
}

void RedisClient::AddConnectionSetup(std::vector<std::string> args) {
  bool wake = false;
  {
    MutexLock lock(mu_);
    setup_.push_back(args);
    if (phase_ != Phase::kIdle) {
      Append(args, SetupCheck());
      wake = true;
    }
  }
  if (wake) Wake();
}

void RedisClient::Drop(const char* what, Completions* out) {
  const bool was_ready = phase_ == Phase::kReady;
  if (!was_ready) ++failed_attempts_;
  EndFirstAttempt();
  if (tls_ != nullptr) {
    SSL_free(tls_);
    tls_ = nullptr;
  }
  if (watch_ != 0) {
    options_.reply_watcher->Unwatch(watch_);
    watch_ = 0;
    // The watcher's duplicate keeps the socket open until the Unwatch takes effect: end the
    // connection now.
    shutdown(fd_, SHUT_RDWR);
  }
  if (fd_ >= 0) {
    close(fd_);  // also leaves the epoll set
    fd_ = -1;
  }
  in_epoll_ = false;
  if (reader_ != nullptr) {
    redisReaderFree(reader_);
    reader_ = nullptr;
  }
  phase_ = Phase::kIdle;
  interest_ = 0;
  tls_wants_write_ = false;
  output_.clear();
  for (Pending& pending : in_flight_) {
    out->push_back(
        {std::move(pending.done), absl::UnavailableError(absl::StrCat(
                                      "the Redis connection was lost or timed out (", what, ")"))});
  }
  in_flight_.clear();
  for (Pending& pending : deferred_) {
    out->push_back({std::move(pending.done), absl::UnavailableError(absl::StrCat(
                                                 "the Redis connection was lost (", what, ")"))});
  }
  deferred_.clear();
  deferred_output_.clear();
  connected_.store(false, std::memory_order_relaxed);
  connect_deadline_ = absl::InfiniteFuture();
  next_attempt_ = absl::Now() + backoff_;
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  if (observer_) observer_->OnError(what);
  if (was_ready) {
    LogEvent(Severity::kWarning, absl::StrCat("lost the Redis connection (", what, "); retrying"),
             {{"event", "redis_disconnected"}});
  }
}

void RedisClient::EndFirstAttempt() {
  if (first_attempt_over_) return;
  first_attempt_over_ = true;
  first_attempt_cv_.notify_all();
}

bool RedisClient::WaitForFirstAttempt(absl::Duration timeout) {
  MutexLock lock(mu_);
  lock.WaitFor(first_attempt_cv_, timeout,
               [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return first_attempt_over_; });
  return phase_ == Phase::kReady;
}

void RedisClient::BecomeReady() {
  EndFirstAttempt();
  phase_ = Phase::kReady;
  connected_.store(true, std::memory_order_relaxed);
  connect_deadline_ = absl::InfiniteFuture();
  backoff_ = options_.min_backoff;
  if (options_.reply_watcher != nullptr && tls_ == nullptr) {
    const uint64_t generation = generation_;
    watch_ =
        options_.reply_watcher->Watch(fd_, [this, generation] { OnWatchedReadable(generation); });
  }
}

void RedisClient::OnWatchedReadable(uint64_t generation) {
  Completions completions;
  bool dropped = false;
  {
    MutexLock lock(mu_);
    // A connection since dropped, whose Unwatch the watcher has not applied yet.
    if (generation != generation_ || watch_ == 0) return;
    const size_t waiting = in_flight_.size();
    ReadReplies(&completions);
    if (phase_ == Phase::kReady) {
      TakeDeferred(/*reply_read=*/in_flight_.size() < waiting);
      Flush(&completions);
    }
    dropped = phase_ == Phase::kIdle;
    UpdateInterest();
  }
  Complete(completions);
  // The Redis thread reconnects (after the backoff): it may be asleep until its next tick.
  if (dropped) Wake();
}

void RedisClient::Handshake(Completions* out) {
  if (tls_ == nullptr) {
    tls_ = SSL_new(options_.tls_context.get());
    const std::string& host = options_.endpoint.host;
    bool ok = tls_ != nullptr && SSL_set_fd(tls_, fd_) == 1;
    if (ok && IsIpAddress(host)) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls_), host.c_str()) == 1;
    } else if (ok) {
      // SNI, and the name the certificate must carry.
      ok = SSL_set_tlsext_host_name(tls_, host.c_str()) == 1 &&
           SSL_set1_host(tls_, host.c_str()) == 1;
    }
    if (!ok) {
      LogEvent(Severity::kError, absl::StrCat("cannot set up TLS to Redis: ", OpenSslErrors()),
               {{"event", "redis_tls_failed"}});
      Drop("tls", out);
      return;
    }
  }
  ERR_clear_error();
  const int result = SSL_connect(tls_);
  tls_wants_write_ = false;
  if (result == 1) {
    last_tls_failure_.clear();
    BecomeReady();
    return;
  }
  const int error = SSL_get_error(tls_, result);
  if (error == SSL_ERROR_WANT_READ) return;
  if (error == SSL_ERROR_WANT_WRITE) {
    tls_wants_write_ = true;
    return;
  }
  const long verify = SSL_get_verify_result(tls_);
  std::string reason =
      verify != X509_V_OK ? X509_verify_cert_error_string(verify) : OpenSslErrors();
  // Retried with backoff: logged when the reason changes, not at every attempt (the metric
  // counts each).
  if (reason != last_tls_failure_) {
    LogEvent(Severity::kError, absl::StrCat("the TLS handshake with Redis failed: ", reason),
             {{"event", "redis_tls_failed"}});
    last_tls_failure_ = std::move(reason);
  }
  Drop("tls", out);
}

void RedisClient::HandleEvents(uint32_t events, Completions* out) {
  if (phase_ == Phase::kConnecting) {
    int error = 0;
    socklen_t length = sizeof(error);
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
      Drop("connect", out);
      return;
    }
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    if (options_.endpoint.tls) {
      phase_ = Phase::kHandshaking;
    } else {
      BecomeReady();
    }
  }
  if (phase_ == Phase::kHandshaking) {
    Handshake(out);
    if (phase_ != Phase::kReady) return;
  }
  const size_t waiting = in_flight_.size();
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ReadReplies(out);
  if (phase_ != Phase::kReady) return;
  TakeDeferred(/*reply_read=*/in_flight_.size() < waiting);
  Flush(out);
}

void RedisClient::ReadReplies(Completions* out) {
  tls_wants_write_ = false;
  char buffer[16384];
  for (int reads = 0; reads < kMaxReadsPerEvent; ++reads) {
    ssize_t n;
    if (tls_ != nullptr) {
      ERR_clear_error();
      n = SSL_read(tls_, buffer, sizeof(buffer));
      if (n <= 0) {
        const int error = SSL_get_error(tls_, static_cast<int>(n));
        if (error == SSL_ERROR_WANT_READ) break;
        if (error == SSL_ERROR_WANT_WRITE) {
          tls_wants_write_ = true;
          break;
        }
        Drop("disconnect", out);
        return;
      }
    } else {
      n = read(fd_, buffer, sizeof(buffer));
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      if (n <= 0) {
        Drop("disconnect", out);
        return;
      }
    }
    redisReaderFeed(reader_, buffer, static_cast<size_t>(n));
    while (true) {
      void* reply = nullptr;
      if (redisReaderGetReply(reader_, &reply) != REDIS_OK ||
          (reply == nullptr && reader_->len - reader_->pos > kMaxReplyBytes)) {
        LogEvent(Severity::kError, "Redis sent a reply that does not parse; reconnecting",
                 {{"event", "redis_bad_reply"}});
        if (reply != nullptr) freeReplyObject(reply);
        Drop("error", out);
        return;
      }
      if (reply == nullptr) break;
      if (in_flight_.empty()) {
        freeReplyObject(reply);
        LogEvent(Severity::kError, "Redis sent a reply to no command; reconnecting",
                 {{"event", "redis_bad_reply"}});
        Drop("error", out);
        return;
      }
      Pending pending = std::move(in_flight_.front());
      in_flight_.pop_front();
      const auto* r = static_cast<const redisReply*>(reply);
      if (r->type == REDIS_REPLY_ERROR) {
        out->push_back(
            {std::move(pending.done),
             absl::InternalError(absl::StrCat("Redis: ", absl::string_view(r->str, r->len)))});
        if (observer_) observer_->OnError("error");
      } else {
        out->push_back({std::move(pending.done), Convert(*r)});
        if (observer_) observer_->OnReply(absl::Now() - pending.sent);
      }
      freeReplyObject(reply);
    }
  }
}

void RedisClient::Flush(Completions* out) {
  while (!output_.empty()) {
    ssize_t n;
    if (tls_ != nullptr) {
      ERR_clear_error();
      n = SSL_write(tls_, output_.data(),
                    static_cast<int>(std::min<size_t>(output_.size(), 1 << 30)));
      if (n <= 0) {
        const int error = SSL_get_error(tls_, static_cast<int>(n));
        if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) return;
        if (out != nullptr) Drop("disconnect", out);
        return;
      }
    } else {
      n = send(fd_, output_.data(), output_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        // Another thread's failed send is left for the loop, which sees the same error.
        if (errno != EAGAIN && errno != EINTR && out != nullptr) Drop("disconnect", out);
        return;
      }
    }
    output_.erase(0, static_cast<size_t>(n));
  }
}

void RedisClient::UpdateInterest() {
  if (fd_ < 0) return;
  // Replies the watcher reads are not this thread's to wait for (it still hears of an error
  // or a hang-up, which epoll always reports).
  uint32_t wanted = 0;
  if (phase_ == Phase::kConnecting) {
    wanted = EPOLLOUT;
  } else if (watch_ == 0) {
    wanted = EPOLLIN;
  }
  if (!output_.empty() && phase_ == Phase::kReady) wanted |= EPOLLOUT;
  if (tls_wants_write_) wanted |= EPOLLOUT;
  if (in_epoll_ && wanted == interest_) return;
  epoll_event event{};
  event.events = wanted;
  event.data.u64 = generation_;
  epoll_ctl(epoll_fd_, in_epoll_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd_, &event);
  in_epoll_ = true;
  interest_ = wanted;
}

int RedisClient::WaitMillis(absl::Time now) const {
  absl::Time due = absl::InfiniteFuture();
  if (phase_ == Phase::kIdle) due = next_attempt_;
  if (phase_ != Phase::kIdle && phase_ != Phase::kReady) due = connect_deadline_;
  if (!in_flight_.empty()) due = std::min(due, in_flight_.front().sent + options_.command_timeout);
  // Other threads do not wake the loop for every command: it looks at the oldest one's age,
  // and writes what CommandSoon left, at this pace.
  if (phase_ == Phase::kReady) due = std::min(due, now + kTick);
  if (due == absl::InfiniteFuture()) return -1;
  const absl::Duration wait = due - now;
  if (wait <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1))),
                                            60'000));
}

void RedisClient::Run() {
  // A write to a connection Redis closed raises SIGPIPE in the writing thread; OpenSSL writes
  // with plain write(), so block it in this thread (its only writer over TLS).
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
  epoll_event events[kMaxEvents];
  Completions completions;
  while (true) {
    bool connect_now = false;
    int wait_ms;
    {
      MutexLock lock(mu_);
      if (stopping_) break;
      const absl::Time now = absl::Now();
      if (phase_ == Phase::kIdle) {
        connect_now = now >= next_attempt_;
      } else if (phase_ != Phase::kReady && now >= connect_deadline_) {
        Drop("connect", &completions);
      } else if (!in_flight_.empty() && now >= in_flight_.front().sent + options_.command_timeout) {
        Drop("timeout", &completions);
      }
      wait_ms = connect_now ? 0 : WaitMillis(now);
    }
    Complete(completions);
    if (connect_now) {
      Connect();
      continue;
    }
    const int ready = epoll_wait(epoll_fd_, events, kMaxEvents, wait_ms);
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.u64 == 0) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof(count));
      }
    }
    {
      MutexLock lock(mu_);
      uint32_t mine = 0;
      for (int i = 0; i < ready; ++i) {
        if (events[i].data.u64 == generation_ && events[i].data.u64 != 0) mine |= events[i].events;
      }
      if (fd_ >= 0) {
        // Woken by another thread: the commands it appended (before the connection was ready,
        // or over TLS) are written here.
        HandleEvents(mine, &completions);
        UpdateInterest();
      }
    }
    Complete(completions);
  }
  Completions left;
  {
    MutexLock lock(mu_);
    if (fd_ >= 0) Drop("disconnect", &left);
  }
  for (Completion& c : left) c.result = absl::UnavailableError("the Redis client is stopping");
  Complete(left);
}

}  // namespace claude
