#include "service/upstream/curl_event_loop.h"

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

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace claude {
namespace {

// curl_global_init is not thread-safe; every loop calls this first.
absl::Status InitCurlOnce() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (code == CURLE_OK) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("curl_global_init: ", curl_easy_strerror(code)));
}

// A header line curl sends as is: a name of token characters, a value without CR, LF or NUL
// (which would end the line early and let the rest pose as another header). INTERNAL: headers
// come from the server's dialect and credentials (a key file holding a line break), never from
// the caller as is. The value is never echoed: it may be a credential.
absl::Status CheckHeader(const std::string& name, const std::string& value) {
  const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
  if (!name_ok) return absl::InternalError("an upstream request header has an invalid name");
  if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
    return absl::InternalError(absl::StrCat("upstream request header ", name, ": value holds CR, LF or NUL"));
  }
  return absl::OkStatus();
}

// Idle easy handles kept for reuse; beyond this many they are freed (each holds a receive
// buffer, and a burst of transfers should not pin its peak memory).
constexpr size_t kMaxIdleHandles = 16;

// Response headers kept per transfer (the rest are ignored): what the calls read of them is a
// handful of fields, and an upstream must not make the server hold megabytes of headers.
constexpr size_t kMaxResponseHeaderFields = 256;
constexpr size_t kMaxResponseHeaderBytes = 64 << 10;

// An address no sweep ever reaches: RefuseSocket refuses to open a socket for it.
constexpr char kSweepUrl[] = "http://127.0.0.1:9/";

// Events taken from epoll per wake.
constexpr int kMaxEvents = 256;

long Millis(absl::Duration d) {
  return static_cast<long>(std::min<int64_t>(absl::ToInt64Milliseconds(d), 1L << 30));
}

// CURLOPT_MAXAGE_CONN counts whole seconds, and closes a connection idle for more than it.
long IdleSeconds(absl::Duration d) {
  return std::max(1L, static_cast<long>(std::min<int64_t>(absl::ToInt64Seconds(d), 1L << 30)));
}

// The sweep's CURLOPT_OPENSOCKETFUNCTION: its connection is never made.
curl_socket_t RefuseSocket(void* /*clientp*/, curlsocktype /*purpose*/, curl_sockaddr* /*address*/) {
  return CURL_SOCKET_BAD;
}

}  // namespace

struct CurlEventLoop::Transfer {
  TransferId id = 0;
  HttpRequest request;
  std::shared_ptr<TransferSink> sink;
  absl::Time start_at;
  CurlEasy easy;
  CurlHeaderList header_list;  // lives as long as curl may send it
  bool in_multi = false;       // added to the multi handle
  // Counted against its pool's max_connections (holding a slot or waiting for one) since then.
  bool in_pool = false;
  absl::Time pool_queued_at;
  CurlEventLoop* loop = nullptr;
  int http_status = 0;
  HttpHeaders response_headers;
  bool head_delivered = false;
  // The final response's header block ended (its blank line): a response cut before that is a
  // connection failure, not a response.
  bool headers_complete = false;
  size_t header_bytes = 0;
  bool paused = false;
  bool aborted_by_sink = false;
  // When the request was handed to curl, and when the last byte of the response arrived (or the
  // transfer resumed from a pause): the stall timer's clock.
  absl::Time handed_at;
  absl::Time last_byte_at;
  bool stall_check_armed = false;
  std::multimap<absl::Time, TransferId>::iterator stall_check;  // valid while armed
  // Times curl was about to send the request (OnRequestReady); a re-send was refused.
  int sends = 0;
  bool resend_refused = false;
  char error[CURL_ERROR_SIZE] = {0};

  void DeliverHead() {
    if (head_delivered) return;
    head_delivered = true;
    if (http_status == 0) {
      long code = 0;
      curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &code);
      http_status = static_cast<int>(code);
    }
    sink->OnHead(http_status, response_headers);
  }
};

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

