#include "service/upstream/curl_event_loop.h"
#include "service/upstream/curl_transfer.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <utility>

#include "absl/strings/str_cat.h"

namespace claude {
namespace {

// curl_global_init is not thread-safe; every loop calls this first.
absl::Status InitCurlOnce() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (code == CURLE_OK) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("curl_global_init: ", curl_easy_strerror(code)));
}

// Idle easy handles kept for reuse; beyond this many they are freed (each holds a receive
// buffer, and a burst of transfers should not pin its peak memory).
constexpr size_t kMaxIdleHandles = 16;

// An address no sweep ever reaches: RefuseSocket refuses to open a socket for it.
constexpr char kSweepUrl[] = "http://127.0.0.1:9/";

// Events taken from epoll per wake.
constexpr int kMaxEvents = 256;

// The sweep's CURLOPT_OPENSOCKETFUNCTION: its connection is never made.
curl_socket_t RefuseSocket(void* /*clientp*/, curlsocktype /*purpose*/, curl_sockaddr* /*address*/) {
  return CURL_SOCKET_BAD;
}

}  // namespace

CurlEventLoop::Command::Command(Kind k, uint64_t i, std::unique_ptr<Transfer> t, int f,
                                std::function<void()> run)
    : kind(k), id(i), transfer(std::move(t)), fd(f), fn(std::move(run)) {}

CurlEventLoop::CurlEventLoop(CurlEventLoopOptions options) : options_(std::move(options)) {
  setup_ = InitCurlOnce();
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.fd = wake_fd_;
  if (epoll_fd_ < 0 || wake_fd_ < 0 || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake) != 0) {
    // Only when the process is out of file descriptors at startup: nothing could run.
    std::perror("claude-grpc: cannot set up the upstream event loop");
    std::abort();
  }
  watched_ = std::make_unique<WatchedFds>(epoll_fd_);
  multi_.reset(curl_multi_init());
  if (multi_ == nullptr) {
    std::fputs("claude-grpc: curl_multi_init failed\n", stderr);
    std::abort();
  }
  CURLM* multi = multi_.get();
  auto set = [&](CURLMoption option, auto value) {
    if (setup_.ok()) setup_ = SetMultiOption(multi, option, value);
  };
  if (options_.max_connections_per_host > 0) set(CURLMOPT_MAX_HOST_CONNECTIONS, options_.max_connections_per_host);
  if (options_.max_total_connections > 0) set(CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_total_connections);
  // Idle connections kept for reuse. curl's default follows the number of handles added at each
  // moment, which under a steady load of concurrent calls closes connections only to reopen
  // them; an explicit cap keeps the pool steady and bounded.
  if (options_.max_idle_connections > 0) set(CURLMOPT_MAXCONNECTS, options_.max_idle_connections);
  set(CURLMOPT_PIPELINING, options_.http2 ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
  // Without these two the loop could not drive curl at all.
  set(CURLMOPT_SOCKETFUNCTION, &CurlEventLoop::OnSocket);
  set(CURLMOPT_SOCKETDATA, static_cast<void*>(this));
  set(CURLMOPT_TIMERFUNCTION, &CurlEventLoop::OnTimer);
  set(CURLMOPT_TIMERDATA, static_cast<void*>(this));
  thread_ = std::thread([this] { Run(); });
}

CurlEventLoop::~CurlEventLoop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  Wake();
  thread_.join();
  if (sweeper_ != nullptr) curl_multi_remove_handle(multi_.get(), sweeper_.get());
  sweeper_.reset();
  idle_handles_.clear();  // before the multi handle, whose connection cache they may share
  multi_.reset();
  watched_.reset();
  close(wake_fd_);
  close(epoll_fd_);
}

CurlEventLoop::TransferId CurlEventLoop::Start(HttpRequest request,
                                               std::shared_ptr<TransferSink> sink,
                                               absl::Duration delay) {
  auto transfer = std::make_unique<Transfer>();
  transfer->id = next_id_.fetch_add(1, std::memory_order_relaxed);
  transfer->request = std::move(request);
  transfer->sink = std::move(sink);
  transfer->start_at = absl::Now() + delay;
  transfer->loop = this;
  const TransferId id = transfer->id;
  live_.fetch_add(1, std::memory_order_relaxed);
  Post(Command{Command::kStart, id, std::move(transfer)});
  return id;
}

