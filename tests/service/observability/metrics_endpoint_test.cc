// The /metrics listener over real loopback sockets: what it answers (200 with the collectables'
// text, 404, 405, HEAD without a body), the bounds on what a client may send, and the addresses
// it refuses with a status naming --metrics_listen.
#include "service/observability/metrics_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/observability/scrape_gauges.h"

namespace claude {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

// Bounds only how long a failing test waits; the endpoint answers at once.
constexpr std::chrono::seconds kPatience(30);

// A TCP connection to 127.0.0.1:`port`; -1 (and a test failure) when it cannot be made.
int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ADD_FAILURE() << "cannot connect to port " << port;
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

// Everything the endpoint sends on `fd` until it closes the connection.
std::string ReadToClose(int fd) {
  std::string received;
  char buffer[4096];
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) return received;
    received.append(buffer, static_cast<size_t>(n));
  }
  ADD_FAILURE() << "the endpoint never closed the connection";
  return received;
}

// Sends `request` on a new connection and returns the whole answer.
std::string Exchange(int port, const std::string& request) {
  const int fd = Connect(port);
  if (fd < 0) return "";
  EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string answer = ReadToClose(fd);
  close(fd);
  return answer;
}

std::string Body(const std::string& answer) {
  const size_t end_of_head = answer.find("\r\n\r\n");
  return end_of_head == std::string::npos ? "" : answer.substr(end_of_head + 4);
}

class MetricsEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto first = std::make_shared<ScrapeGauges>();
    first->Add("claude_grpc_test_first", "The first collectable's gauge.",
               [this] { return value_.load(); });
    auto second = std::make_shared<ScrapeGauges>();
    second->AddCounter("claude_grpc_test_second_total", "The second collectable's counter.",
                       [] { return 7.0; });
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> started =
        MetricsEndpoint::Start("127.0.0.1:0", {first, second});
    ASSERT_TRUE(started.ok()) << started.status();
    endpoint_ = std::move(*started);
    ASSERT_GT(endpoint_->port(), 0);
  }

  std::atomic<double> value_{3};
  std::unique_ptr<MetricsEndpoint> endpoint_;
};

TEST_F(MetricsEndpointTest, GetMetricsServesEveryCollectableInOrder) {
  const std::string answer =
      Exchange(endpoint_->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(answer, HasSubstr("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  EXPECT_THAT(answer, HasSubstr("\r\nConnection: close\r\n"));
  const std::string body = Body(answer);
  EXPECT_THAT(answer, HasSubstr(absl::StrCat("\r\nContent-Length: ", body.size(), "\r\n")));
  const size_t first = body.find("claude_grpc_test_first 3\n");
  const size_t second = body.find("claude_grpc_test_second_total 7\n");
  ASSERT_NE(first, std::string::npos) << body;
  ASSERT_NE(second, std::string::npos) << body;
  EXPECT_LT(first, second);
  EXPECT_THAT(body, HasSubstr("# TYPE claude_grpc_test_second_total counter\n"));
}

TEST_F(MetricsEndpointTest, EachScrapeReadsTheValuesAnew) {
  EXPECT_THAT(Body(Exchange(endpoint_->port(), "GET /metrics HTTP/1.1\r\n\r\n")),
              HasSubstr("claude_grpc_test_first 3\n"));
  value_ = 4;
  EXPECT_THAT(Body(Exchange(endpoint_->port(), "GET /metrics HTTP/1.1\r\n\r\n")),
              HasSubstr("claude_grpc_test_first 4\n"));
}

TEST_F(MetricsEndpointTest, AQueryAndBareNewlinesAreAccepted) {
  EXPECT_THAT(Exchange(endpoint_->port(), "GET /metrics?name[]=x HTTP/1.0\n\n"),
              StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsEndpointTest, HeadAnswersWithoutTheBody) {
  const std::string answer = Exchange(endpoint_->port(), "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(answer, EndsWith("\r\n\r\n"));
  EXPECT_THAT(answer, Not(HasSubstr("claude_grpc_test_first")));
  EXPECT_THAT(answer, Not(HasSubstr("Content-Length: 0\r\n")))
      << "the length GET's body would have";
}

TEST_F(MetricsEndpointTest, OtherPathsAreNotFound) {
  for (const char* path : {"/", "/metricsx", "/metrics/", "/METRICS", "*"}) {
    const std::string answer =
        Exchange(endpoint_->port(), absl::StrCat("GET ", path, " HTTP/1.1\r\n\r\n"));
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 404 Not Found\r\n")) << path;
    EXPECT_EQ(Body(answer), "GET /metrics only\n") << path;
  }
}

TEST_F(MetricsEndpointTest, OtherMethodsAreNotAllowed) {
  for (const char* line :
       {"POST /metrics HTTP/1.1", "get /metrics HTTP/1.1", "GET", "\x01\xff garbage"}) {
    const std::string answer = Exchange(endpoint_->port(), absl::StrCat(line, "\r\n\r\n"));
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n")) << line;
    EXPECT_EQ(Body(answer), "GET /metrics only\n") << line;
  }
}

TEST_F(MetricsEndpointTest, AnOversizedRequestHeadIsClosedUnanswered) {
  const std::string huge =
      "GET /metrics HTTP/1.1\r\nX-Filler: " + std::string(16 * 1024, 'a') + "\r\n\r\n";
  EXPECT_THAT(Exchange(endpoint_->port(), huge), IsEmpty());
  // The endpoint is free for the next scrape.
  EXPECT_THAT(Exchange(endpoint_->port(), "GET /metrics HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsEndpointTest, AClientThatLeavesEarlyDoesNotStopTheEndpoint) {
  const int fd = Connect(endpoint_->port());
  ASSERT_GE(fd, 0);
  const std::string partial = "GET /metr";
  ASSERT_EQ(send(fd, partial.data(), partial.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(partial.size()));
  close(fd);
  EXPECT_THAT(Exchange(endpoint_->port(), "GET /metrics HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST(MetricsEndpointStartTest, AnAddressWithoutAPortIsRefusedNamingTheFlag) {
  for (const char* address : {"127.0.0.1", "127.0.0.1:", ""}) {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint = MetricsEndpoint::Start(address, {});
    ASSERT_FALSE(endpoint.ok()) << address;
    EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(endpoint.status().message(), HasSubstr("--metrics_listen must be HOST:PORT"))
        << address;
  }
}

TEST(MetricsEndpointStartTest, AnUnresolvableOrTakenAddressIsUnavailable) {
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> bad_port =
      MetricsEndpoint::Start("127.0.0.1:http", {});
  ASSERT_FALSE(bad_port.ok());
  EXPECT_EQ(bad_port.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(bad_port.status().message(), HasSubstr("cannot serve metrics on 127.0.0.1:http"));

  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> first =
      MetricsEndpoint::Start("127.0.0.1:0", {});
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string taken = absl::StrCat("127.0.0.1:", (*first)->port());
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> second = MetricsEndpoint::Start(taken, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(),
            absl::StrCat("cannot serve metrics on ", taken, ": the port is in use"));
}

TEST(MetricsEndpointStartTest, BracketedIpv6ListensForIpv4Too) {
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint = MetricsEndpoint::Start("[::]:0", {});
  if (!endpoint.ok()) GTEST_SKIP() << "no IPv6 here: " << endpoint.status();
  EXPECT_THAT(Exchange((*endpoint)->port(), "GET /metrics HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 200 OK\r\n"));
}

}  // namespace
}  // namespace claude