absl::Status CurlEventLoop::FailureStatus(const Transfer& t, int code) const {
  const char* detail = t.error[0] ? t.error : curl_easy_strerror(static_cast<CURLcode>(code));
  if (t.aborted_by_sink) return absl::AbortedError("transfer aborted by its reader");
  if (t.resend_refused) {
    return absl::UnavailableError(
        "upstream closed a reused connection before answering (not re-sent by the transport; "
        "the call's retry policy decides)");
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    // curl has two timeouts: the request's (its caller's deadline) and the connect timeout
    // (TCP and TLS handshake). Only the first is the caller's; the second is a connection
    // failure. The request's timeout is known to have passed when this much time went by.
    const absl::Duration elapsed = absl::Now() - t.handed_at;
    if (t.request.timeout != absl::InfiniteDuration() &&
        elapsed >= t.request.timeout - absl::Milliseconds(5)) {
      return absl::DeadlineExceededError(absl::StrCat("upstream request timed out: ", detail));
    }
    return absl::UnavailableError(
        absl::StrCat("upstream connection failed: connect or TLS handshake took over ",
                     absl::FormatDuration(ConnectTimeout(t.request)), ": ", detail));
  }
  return absl::UnavailableError(absl::StrCat(
      t.head_delivered ? "upstream connection broke mid-response: " : "upstream connection failed: ", detail));
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
  set(CURLOPT_MAXAGE_CONN, IdleSeconds(options_.idle_connection_timeout));
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

absl::Status CurlEventLoop::SendNow(Transfer* t) {
  if (!setup_.ok()) return setup_;
  const HttpRequest& r = t->request;
  // Signed here, on the loop thread and only now: credentials never travel through the request
  // objects that the rest of the server logs or inspects, and a signature is made at send time.
  HttpHeaders credentials;
  if (r.signer != nullptr) {
    absl::StatusOr<HttpHeaders> signed_headers = r.signer->Sign(r, absl::Now());
    if (!signed_headers.ok()) return signed_headers.status();
    credentials = *std::move(signed_headers);
  }
  CurlHeaderList& headers = t->header_list;
  if (absl::Status s = AppendHeader(headers, "Expect:"); !s.ok()) return s;  // no 100-continue round trip
  if (r.body != nullptr && FindHeader(r.headers, "content-type") == nullptr) {
    if (absl::Status s = AppendHeader(headers, "content-type: application/json"); !s.ok()) return s;
  }
  for (const HttpHeaders* list : {&r.headers, static_cast<const HttpHeaders*>(&credentials)}) {
    for (const auto& [name, value] : *list) {
      if (absl::Status s = CheckHeader(name, value); !s.ok()) return s;
      if (absl::Status s = AppendHeader(headers, name + ": " + value); !s.ok()) return s;
    }
  }

  if (!idle_handles_.empty()) {
    t->easy = std::move(idle_handles_.back());
    idle_handles_.pop_back();
  } else {
    t->easy.reset(curl_easy_init());
    if (t->easy == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
  }
  CURL* easy = t->easy.get();
  absl::Status s;
  auto set = [&](CURLoption option, auto value) {
    if (s.ok()) s = SetOption(easy, option, value);
  };
  set(CURLOPT_PRIVATE, static_cast<void*>(t));
  set(CURLOPT_ERRORBUFFER, t->error);
  set(CURLOPT_URL, r.url.c_str());
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_TCP_NODELAY, 1L);
  set(CURLOPT_CONNECTTIMEOUT_MS, Millis(ConnectTimeout(r)));
  if (r.timeout != absl::InfiniteDuration()) set(CURLOPT_TIMEOUT_MS, std::max(1L, Millis(r.timeout)));
  set(CURLOPT_MAXAGE_CONN, IdleSeconds(options_.idle_connection_timeout));
  set(CURLOPT_PREREQFUNCTION, &CurlEventLoop::OnRequestReady);
  set(CURLOPT_PREREQDATA, static_cast<void*>(t));
  set(CURLOPT_USERAGENT, options_.user_agent.c_str());
  // TLS to the upstream is always verified (peer and host name; curl's defaults, stated here so
  // nobody turns them off by accident).
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
  set(CURLOPT_HTTP_VERSION, static_cast<long>(options_.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1));
  if (r.method == "GET") {
    set(CURLOPT_HTTPGET, 1L);
  } else {
    set(CURLOPT_POST, 1L);
    static const std::string kEmpty;
    const std::string& body = r.body != nullptr ? *r.body : kEmpty;
    set(CURLOPT_POSTFIELDS, body.data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    if (r.method != "POST") set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  set(CURLOPT_HTTPHEADER, headers.get());
  set(CURLOPT_HEADERFUNCTION, &CurlEventLoop::OnHeaderLine);
  set(CURLOPT_HEADERDATA, static_cast<void*>(t));
  set(CURLOPT_WRITEFUNCTION, &CurlEventLoop::OnBodyBytes);
  set(CURLOPT_WRITEDATA, static_cast<void*>(t));
  if (!s.ok()) return s;
  if (const CURLMcode added = curl_multi_add_handle(multi_.get(), easy); added != CURLM_OK) {
    return absl::InternalError(absl::StrCat("curl_multi_add_handle: ", curl_multi_strerror(added)));
  }
  t->in_multi = true;
  t->handed_at = absl::Now();
  t->last_byte_at = t->handed_at;
  if (options_.stall_timeout > absl::ZeroDuration()) ArmStallCheck(t, t->handed_at + options_.stall_timeout);
  return absl::OkStatus();
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

size_t CurlEventLoop::OnHeaderLine(char* data, size_t size, size_t count, void* self) {
  auto* t = static_cast<Transfer*>(self);
  const size_t n = size * count;
  t->last_byte_at = absl::Now();
  absl::string_view line(data, n);
  line = absl::StripTrailingAsciiWhitespace(line);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response head (after 1xx or a redirect): forget the previous one.
    t->response_headers.clear();
    t->http_status = 0;
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    int status = 0;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &status)) t->http_status = status;
    return n;
  }
  if (line.empty()) {
    if (t->http_status >= 200) {
      t->headers_complete = true;
      t->DeliverHead();
    }
    return n;
  }
  t->header_bytes += n;
  if (t->response_headers.size() >= kMaxResponseHeaderFields || t->header_bytes > kMaxResponseHeaderBytes) {
    return n;  // kept out (see kMaxResponseHeaderBytes); the transfer goes on
  }
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    t->response_headers.emplace_back(
        absl::AsciiStrToLower(line.substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return n;
}

size_t CurlEventLoop::OnBodyBytes(char* data, size_t size, size_t count, void* self) {
  auto* t = static_cast<Transfer*>(self);
  const size_t n = size * count;
  t->last_byte_at = absl::Now();
  t->DeliverHead();
  switch (t->sink->OnBody(absl::string_view(data, n))) {
    case BodyAction::kContinue:
      return n;
    case BodyAction::kPause:
      t->paused = true;
      t->loop->paused_.fetch_add(1, std::memory_order_relaxed);
      return CURL_WRITEFUNC_PAUSE;
    case BodyAction::kAbort:
      t->aborted_by_sink = true;
      return 0;
  }
  return 0;
}

int CurlEventLoop::OnRequestReady(void* self, char* /*conn_primary_ip*/, char* /*conn_local_ip*/,
                                  int /*conn_primary_port*/, int /*conn_local_port*/) {
  auto* t = static_cast<Transfer*>(self);
  if (++t->sends == 1) return CURL_PREREQFUNC_OK;
  // curl retries a request itself when a reused connection died before any answer; the upstream
  // may have received the first one. Refused, so attempts, logs and metrics count every request.
  t->resend_refused = true;
  return CURL_PREREQFUNC_ABORT;
}

}  // namespace claude