void CurlEventLoop::Cancel(TransferId id) { Post(Command{Command::kCancel, id, nullptr}); }

void CurlEventLoop::Resume(TransferId id) { Post(Command{Command::kResume, id, nullptr}); }

FdWatcher::WatchId CurlEventLoop::Watch(int fd, std::function<void()> on_readable) {
  const int duplicate = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (duplicate < 0) return 0;
  const WatchId id = next_watch_id_.fetch_add(1, std::memory_order_relaxed);
  Post(Command{Command::kWatch, id, nullptr, duplicate, std::move(on_readable)});
  return id;
}

void CurlEventLoop::Unwatch(WatchId id) { Post(Command{Command::kUnwatch, id, nullptr}); }

void CurlEventLoop::Sync() {
  std::promise<void> done;
  std::future<void> applied = done.get_future();
  // Commands run in order, between waits: when this one runs, every earlier one has, and no
  // handler is running.
  Post(Command{Command::kRun, 0, nullptr, -1, [&done] { done.set_value(); }});
  applied.wait();
}

void CurlEventLoop::Post(Command command) {
  {
    MutexLock lock(mu_);
    commands_.push_back(std::move(command));
  }
  // The loop, when awake, reads commands_ before it waits again: no wakeup needed then.
  if (polling_.exchange(false)) Wake();
}

void CurlEventLoop::Wake() {
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void CurlEventLoop::Run() {
  epoll_event events[kMaxEvents];
  for (;;) {
    std::deque<Command> commands;
    bool stopping;
    {
      MutexLock lock(mu_);
      commands.swap(commands_);
      stopping = stopping_;
    }
    for (Command& c : commands) Execute(std::move(c));
    if (stopping) break;

    // Start transfers whose backoff delay is over (cancelled ones are gone from transfers_).
    const absl::Time now = absl::Now();
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      auto it = transfers_.find(delayed_.begin()->second);
      delayed_.erase(delayed_.begin());
      if (it != transfers_.end() && it->second->easy == nullptr) StartNow(it->second.get());
    }
    StartGranted();
    CheckStalls(now);
    SweepIdleConnections(now);
    // New transfers and resumed ones set curl's timer to now.
    if (curl_timer_ <= absl::Now()) {
      curl_timer_ = absl::InfiniteFuture();
      Drive(CURL_SOCKET_TIMEOUT, 0);
    }

    polling_.store(true);
    bool idle;
    {
      MutexLock lock(mu_);
      idle = commands_.empty() && !stopping_;
    }
    const int ready = epoll_wait(epoll_fd_, events, kMaxEvents, idle ? WaitMillis() : 0);
    polling_.store(false);
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof count);
        continue;
      }
      if (watched_->Dispatch(fd)) continue;
      const uint32_t e = events[i].events;
      Drive(fd, ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                    ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0));
    }
  }
  // Shutting down: every transfer still here ends as cancelled.
  std::vector<Transfer*> left;
  for (auto& [id, t] : transfers_) left.push_back(t.get());
  for (Transfer* t : left) Finish(t, absl::CancelledError("server shutting down"));
}

void CurlEventLoop::Drive(int fd, int curl_events) {
  int running = 0;
  curl_multi_socket_action(multi_.get(), fd, curl_events, &running);
  int pending = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &pending)) {
    if (msg->msg != CURLMSG_DONE) continue;
    if (sweeper_ != nullptr && msg->easy_handle == sweeper_.get()) {
      // Its work (curl pruning the pool) is done; its own connect was refused on purpose.
      curl_multi_remove_handle(multi_.get(), sweeper_.get());
      sweeper_.reset();
      continue;
    }
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    const CURLcode code = msg->data.result;
    absl::Status status;
    if (code == CURLE_OK && t->headers_complete) {
      t->DeliverHead();
    } else if (code == CURLE_OK) {
      // curl ends a response cut inside its header block without an error; the caller gets no
      // response from it, so it is a connection failure like any other (and retryable).
      status = absl::UnavailableError(
          "upstream connection closed before the response headers were complete");
    } else {
      status = FailureStatus(*t, code);
    }
    Finish(t, status);
  }
}

