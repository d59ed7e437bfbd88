#include "service/upstream/curl_event_loop.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

// Idle connections kept open for reuse. curl's default scales with the handles added at each
// moment, which under a steady load of concurrent calls closes connections only to reopen them.
constexpr long kMaxIdleConnections = 1024;

// Events taken from epoll per wake.
constexpr int kMaxEvents = 256;

long Millis(absl::Duration d) {
  return static_cast<long>(std::min<int64_t>(absl::ToInt64Milliseconds(d), 1L << 30));
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
  CurlEventLoop* loop = nullptr;
  int http_status = 0;
  HttpHeaders response_headers;
  bool head_delivered = false;
  bool paused = false;
  bool aborted_by_sink = false;
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
  set(CURLMOPT_MAXCONNECTS, kMaxIdleConnections);
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
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  Wake();
  thread_.join();
  idle_handles_.clear();  // before the multi handle, whose connection cache they may share
  multi_.reset();
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

void CurlEventLoop::Post(Command command) {
  {
    std::lock_guard<std::mutex> lock(mu_);
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
      std::lock_guard<std::mutex> lock(mu_);
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
    // New transfers and resumed ones set curl's timer to now.
    if (curl_timer_ <= absl::Now()) {
      curl_timer_ = absl::InfiniteFuture();
      Drive(CURL_SOCKET_TIMEOUT, 0);
    }

    polling_.store(true);
    bool idle;
    {
      std::lock_guard<std::mutex> lock(mu_);
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
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    const CURLcode code = msg->data.result;
    absl::Status status;
    if (code == CURLE_OK) {
      t->DeliverHead();
    } else if (t->aborted_by_sink) {
      status = absl::AbortedError("transfer aborted by its reader");
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
      status = absl::DeadlineExceededError(
          absl::StrCat("upstream request timed out: ", t->error[0] ? t->error : curl_easy_strerror(code)));
    } else {
      status = absl::UnavailableError(absl::StrCat(
          t->head_delivered ? "upstream connection broke mid-response: " : "upstream connection failed: ",
          t->error[0] ? t->error : curl_easy_strerror(code)));
    }
    Finish(t, status);
  }
}

int CurlEventLoop::WaitMillis() const {
  absl::Time until = std::min(curl_timer_, absl::Now() + absl::Seconds(1));
  if (!delayed_.empty()) until = std::min(until, delayed_.begin()->first);
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
      // May call OnBodyBytes right here with the bytes held since the pause.
      curl_easy_pause(t->easy.get(), CURLPAUSE_CONT);
      return;
    }
  }
}

void CurlEventLoop::StartNow(Transfer* t) {
  if (absl::Status sent = SendNow(t); !sent.ok()) Finish(t, sent);
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
  set(CURLOPT_CONNECTTIMEOUT_MS, Millis(options_.connect_timeout));
  if (r.timeout != absl::InfiniteDuration()) set(CURLOPT_TIMEOUT_MS, std::max(1L, Millis(r.timeout)));
  if (options_.stall_timeout > absl::ZeroDuration()) {
    set(CURLOPT_LOW_SPEED_LIMIT, 1L);
    set(CURLOPT_LOW_SPEED_TIME, std::max(1L, Millis(options_.stall_timeout) / 1000));
  }
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
  return absl::OkStatus();
}

void CurlEventLoop::Finish(Transfer* t, const absl::Status& status) {
  auto it = transfers_.find(t->id);
  if (it == transfers_.end()) return;
  std::unique_ptr<Transfer> owned = std::move(it->second);
  transfers_.erase(it);
  // Removing an unfinished transfer closes its connection: the upstream stops generating.
  if (t->in_multi) curl_multi_remove_handle(multi_.get(), t->easy.get());
  // A handle whose transfer completed is reset and kept; one that failed is not reused.
  if (t->easy != nullptr && status.ok() && idle_handles_.size() < kMaxIdleHandles) {
    curl_easy_reset(t->easy.get());
    idle_handles_.push_back(std::move(t->easy));
  }
  if (t->paused) paused_.fetch_sub(1, std::memory_order_relaxed);
  live_.fetch_sub(1, std::memory_order_relaxed);
  owned->sink->OnDone(status);
}

size_t CurlEventLoop::OnHeaderLine(char* data, size_t size, size_t count, void* self) {
  auto* t = static_cast<Transfer*>(self);
  const size_t n = size * count;
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
    if (t->http_status >= 200) t->DeliverHead();
    return n;
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

}  // namespace claude
