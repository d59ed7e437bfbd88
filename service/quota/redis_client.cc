#include "service/quota/redis_client.h"
#include "service/observability/server_log.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace claude {

struct RedisClient::Pending {
  RedisClient* client;
  Callback done;
  absl::Time sent;
};

namespace {

constexpr int kMaxEvents = 8;

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

}  // namespace

absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url) {
  RedisEndpoint endpoint;
  absl::string_view rest = url;
  if (absl::StartsWith(rest, "rediss://")) {
    return absl::InvalidArgumentError(
        "rediss:// (TLS) is not supported: Debian 12's hiredis has no TLS; reach Redis over a "
        "TLS-terminating sidecar or a trusted network with redis://");
  }
  if (!absl::ConsumePrefix(&rest, "redis://")) {
    return absl::InvalidArgumentError("must start with redis://");
  }
  if (const size_t at = rest.rfind('@'); at != absl::string_view::npos) {
    absl::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    // user:password or :password; a user name alone (no colon) is a password in old URLs.
    const size_t colon = userinfo.find(':');
    endpoint.password = std::string(colon == absl::string_view::npos ? userinfo : userinfo.substr(colon + 1));
  }
  absl::string_view hostport = rest;
  if (const size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    hostport = rest.substr(0, slash);
    absl::string_view db = rest.substr(slash + 1);
    if (!db.empty() && (!absl::SimpleAtoi(db, &endpoint.db) || endpoint.db < 0 || endpoint.db > 1 << 16)) {
      return absl::InvalidArgumentError("the database (after the host) must be a number");
    }
  }
  if (const size_t colon = hostport.rfind(':'); colon != absl::string_view::npos) {
    if (!absl::SimpleAtoi(hostport.substr(colon + 1), &endpoint.port) || endpoint.port < 1 ||
        endpoint.port > 65535) {
      return absl::InvalidArgumentError("the port must be 1-65535");
    }
    hostport = hostport.substr(0, colon);
  }
  if (hostport.empty() || hostport.size() > 253) return absl::InvalidArgumentError("needs a host");
  for (char c : hostport) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) {
      return absl::InvalidArgumentError("the host has characters a host name cannot have");
    }
  }
  endpoint.host = std::string(hostport);
  return endpoint;
}

RedisClient::RedisClient(RedisClientOptions options, std::shared_ptr<RedisObserver> observer)
    : options_(std::move(options)), observer_(std::move(observer)), backoff_(options_.min_backoff) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.fd = wake_fd_;
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
  close(wake_fd_);
  close(epoll_fd_);
}

void RedisClient::Command(std::vector<std::string> args, Callback done) {
  bool stopped;
  {
    MutexLock lock(mu_);
    stopped = stopping_;
    if (!stopped) queue_.emplace_back(std::move(args), std::move(done));
  }
  if (stopped) {
    done(absl::UnavailableError("the Redis client is stopping"));
    return;
  }
  Wake();
}

void RedisClient::Wake() {
  const uint64_t one = 1;
  // A full counter (never in practice) still leaves the fd readable: the wake is not lost.
  (void)!write(wake_fd_, &one, sizeof(one));
}

void RedisClient::Connect() {
  next_attempt_ = absl::InfiniteFuture();
  redisAsyncContext* context = redisAsyncConnect(options_.endpoint.host.c_str(), options_.endpoint.port);
  if (context == nullptr || context->err) {
    if (context != nullptr) redisAsyncFree(context);
    Dropped("connect");
    return;
  }
  context_ = context;
  context->data = this;
  context->ev.data = this;
  context->ev.addRead = &RedisClient::AddRead;
  context->ev.delRead = &RedisClient::DelRead;
  context->ev.addWrite = &RedisClient::AddWrite;
  context->ev.delWrite = &RedisClient::DelWrite;
  context->ev.cleanup = &RedisClient::Cleanup;
  redisAsyncSetConnectCallback(context, &RedisClient::OnConnect);
  redisAsyncSetDisconnectCallback(context, &RedisClient::OnDisconnect);
  watched_fd_ = context->c.fd;
  connect_deadline_ = absl::Now() + options_.connect_timeout;
  // The connection completes when its socket turns writable; hiredis waits for that only when
  // a command is queued, so ask for it here.
  AddWrite(this);
  const auto check = [this](absl::StatusOr<RedisValue> reply) {
    if (!reply.ok() && reply.status().code() == absl::StatusCode::kInternal) {
      LogEvent(Severity::kError, absl::StrCat("Redis refused the connection's setup: ", reply.status().message()),
               {{"event", "redis_setup_refused"}});
      if (observer_) observer_->OnError("connect");
    }
  };
  if (!options_.endpoint.password.empty()) Send({"AUTH", options_.endpoint.password}, check);
  if (options_.endpoint.db != 0) Send({"SELECT", absl::StrCat(options_.endpoint.db)}, check);
}

// The connection is gone (or never came): retry after the backoff, which doubles each time
// until a connection succeeds.
void RedisClient::Dropped(const char* what) {
  const bool was_ready = ready_;
  context_ = nullptr;
  ready_ = false;
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

void RedisClient::OnConnect(const redisAsyncContext* context, int status) {
  auto* self = static_cast<RedisClient*>(context->data);
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback.
    self->Dropped("connect");
    return;
  }
  self->ready_ = true;
  self->connected_.store(true, std::memory_order_relaxed);
  self->connect_deadline_ = absl::InfiniteFuture();
  self->backoff_ = self->options_.min_backoff;
}

void RedisClient::OnDisconnect(const redisAsyncContext* context, int status) {
  auto* self = static_cast<RedisClient*>(context->data);
  (void)status;
  if (self->context_ == context) self->Dropped("disconnect");
}