void CurlEventLoop::ArmStallCheck(Transfer* t, absl::Time at) {
  if (t->stall_check_armed) return;
  t->stall_check_armed = true;
  t->stall_check = stall_checks_.emplace(at, t->id);
}

void CurlEventLoop::CheckStalls(absl::Time now) {
  // Bytes only move last_byte_at forward (no map update per chunk); a check that comes due
  // early re-arms itself at the transfer's real deadline.
  while (!stall_checks_.empty() && stall_checks_.begin()->first <= now) {
    const TransferId id = stall_checks_.begin()->second;
    stall_checks_.erase(stall_checks_.begin());
    auto it = transfers_.find(id);
    if (it == transfers_.end()) continue;
    Transfer* t = it->second.get();
    t->stall_check_armed = false;
    if (t->paused) continue;  // a slow reader is not a stall; re-armed when it resumes
    const absl::Time due = t->last_byte_at + options_.stall_timeout;
    if (due > now) {
      ArmStallCheck(t, due);
      continue;
    }
    Finish(t, absl::UnavailableError(absl::StrCat("upstream stalled: no bytes for ",
                                                  absl::FormatDuration(options_.stall_timeout),
                                                  " (--stall_timeout)")));
  }
}

// curl closes pooled connections that are idle too long (CURLOPT_MAXAGE_CONN) or dead only when
// a new transfer looks for a connection, so after a burst with no traffic behind it they would
// stay open for good. About once a second, while a connection may be idle in the pool, the loop
// adds a sweep: a handle whose only effect is that lookup (its own connection is refused before
// any socket exists).
void CurlEventLoop::SweepIdleConnections(absl::Time now) {
  if (!setup_.ok() || sweeper_ != nullptr || now < next_idle_sweep_ ||
      now > last_parked_ + options_.idle_connection_timeout + absl::Seconds(3)) {
    return;
  }
  next_idle_sweep_ = now + absl::Seconds(1);
  CurlEasy sweeper(curl_easy_init());
  if (sweeper == nullptr) return;
  absl::Status s;
  auto set = [&](CURLoption option, auto value) {
    if (s.ok()) s = SetOption(sweeper.get(), option, value);
  };
  set(CURLOPT_URL, kSweepUrl);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_MAXAGE_CONN, CurlMaxAgeSeconds(options_.idle_connection_timeout));
  set(CURLOPT_OPENSOCKETFUNCTION, &RefuseSocket);
  // A sweep that cannot be set up is skipped; the next one comes a second later.
  if (!s.ok() || curl_multi_add_handle(multi_.get(), sweeper.get()) != CURLM_OK) return;
  sweeper_ = std::move(sweeper);
}

int CurlEventLoop::WaitMillis() const {
  absl::Time until = std::min(curl_timer_, absl::Now() + absl::Seconds(1));
  if (!delayed_.empty()) until = std::min(until, delayed_.begin()->first);
  if (!stall_checks_.empty()) until = std::min(until, stall_checks_.begin()->first);
  if (!granted_.empty()) return 0;
  // Rounded up: waking a little early would only spin until the timer is due.
  const absl::Duration wait = absl::Ceil(until - absl::Now(), absl::Milliseconds(1));
  return static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(wait)));
}

int CurlEventLoop::OnSocket(void* /*easy*/, int fd, int what, void* self, void* /*socket_data*/) {
  const int epoll_fd = static_cast<CurlEventLoop*>(self)->epoll_fd_;
  if (what == CURL_POLL_REMOVE) {
    // Fails harmlessly when curl already closed the socket (the kernel dropped it then).
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    return 0;
  }
  epoll_event event{};
  event.events = ((what & CURL_POLL_IN) ? uint32_t{EPOLLIN} : 0u) |
                 ((what & CURL_POLL_OUT) ? uint32_t{EPOLLOUT} : 0u);
  event.data.fd = fd;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &event) != 0 && errno == ENOENT) {
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
  }
  return 0;
}

