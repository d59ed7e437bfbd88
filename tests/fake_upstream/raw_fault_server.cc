#include "tests/fake_upstream/raw_fault_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace claude {
namespace testing {
namespace {

// Requests larger than these end the connection: the server under test sends small heads, and
// a test server must not grow without bound either.
constexpr size_t kMaxRequestHead = 64 << 10;
constexpr size_t kMaxRequestBody = 64 << 20;

constexpr char kValidMessage[] =
    R"({"id":"msg_raw_1","type":"message","role":"assistant","model":"claude-raw",)"
    R"("content":[{"type":"text","text":"All good."}],"stop_reason":"end_turn",)"
    R"("stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":3}})";

std::string ValidStream() {
  std::string out;
  const auto event = [&out](absl::string_view type, absl::string_view data) {
    absl::StrAppend(&out, "event: ", type, "\ndata: ", data, "\n\n");
  };
  event("message_start",
        R"({"type":"message_start","message":{"id":"msg_raw_1","type":"message",)"
        R"("role":"assistant","model":"claude-raw","content":[],"stop_reason":null,)"
        R"("stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}})");
  event("content_block_start",
        R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
  event("content_block_delta",
        R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"All good."}})");
  event("content_block_stop", R"({"type":"content_block_stop","index":0})");
  event("message_delta",
        R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
        R"("usage":{"output_tokens":3}})");
  event("message_stop", R"({"type":"message_stop"})");
  return out;
}

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace

RawReply RawResponse(int status, std::vector<std::string> headers, std::string body,
                     bool keep_alive) {
  std::string head = absl::StrCat("HTTP/1.1 ", status, " X\r\n");
  for (const std::string& h : headers) absl::StrAppend(&head, h, "\r\n");
  absl::StrAppend(&head, "content-length: ", body.size(), "\r\n");
  if (!keep_alive) head += "connection: close\r\n";
  head += "\r\n";
  RawReply reply;
  reply.steps.push_back(RawStep{absl::ZeroDuration(), head + body});
  reply.close = !keep_alive;
  return reply;
}

absl::StatusOr<std::unique_ptr<RawFaultServer>> RawFaultServer::Start(Mode mode) {
  std::unique_ptr<RawFaultServer> server(new RawFaultServer(mode));
  if (absl::Status s = server->Listen(); !s.ok()) return s;
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

absl::Status RawFaultServer::Listen() {
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (stop_fd_ < 0 || listen_fd_ < 0) return absl::InternalError("socket/eventfd failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  // A black hole's queue holds a single connection (backlog 0), filled below.
  const int backlog = mode_ == Mode::kBlackHole ? 0 : 128;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, backlog) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return absl::InternalError(absl::StrCat("cannot listen on loopback: ", std::strerror(errno)));
  }
  port_ = ntohs(addr.sin_port);
  if (mode_ == Mode::kBlackHole) {
    // Connect until a connect no longer completes: the accept queue is full from then on, and
    // the kernel drops further SYNs, so a client's connect hangs until its own timeout.
    for (int i = 0; i < 16; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0) break;
      backlog_fillers_.push_back(fd);
      if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) continue;
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, 200) == 0) break;  // still connecting: the queue is full
    }
  }
  return absl::OkStatus();
}

RawFaultServer::~RawFaultServer() {
  const uint64_t one = 1;
  if (stop_fd_ >= 0) (void)!write(stop_fd_, &one, sizeof one);
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(connections_);
  }
  for (std::thread& t : threads) t.join();
  for (int fd : open_fds_) close(fd);
  for (int fd : backlog_fillers_) close(fd);
  if (listen_fd_ >= 0) close(listen_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

std::string RawFaultServer::base_url() const { return absl::StrCat("http://127.0.0.1:", port_); }

void RawFaultServer::Enqueue(RawReply reply) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(std::move(reply));
}

int RawFaultServer::request_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int RawFaultServer::connection_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