void RedisClient::OnReply(redisAsyncContext* context, void* reply, void* privdata) {
  (void)context;
  auto* pending = static_cast<Pending*>(privdata);
  RedisClient* self = pending->client;
  auto& in_flight = self->in_flight_;
  if (auto it = std::find(in_flight.begin(), in_flight.end(), pending); it != in_flight.end()) {
    in_flight.erase(it);
  }
  absl::StatusOr<RedisValue> result;
  const auto* r = static_cast<const redisReply*>(reply);
  if (r == nullptr) {
    result = absl::UnavailableError("the Redis connection was lost or timed out");
  } else if (r->type == REDIS_REPLY_ERROR) {
    result = absl::InternalError(absl::StrCat("Redis: ", absl::string_view(r->str, r->len)));
    if (self->observer_) self->observer_->OnError("error");
  } else {
    result = Convert(*r);
    if (self->observer_) self->observer_->OnReply(absl::Now() - pending->sent);
  }
  Callback done = std::move(pending->done);
  delete pending;
  done(std::move(result));
}

void RedisClient::Send(std::vector<std::string> args, Callback done) {
  if (context_ == nullptr) {
    if (observer_) observer_->OnError("unavailable");
    done(absl::UnavailableError("no connection to Redis"));
    return;
  }
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* pending = new Pending{this, std::move(done), absl::Now()};
  if (redisAsyncCommandArgv(context_, &RedisClient::OnReply, pending, static_cast<int>(argv.size()),
                            argv.data(), lengths.data()) != REDIS_OK) {
    Callback failed = std::move(pending->done);
    delete pending;
    failed(absl::UnavailableError("Redis refused the command: the connection is closing"));
    return;
  }
  in_flight_.push_back(pending);
}

void RedisClient::UpdateEvents() {
  if (watched_fd_ < 0) return;
  epoll_event event{};
  event.events = (want_read_ ? EPOLLIN : 0u) | (want_write_ ? EPOLLOUT : 0u);
  event.data.fd = watched_fd_;
  if (!registered_) {
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, watched_fd_, &event) == 0) registered_ = true;
  } else {
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, watched_fd_, &event);
  }
}

void RedisClient::AddRead(void* self) {
  auto* client = static_cast<RedisClient*>(self);
  client->want_read_ = true;
  client->UpdateEvents();
}
void RedisClient::DelRead(void* self) {
  auto* client = static_cast<RedisClient*>(self);
  client->want_read_ = false;
  client->UpdateEvents();
}
void RedisClient::AddWrite(void* self) {
  auto* client = static_cast<RedisClient*>(self);
  client->want_write_ = true;
  client->UpdateEvents();
}
void RedisClient::DelWrite(void* self) {
  auto* client = static_cast<RedisClient*>(self);
  client->want_write_ = false;
  client->UpdateEvents();
}
void RedisClient::Cleanup(void* self) {
  auto* client = static_cast<RedisClient*>(self);
  if (client->registered_) epoll_ctl(client->epoll_fd_, EPOLL_CTL_DEL, client->watched_fd_, nullptr);
  client->registered_ = false;
  client->watched_fd_ = -1;
  client->want_read_ = client->want_write_ = false;
}

int RedisClient::WaitMillis() const {
  absl::Time due = std::min(connect_deadline_, context_ == nullptr ? next_attempt_ : absl::InfiniteFuture());
  if (!in_flight_.empty()) due = std::min(due, in_flight_.front()->sent + options_.command_timeout);
  if (due == absl::InfiniteFuture()) return -1;
  const absl::Duration wait = due - absl::Now();
  if (wait <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1))),
                                            60'000));
}

void RedisClient::DrainQueue() {
  std::deque<std::pair<std::vector<std::string>, Callback>> commands;
  {
    MutexLock lock(mu_);
    commands.swap(queue_);
  }
  for (auto& [args, done] : commands) Send(std::move(args), std::move(done));
}

void RedisClient::Run() {
  epoll_event events[kMaxEvents];
  while (true) {
    {
      MutexLock lock(mu_);
      if (stopping_) break;
    }
    const absl::Time now = absl::Now();
    if (context_ == nullptr && now >= next_attempt_) Connect();
    if (context_ != nullptr) {
      const bool connect_expired = !ready_ && now >= connect_deadline_;
      const bool reply_overdue =
          !in_flight_.empty() && now >= in_flight_.front()->sent + options_.command_timeout;
      if (connect_expired || reply_overdue) {
        // Frees the context: every command in flight is answered with no reply (UNAVAILABLE).
        redisAsyncContext* context = context_;
        context_ = nullptr;
        redisAsyncFree(context);
        Dropped(reply_overdue ? "timeout" : "connect");
      }
    }
    DrainQueue();
    const int ready = epoll_wait(epoll_fd_, events, kMaxEvents, WaitMillis());
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.fd == wake_fd_) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof(count));
        continue;
      }
      if (context_ == nullptr || events[i].data.fd != watched_fd_) continue;
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) redisAsyncHandleRead(context_);
      if (context_ != nullptr && (events[i].events & (EPOLLOUT | EPOLLERR))) redisAsyncHandleWrite(context_);
    }
  }
  if (context_ != nullptr) {
    redisAsyncContext* context = context_;
    context_ = nullptr;
    redisAsyncFree(context);
  }
  std::deque<std::pair<std::vector<std::string>, Callback>> left;
  {
    MutexLock lock(mu_);
    left.swap(queue_);
  }
  for (auto& command : left) command.second(absl::UnavailableError("the Redis client is stopping"));
}

}  // namespace claude