int CurlEventLoop::OnTimer(void* /*multi*/, long timeout_ms, void* self) {
  static_cast<CurlEventLoop*>(self)->curl_timer_ =
      timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
  return 0;
}

void CurlEventLoop::Execute(Command command) {
  switch (command.kind) {
    case Command::kStart: {
      Transfer* t = command.transfer.get();
      transfers_[command.id] = std::move(command.transfer);
      if (t->start_at <= absl::Now()) {
        StartNow(t);
      } else {
        delayed_.emplace(t->start_at, t->id);
      }
      return;
    }
    case Command::kCancel: {
      auto it = transfers_.find(command.id);
      if (it != transfers_.end()) Finish(it->second.get(), absl::CancelledError("cancelled"));
      return;
    }
    case Command::kResume: {
      auto it = transfers_.find(command.id);
      if (it == transfers_.end() || !it->second->paused) return;
      Transfer* t = it->second.get();
      t->paused = false;
      paused_.fetch_sub(1, std::memory_order_relaxed);
      if (options_.stall_timeout > absl::ZeroDuration()) {
        t->last_byte_at = absl::Now();
        ArmStallCheck(t, t->last_byte_at + options_.stall_timeout);
      }
      // May call OnBodyBytes right here with the bytes held since the pause.
      curl_easy_pause(t->easy.get(), CURLPAUSE_CONT);
      return;
    }
    case Command::kWatch: watched_->Add(command.id, command.fd, std::move(command.fn)); return;
    case Command::kUnwatch: watched_->Remove(command.id); return;
    case Command::kRun: command.fn(); return;
  }
}

void CurlEventLoop::StartNow(Transfer* t) {
  const HttpRequest& r = t->request;
  if (r.max_connections > 0 && !t->in_pool) {
    t->in_pool = true;
    t->pool_queued_at = absl::Now();
    if (!slots_.Acquire(r.connection_pool, r.max_connections, t->id))
      return;  // StartGranted sends it
  }
  if (absl::Status sent = SendNow(t); !sent.ok()) Finish(t, sent);
}

void CurlEventLoop::StartGranted() {
  std::vector<TransferId> granted;
  granted.swap(granted_);
  const absl::Time now = absl::Now();
  for (TransferId id : granted) {
    auto it = transfers_.find(id);
    if (it == transfers_.end()) continue;
    Transfer* t = it->second.get();
    // The request's timeout counts the time it waited for its connection.
    if (t->request.timeout != absl::InfiniteDuration()) {
      t->request.timeout -= now - t->pool_queued_at;
      if (t->request.timeout <= absl::ZeroDuration()) {
        Finish(t,
               absl::DeadlineExceededError(absl::StrCat(
                   "upstream request timed out waiting for one of the ", t->request.max_connections,
                   " connections of ", t->request.connection_pool, " (max_connections)")));
        continue;
      }
    }
    StartNow(t);
  }
}

void CurlEventLoop::Finish(Transfer* t, const absl::Status& status) {
  auto it = transfers_.find(t->id);
  if (it == transfers_.end()) return;
  std::unique_ptr<Transfer> owned = std::move(it->second);
  transfers_.erase(it);
  if (t->stall_check_armed) stall_checks_.erase(t->stall_check);
  // A completed transfer leaves its connection in the pool.
  if (t->in_multi && status.ok()) last_parked_ = absl::Now();
  // Removing an unfinished transfer closes its connection: the upstream stops generating.
  if (t->in_multi) curl_multi_remove_handle(multi_.get(), t->easy.get());
  // A handle whose transfer completed is reset and kept; one that failed is not reused.
  if (t->easy != nullptr && status.ok() && idle_handles_.size() < kMaxIdleHandles) {
    curl_easy_reset(t->easy.get());
    idle_handles_.push_back(std::move(t->easy));
  }
  if (t->paused) paused_.fetch_sub(1, std::memory_order_relaxed);
  if (t->in_pool) {
    for (TransferId next : slots_.Release(t->request.connection_pool, t->id))
      granted_.push_back(next);
  }
  live_.fetch_sub(1, std::memory_order_relaxed);
  owned->sink->OnDone(status);
}

}  // namespace claude
