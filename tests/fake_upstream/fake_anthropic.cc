// fake-anthropic's server: the listening socket, the libevent thread, each request's arrival
// (recorded, then answered by a scripted reply, the batches API, or echo mode) and the public
// methods. Scripted replies: scripted_replies.cc; echo mode: fake_echo_routes.h.
#include "tests/fake_upstream/fake_anthropic.h"

#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tests/fake_upstream/fake_anthropic_impl.h"
#include "tests/fake_upstream/fake_batches.h"
#include "tests/fake_upstream/fake_echo_routes.h"

namespace claude {
namespace testing {
namespace {

const char* MethodName(evhttp_cmd_type type) {
  switch (type) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
  }
  return "UNKNOWN";
}

std::once_flag evthread_once;

}  // namespace

absl::Status FakeAnthropic::Impl::Init(const std::string& host, int port) {
  if (port < 0 || port > 65535) return absl::InvalidArgumentError(absl::StrCat("bad port ", port));
  // Lets the destructor wake the loop from another thread.
  std::call_once(evthread_once, [] { evthread_use_pthreads(); });
  host_ = host;
  base_ = event_base_new();
  if (base_ == nullptr) return absl::InternalError("event_base_new failed");
  http_ = evhttp_new(base_);
  if (http_ == nullptr) return absl::InternalError("evhttp_new failed");
  evhttp_set_gencb(http_, &Impl::OnRequestCb, this);
  evhttp_set_default_content_type(http_, nullptr);  // scripted replies carry only their headers
  evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                        EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
  stop_event_ = event_new(base_, -1, 0, &Impl::OnStopCb, this);
  if (stop_event_ == nullptr) return absl::InternalError("event_new failed");

  // The listening socket is made here rather than by evhttp_bind_socket, for a long backlog:
  // hundreds of clients may connect at once.
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addrs = nullptr;
  const std::string port_text = absl::StrCat(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints,
                           &addrs);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve ", host, ": ", gai_strerror(rc)));
  }
  int fd = -1;
  std::string error = "no address";
  for (addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 1024) == 0) break;
    error = std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(addrs);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", host, ":", port, ": ", error));
  }
  sockaddr_storage addr;
  socklen_t addr_len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) {
    error = std::strerror(errno);
    close(fd);
    return absl::InternalError(absl::StrCat("getsockname: ", error));
  }
  port_ = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  // On failure libevent has already closed the socket.
  if (evhttp_accept_socket_with_handle(http_, fd) == nullptr) {
    return absl::InternalError("evhttp_accept_socket_with_handle failed");
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

FakeAnthropic::Impl::~Impl() {
  if (thread_.joinable()) {
    event_active(stop_event_, EV_TIMEOUT, 0);
    thread_.join();
  }
  if (http_ != nullptr) evhttp_free(http_);
  if (stop_event_ != nullptr) event_free(stop_event_);
  if (base_ != nullptr) event_base_free(base_);
}

void FakeAnthropic::Impl::Run() {
  // A write to a connection the client has closed raises SIGPIPE. Blocked in this thread only,
  // the signal stays pending here and the write just fails with EPIPE, without changing the
  // process's signal handling.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);

  event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);

  // Freeing the server frees every connection; the close callbacks of replies in progress see
  // shutting_down_ and do not count disconnects. Requests still on a connection are freed by
  // libevent with it.
  shutting_down_ = true;
  evhttp_free(http_);
  http_ = nullptr;
  states_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  active_ = 0;
}

