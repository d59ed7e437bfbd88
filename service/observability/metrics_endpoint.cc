#include "service/observability/metrics_endpoint.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include <prometheus/text_serializer.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace claude {
namespace {

constexpr size_t kMaxRequestHead = 8 * 1024;
constexpr std::chrono::seconds kConnectionTime(5);

// Waits until `fd` is ready for `events` or `deadline` passes; false on timeout or error.
bool WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    return n > 0 && (p.revents & events) != 0;
  }
}

// Splits HOST:PORT or [HOST]:PORT.
bool SplitAddress(const std::string& address, std::string* host, std::string* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) return false;
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  return true;
}

std::string Response(absl::string_view status, absl::string_view content_type, absl::string_view body) {
  return absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", content_type, "\r\nContent-Length: ", body.size(),
                      "\r\nConnection: close\r\n\r\n", body);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, std::vector<std::shared_ptr<prometheus::Collectable>> collectables) {
  std::string host, port;
  if (!SplitAddress(address, &host, &port)) {
    return absl::InvalidArgumentError(absl::StrCat("--metrics_listen must be HOST:PORT, got \"", address, "\""));
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int error = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found); error != 0) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address, ": ", gai_strerror(error)));
  }
  std::unique_ptr<MetricsEndpoint> self(new MetricsEndpoint());
  std::string problem = "no address";
  for (addrinfo* a = found; a != nullptr && self->listen_fd_ < 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1, zero = 0;
    // TIME_WAIT connections of a previous run must not block a restart; SO_REUSEPORT stays off,
    // so a port another process listens on fails here.
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    // "[::]" serves IPv4 clients too (mapped addresses).
    if (a->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 16) == 0) {
      self->listen_fd_ = fd;
    } else {
      problem = errno == EADDRINUSE ? "the port is in use" : std::strerror(errno);
      close(fd);
    }
  }
  freeaddrinfo(found);
  if (self->listen_fd_ < 0) return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address, ": ", problem));
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(self->listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  self->port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                  : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  self->stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (self->stop_fd_ < 0) return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  self->collectables_ = std::move(collectables);
  MetricsEndpoint* endpoint = self.get();
  self->thread_ = std::thread([endpoint] { endpoint->Serve(); });
  return self;
}

MetricsEndpoint::~MetricsEndpoint() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

void MetricsEndpoint::Serve() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    const int connection = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (connection < 0) continue;  // the client gave up, or out of descriptors: try again later
    Answer(connection);
    close(connection);
  }
}

void MetricsEndpoint::Answer(int connection) {
  const auto deadline = std::chrono::steady_clock::now() + kConnectionTime;
  std::string head;
  char buffer[2048];
  while (!absl::StrContains(head, "\r\n\r\n") && !absl::StrContains(head, "\n\n")) {
    if (head.size() >= kMaxRequestHead || !WaitFor(connection, POLLIN, deadline)) return;
    const ssize_t n = read(connection, buffer, sizeof(buffer));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;
    head.append(buffer, static_cast<size_t>(n));
  }
  const absl::string_view request_line = absl::string_view(head).substr(0, head.find_first_of("\r\n"));
  std::string response;
  if (!absl::StartsWith(request_line, "GET ") && !absl::StartsWith(request_line, "HEAD ")) {
    response = Response("405 Method Not Allowed", "text/plain", "GET /metrics only\n");
  } else {
    absl::string_view target = request_line.substr(request_line.find(' ') + 1);
    target = target.substr(0, target.find(' '));
    target = target.substr(0, target.find('?'));
    if (target != "/metrics") {
      response = Response("404 Not Found", "text/plain", "GET /metrics only\n");
    } else {
      response = Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", Render());
    }
  }
  if (absl::StartsWith(request_line, "HEAD ")) response.resize(response.find("\r\n\r\n") + 4);
  size_t sent = 0;
  while (sent < response.size()) {
    if (!WaitFor(connection, POLLOUT, deadline)) return;
    const ssize_t n = send(connection, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

std::string MetricsEndpoint::Render() const {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : collectables_) {
    std::vector<prometheus::MetricFamily> more = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace claude