void RawFaultServer::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    // A black hole never accepts: only the stop signal is watched.
    const int watched = mode_ == Mode::kBlackHole ? 1 : 2;
    if (poll(fds, watched, -1) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) return;
    if (watched < 2 || fds[1].revents == 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    ++accepted_;
    open_fds_.push_back(fd);
    if (mode_ == Mode::kScripted) connections_.emplace_back([this, fd] { Serve(fd); });
  }
}

bool RawFaultServer::Wait(int fd, absl::Duration d) {
  const absl::Time until = absl::Now() + d;
  for (;;) {
    const int64_t left = absl::ToInt64Milliseconds(until - absl::Now());
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLRDHUP, 0}};
    const int ready = poll(fds, 2, d == absl::InfiniteDuration() ? -1 : static_cast<int>(std::max<int64_t>(left, 0)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready != 0) return false;  // stopping, or the client closed
    if (absl::Now() >= until) return true;
  }
}

bool RawFaultServer::ReadRequest(int fd, std::string* body) {
  std::string in;
  size_t head_end = std::string::npos;
  size_t content_length = 0;
  char buf[16384];
  for (;;) {
    if (head_end == std::string::npos) {
      head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        for (absl::string_view line :
             absl::StrSplit(absl::string_view(in).substr(0, head_end), "\r\n")) {
          const size_t colon = line.find(':');
          if (colon == absl::string_view::npos) continue;
          if (absl::AsciiStrToLower(line.substr(0, colon)) == "content-length" &&
              !absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(colon + 1)), &content_length)) {
            return false;
          }
        }
        if (content_length > kMaxRequestBody) return false;
      } else if (in.size() > kMaxRequestHead) {
        return false;
      }
    }
    if (head_end != std::string::npos && in.size() >= head_end + 4 + content_length) {
      *body = in.substr(head_end + 4, content_length);
      return true;
    }
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (fds[0].revents != 0) return false;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return false;
    }
    in.append(buf, static_cast<size_t>(n));
  }
}

RawReply RawFaultServer::NextReply(const std::string& request_body) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_;
  if (!queue_.empty()) {
    RawReply reply = std::move(queue_.front());
    queue_.pop_front();
    return reply;
  }
  if (absl::StrContains(request_body, "\"stream\":true")) {
    return RawResponse(200, {"content-type: text/event-stream", "request-id: req_raw"}, ValidStream(),
                       /*keep_alive=*/true);
  }
  return RawResponse(200, {"content-type: application/json", "request-id: req_raw"}, kValidMessage,
                     /*keep_alive=*/true);
}

void RawFaultServer::Serve(int fd) {
  SetNonBlocking(fd);
  std::string body;
  while (ReadRequest(fd, &body)) {
    const RawReply reply = NextReply(body);
    for (const RawStep& step : reply.steps) {
      if (step.delay_before > absl::ZeroDuration() && !Wait(fd, step.delay_before)) {
        shutdown(fd, SHUT_RDWR);
        return;
      }
      absl::string_view left = step.bytes;
      while (!left.empty()) {
        const ssize_t n = send(fd, left.data(), left.size(), MSG_NOSIGNAL);
        if (n > 0) {
          left.remove_prefix(static_cast<size_t>(n));
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
          // The client reads slowly (or is paused): wait for room, or for the end.
          pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLOUT, 0}};
          poll(fds, 2, -1);
          if (fds[0].revents != 0 || (fds[1].revents & (POLLERR | POLLHUP)) != 0) {
            shutdown(fd, SHUT_RDWR);
            return;
          }
          continue;
        }
        shutdown(fd, SHUT_RDWR);
        return;
      }
    }
    if (reply.hang) Wait(fd, absl::InfiniteDuration());
    if (reply.close || reply.hang) {
      // Both directions: the client sees the end of the response now.
      shutdown(fd, SHUT_RDWR);
      return;
    }
  }
  shutdown(fd, SHUT_RDWR);
}

}  // namespace testing
}  // namespace claude