void FakeAnthropic::Impl::OnRequest(evhttp_request* req) {
  RecordedRequest request;
  request.method = MethodName(evhttp_request_get_command(req));
  request.path = evhttp_request_get_uri(req);
  const evkeyvalq* headers = evhttp_request_get_input_headers(req);
  for (const evkeyval* h = headers->tqh_first; h != nullptr; h = h->next.tqe_next) {
    request.headers.emplace_back(absl::AsciiStrToLower(h->key), h->value);
  }
  evbuffer* input = evhttp_request_get_input_buffer(req);
  request.body.resize(evbuffer_get_length(input));
  if (!request.body.empty()) evbuffer_copyout(input, &request.body[0], request.body.size());

  std::optional<FakeReply> scripted;
  int n = 0;
  EchoSettings echo_settings;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n = ++request_count_;
    echo_settings.chat_completions_models = chat_completions_models_;
    echo_settings.cloud = cloud_;
    if (record_) requests_.push_back(request);
    if (!queue_.empty()) {
      scripted = std::move(queue_.front());
      queue_.pop_front();
    } else if (default_reply_.has_value()) {
      scripted = *default_reply_;
    }
  }
  // The batches API answers as a scripted reply would (its results are a lazy generator).
  if (!scripted.has_value()) scripted = batches_.Handle(request, n, base_url());
  if (scripted.has_value()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++active_;
  }
  changed_.notify_all();
  if (scripted.has_value()) {
    StartScripted(req, *std::move(scripted));
  } else {
    SendEcho(req, EchoRoute(request, n, echo_settings), n);
  }
}

void FakeAnthropic::Impl::SendEcho(evhttp_request* req, const EchoAnswer& answer, int n) {
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_add_header(out, "content-type", answer.content_type.c_str());
  for (const auto& [name, value] : answer.extra_headers)
    evhttp_add_header(out, name.c_str(), value.c_str());
  evhttp_add_header(out, "request-id", absl::StrCat("req_fake_", n).c_str());
  evhttp_add_header(out, "anthropic-ratelimit-requests-remaining", "999");
  evbuffer_add(evhttp_request_get_output_buffer(req), answer.body.data(), answer.body.size());
  evhttp_send_reply(req, answer.status, nullptr, nullptr);
}

// ---- FakeAnthropic --------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<FakeAnthropic>> FakeAnthropic::Start(const std::string& host,
                                                                    int port) {
  auto impl = std::make_unique<Impl>();
  if (absl::Status status = impl->Init(host, port); !status.ok()) return status;
  return std::unique_ptr<FakeAnthropic>(new FakeAnthropic(std::move(impl)));
}

FakeAnthropic::FakeAnthropic(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FakeAnthropic::~FakeAnthropic() = default;

int FakeAnthropic::port() const { return impl_->port(); }

std::string FakeAnthropic::base_url() const { return impl_->base_url(); }

FakeBatches& FakeAnthropic::batches() { return impl_->batches(); }

void FakeAnthropic::Enqueue(FakeReply reply) { impl_->Enqueue(std::move(reply)); }

void FakeAnthropic::SetDefaultReply(FakeReply reply) { impl_->SetDefaultReply(std::move(reply)); }

void FakeAnthropic::ClearDefaultReply() { impl_->SetDefaultReply(std::nullopt); }

void FakeAnthropic::SetCloudCredentials(FakeCloudCredentials credentials) {
  impl_->SetCloudCredentials(std::move(credentials));
}

void FakeAnthropic::set_record_requests(bool record) { impl_->set_record_requests(record); }

void FakeAnthropic::set_chat_completions_models(bool chat) {
  impl_->set_chat_completions_models(chat);
}

std::vector<RecordedRequest> FakeAnthropic::requests() const { return impl_->requests(); }

int FakeAnthropic::request_count() const { return impl_->request_count(); }

bool FakeAnthropic::WaitForRequests(int n, absl::Duration timeout) const {
  return impl_->WaitForCount(impl_->request_counter(), n, timeout);
}

int FakeAnthropic::disconnects() const { return impl_->disconnects(); }

bool FakeAnthropic::WaitForDisconnects(int n, absl::Duration timeout) const {
  return impl_->WaitForCount(impl_->disconnect_counter(), n, timeout);
}

int FakeAnthropic::active_replies() const { return impl_->active_replies(); }

}  // namespace testing
}  // namespace claude
