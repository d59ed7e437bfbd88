// The server end to end: real gRPC calls to a real server whose curl loop talks HTTP to the
// fake Anthropic upstream over loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/codec/json_mapping.h"
#include "common/codec/message_accumulator.h"
#include "service/config/api_key_source.h"
#include "service/errors/error_table.h"
#include "service/sse/sse_parser.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using v1::CreateMessageRequest;
using v1::MessageStreamEvent;

struct StreamResult {
  std::vector<MessageStreamEvent> events;
  grpc::Status status;
  std::multimap<std::string, std::string> initial_metadata;
  std::multimap<std::string, std::string> trailing_metadata;
};

std::multimap<std::string, std::string> Copy(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  std::multimap<std::string, std::string> out;
  for (const auto& [k, v] : metadata) out.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
  return out;
}

StreamResult Stream(ServerHarness& h, const CreateMessageRequest& request,
                    absl::Duration deadline = absl::Seconds(30),
                    const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  for (const auto& [k, v] : metadata) context.AddMetadata(k, v);
  StreamResult result;
  auto reader = h.messages().StreamMessage(&context, request);
  MessageStreamEvent event;
  while (reader->Read(&event)) result.events.push_back(event);
  result.status = reader->Finish();
  result.initial_metadata = Copy(context.GetServerInitialMetadata());
  result.trailing_metadata = Copy(context.GetServerTrailingMetadata());
  return result;
}

absl::StatusOr<v1::Message> Fold(const std::vector<MessageStreamEvent>& events) {
  MessageAccumulator accumulator;
  for (const auto& e : events) {
    if (absl::Status s = accumulator.Apply(e); !s.ok()) return s;
  }
  return std::move(accumulator).Finish();
}


std::string TextDeltaEvent(const std::string& text) {
  return "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" +
         text + "\"}}\n\n";
}

const char kStreamHead[] =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_g\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"m\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";

// ---------------------------------------------------------------------------------------------
// Fixtures through the whole path.

class FixtureThroughServerTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureThroughServerTest, StreamedEventsAccumulateToTheFixtureMessage) {
  ServerHarness h;
  const std::string body = DocumentedTranscript(GetParam());
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{17}}) {
    h.upstream().Enqueue(SseReply(body, chunk));
    StreamResult r = Stream(h, Hello());
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    ASSERT_EQ(r.events.size(), SseDataOf(body).size()) << "every event is relayed, pings included";
    absl::StatusOr<v1::Message> message = Fold(r.events);
    ASSERT_TRUE(message.ok()) << message.status();
    EXPECT_TRUE(JsonEqual(ReadFixture(GetParam() + ".message.json"), MessageToJsonString(*message)));
  }
}

TEST_P(FixtureThroughServerTest, UnaryReturnsTheUpstreamMessage) {
  ServerHarness h;
  const std::string expected = ReadFixture(GetParam() + ".message.json");
  h.upstream().Enqueue(JsonReply(200, expected));
  grpc::ClientContext context;
  v1::Message message;
  grpc::Status status = h.messages().CreateMessage(&context, Hello(), &message);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(JsonEqual(expected, MessageToJsonString(message)));
  // A small max_tokens asks the upstream for a plain JSON response.
  EXPECT_THAT(h.upstream().requests().back().body, ::testing::Not(HasSubstr("\"stream\"")));
}

TEST_P(FixtureThroughServerTest, UnaryWithLargeMaxTokensStreamsUpstreamAndAccumulates) {
  ServerHarness h;
  h.upstream().Enqueue(SseReply(DocumentedTranscript(GetParam()), 5));
  grpc::ClientContext context;
  v1::Message message;
  grpc::Status status = h.messages().CreateMessage(&context, Hello(64000), &message);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(JsonEqual(ReadFixture(GetParam() + ".message.json"), MessageToJsonString(message)));
  EXPECT_THAT(h.upstream().requests().back().body, HasSubstr("\"stream\":true"));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureThroughServerTest,
                         ::testing::Values("text_basic", "thinking", "tool_use"));

TEST(ServerTest, ToolInputFragmentsAreRelayedExactlyEvenWhenTheyDoNotParse) {
  ServerHarness h;
  const std::string body = ReadFixture("tool_use.sse");  // the shared transcript, comma missing
  h.upstream().Enqueue(SseReply(body, 3));
  StreamResult r = Stream(h, Hello());
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  const std::vector<std::string> data = SseDataOf(body);
  ASSERT_EQ(r.events.size(), data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    EXPECT_TRUE(JsonEqual(data[i], MessageToJsonString(r.events[i]))) << i;
  }
}

TEST(ServerTest, UnaryOverStreamReportsInvalidToolInputInsteadOfInventingIt) {
  ServerHarness h;
  h.upstream().Enqueue(SseReply(ReadFixture("tool_use.sse")));
  grpc::ClientContext context;
  v1::Message message;
  grpc::Status status = h.messages().CreateMessage(&context, Hello(64000), &message);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(status.error_message(), HasSubstr("tool input"));
}

// ---------------------------------------------------------------------------------------------
// Errors.

TEST(ServerTest, ErrorEventAfter200EndsTheStreamAfterTheEventsAlreadySent) {
  ServerHarness h;
  h.upstream().Enqueue(SseReply(ReadFixture("error_after_200.sse")));
  StreamResult r = Stream(h, Hello());
  EXPECT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(r.status.error_message(), HasSubstr("Overloaded"));
  std::optional<ErrorDetails> details = ParseErrorDetails(r.status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, "overloaded_error");
  EXPECT_EQ(h.upstream().request_count(), 1) << "no retry once events reached the caller";
}

TEST(ServerTest, ConnectionDroppedMidStreamNeverEndsOk) {
  ServerHarness h;
  FakeReply reply = SseReply(std::string(kStreamHead) + TextDeltaEvent("partial"));
  reply.close_mid_body = true;
  h.upstream().Enqueue(reply);
  StreamResult r = Stream(h, Hello());
  EXPECT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(h.upstream().request_count(), 1);
}

TEST(ServerTest, StreamThatEndsCleanlyWithoutMessageStopIsNotOk) {
  ServerHarness h;
  h.upstream().Enqueue(SseReply(std::string(kStreamHead) + TextDeltaEvent("cut")));
  StreamResult r = Stream(h, Hello());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(r.status.error_message(), HasSubstr("before message_stop"));
}

struct ErrorRow {
  const char* fixture;
  int http_status;
  grpc::StatusCode code;
  const char* reason;
  const char* text;
};

class ErrorTableThroughServerTest : public ::testing::TestWithParam<ErrorRow> {};

TEST_P(ErrorTableThroughServerTest, UpstreamErrorsMapToTheirCodesWithDetails) {
  const ErrorRow& row = GetParam();
  HarnessOptions options;
  options.max_retries = 0;
  ServerHarness h(options);
  const std::string body = row.fixture[0] == '<' ? row.fixture : ReadFixture(row.fixture);
  for (bool stream : {false, true}) {
    h.upstream().Enqueue(JsonReply(row.http_status, body, {{"request-id", "req_hdr"}}));
    grpc::Status status;
    if (stream) {
      status = Stream(h, Hello()).status;
    } else {
      grpc::ClientContext context;
      v1::Message message;
      status = h.messages().CreateMessage(&context, Hello(), &message);
    }
    EXPECT_EQ(status.error_code(), row.code) << row.fixture << " " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(row.text));
    std::optional<ErrorDetails> details = ParseErrorDetails(status);
    ASSERT_TRUE(details.has_value());
    EXPECT_EQ(details->reason, row.reason);
    EXPECT_EQ(details->http_status, row.http_status);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ErrorTableThroughServerTest,
    ::testing::Values(
        ErrorRow{"error_400_anthropic.json", 400, grpc::StatusCode::INVALID_ARGUMENT, "invalid_request_error", "max_tokens: Field required"},
        ErrorRow{"error_401_gateway.json", 401, grpc::StatusCode::UNAVAILABLE, "UPSTREAM_AUTH_FAILED", "Unauthorized"},
        ErrorRow{"error_429_anthropic.json", 429, grpc::StatusCode::RESOURCE_EXHAUSTED, "rate_limit_error", "per-minute rate limit"},
        ErrorRow{"error_500_gateway.json", 500, grpc::StatusCode::INTERNAL, "api_error", "fetch failed"},
        ErrorRow{"error_529_anthropic.json", 529, grpc::StatusCode::UNAVAILABLE, "overloaded_error", "Overloaded"},
        ErrorRow{"<html><body>502 Bad Gateway</body></html>", 502, grpc::StatusCode::UNAVAILABLE, "http_502", "502 Bad Gateway"}));

TEST(ServerTest, EmptyErrorBodyStillGivesAClearStatus) {
  HarnessOptions options;
  options.max_retries = 0;
  ServerHarness h(options);
  h.upstream().Enqueue(JsonReply(403, ""));
  grpc::ClientContext context;
  v1::Message message;
  grpc::Status status = h.messages().CreateMessage(&context, Hello(), &message);
  // The upstream refused the server's key: not the caller's PERMISSION_DENIED.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("403"));
  EXPECT_EQ(ParseErrorDetails(status)->reason, kUpstreamAuthFailedReason);
}

// A server of its own, without retries, in front of `base_url` instead of the fake upstream.
class StandaloneServer {
 public:
  explicit StandaloneServer(const std::string& base_url) {
    ServerConfig config;
    config.listen = "127.0.0.1:0";
    config.upstream.base_url = base_url;
    config.max_retries = 0;
    auto server = ClaudeServer::Start(std::move(config));
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::Messages::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                      grpc::InsecureChannelCredentials()));
  }
  v1::Messages::Stub& stub() { return *stub_; }
  CurlEventLoop& loop() { return server_->loop(); }

 private:
  std::unique_ptr<ClaudeServer> server_;
  std::unique_ptr<v1::Messages::Stub> stub_;
};

TEST(ServerTest, UnreachableUpstreamIsUnavailable) {
  StandaloneServer server("http://127.0.0.1:1");  // nothing listens there
  grpc::ClientContext context;
  v1::Message message;
  grpc::Status status = server.stub().CreateMessage(&context, Hello(), &message);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("upstream"));
}

TEST(ServerTest, InvalidRequestNamesTheFieldAndNeverReachesTheUpstream) {
  ServerHarness h;
  CreateMessageRequest request = Hello();
  request.clear_max_tokens();
  grpc::ClientContext context;
  v1::Message message;
  grpc::Status status = h.messages().CreateMessage(&context, request, &message);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("max_tokens"));
  StreamResult r = Stream(h, request);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(h.upstream().request_count(), 0);
}

// Every problem is named, in the message and as one google.rpc.BadRequest field violation each.
TEST(ServerTest, ValidationFailuresCarryOneFieldViolationPerProblem) {
  ServerHarness h;
  CreateMessageRequest request = Hello();
  request.clear_model();
  request.set_max_tokens(0);
  request.set_temperature(2);
  request.mutable_messages(0)->set_role(v1::ROLE_UNSPECIFIED);
  grpc::ClientContext context;
  v1::Message message;
  grpc::Status status = h.messages().CreateMessage(&context, request, &message);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "model: required; messages[0].role: must be user or assistant; max_tokens: must be at least 1; "
            "temperature: must be between 0 and 1");
  std::optional<ErrorDetails> details = ParseErrorDetails(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, "invalid_request");
  using Violation = std::pair<std::string, std::string>;
  EXPECT_THAT(details->field_violations,
              ::testing::ElementsAre(Violation{"model", "required"},
                                     Violation{"messages[0].role", "must be user or assistant"},
                                     Violation{"max_tokens", "must be at least 1"},
                                     Violation{"temperature", "must be between 0 and 1"}));
  EXPECT_EQ(h.upstream().request_count(), 0);
}

TEST(ServerTest, TheApiKeyNeverAppearsInErrors) {
  HarnessOptions options;
  options.max_retries = 0;
  options.api_key = "sk-ant-api03-secretsecret";
  ServerHarness h(options);
  h.upstream().Enqueue(JsonReply(401, R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key sk-ant-api03-secretsecret"}})"));
  grpc::ClientContext context;
  v1::Message message;
  grpc::Status status = h.messages().CreateMessage(&context, Hello(), &message);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ParseErrorDetails(status)->reason, kUpstreamAuthFailedReason);
  EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr("secretsecret")));
  EXPECT_THAT(status.error_details(), ::testing::Not(HasSubstr("secretsecret")));
}

// ---------------------------------------------------------------------------------------------
// Retries.

TEST(ServerTest, OverloadedIsRetriedThenSucceeds) {
  ServerHarness h;
  h.upstream().Enqueue(JsonReply(529, ReadFixture("error_529_anthropic.json"), {{"retry-after-ms", "10"}}));
  h.upstream().Enqueue(SseReply(ReadFixture("text_basic.sse")));
  StreamResult r = Stream(h, Hello());
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(h.upstream().request_count(), 2);
}

TEST(ServerTest, RetryAfterIsHonored) {
  ServerHarness h;
  h.upstream().Enqueue(JsonReply(429, ReadFixture("error_429_anthropic.json"), {{"retry-after-ms", "400"}}));
  h.upstream().Enqueue(JsonReply(200, ReadFixture("text_basic.message.json")));
  const absl::Time start = absl::Now();
  grpc::ClientContext context;
  v1::Message message;
  grpc::Status status = h.messages().CreateMessage(&context, Hello(), &message);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(400));
  EXPECT_EQ(h.upstream().request_count(), 2);
}

TEST(ServerTest, ShouldRetryHeaderIsHonoredBothWays) {
  ServerHarness h;
  h.upstream().Enqueue(JsonReply(500, ReadFixture("error_500_gateway.json"), {{"x-should-retry", "false"}}));
  grpc::ClientContext c1;
  v1::Message m;
  EXPECT_EQ(h.messages().CreateMessage(&c1, Hello(), &m).error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(h.upstream().request_count(), 1);
  // 400 is never retried by status, but x-should-retry: true overrides.
  h.upstream().Enqueue(JsonReply(400, ReadFixture("error_400_anthropic.json"), {{"x-should-retry", "true"}, {"retry-after-ms", "1"}}));
  h.upstream().Enqueue(JsonReply(200, ReadFixture("text_basic.message.json")));
  grpc::ClientContext c2;
  EXPECT_TRUE(h.messages().CreateMessage(&c2, Hello(), &m).ok());
  EXPECT_EQ(h.upstream().request_count(), 3);
}

TEST(ServerTest, RetriesStopAtTheLimit) {
  ServerHarness h;  // 2 retries
  for (int i = 0; i < 4; ++i) {
    h.upstream().Enqueue(JsonReply(529, ReadFixture("error_529_anthropic.json"), {{"retry-after-ms", "1"}}));
  }
  grpc::ClientContext context;
  v1::Message m;
  EXPECT_EQ(h.messages().CreateMessage(&context, Hello(), &m).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(h.upstream().request_count(), 3);
}

TEST(ServerTest, NoRetryPastTheDeadline) {
  ServerHarness h;
  h.upstream().Enqueue(JsonReply(429, ReadFixture("error_429_anthropic.json"), {{"retry-after", "10"}}));
  const absl::Time start = absl::Now();
  StreamResult r = Stream(h, Hello(), absl::Seconds(3));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << r.status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3)) << "it fails at once rather than waiting out the deadline";
  EXPECT_EQ(h.upstream().request_count(), 1);
  std::optional<ErrorDetails> details = ParseErrorDetails(r.status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->retry_delay, absl::Seconds(10));
}

// ---------------------------------------------------------------------------------------------
// Cancellation and deadlines: the upstream sees its connection closed at once.

// A loopback listener whose accept queue is full: a new connection to it hangs in SYN_SENT,
// which is how an upstream that is slow to accept looks.
class UnacceptingListener {
 public:
  UnacceptingListener() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listener_, 0), 0);
    socklen_t len = sizeof(addr);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    for (int i = 0; i < 2; ++i) {  // fill the queue (backlog 0 holds one)
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      fillers_.push_back(fd);
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ~UnacceptingListener() {
    for (int fd : fillers_) close(fd);
    close(listener_);
  }
  int port() const { return port_; }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

TEST(ServerTest, CancelWhileConnectingAbortsTheTransfer) {
  UnacceptingListener listener;
  StandaloneServer server(absl::StrCat("http://127.0.0.1:", listener.port()));
  CurlEventLoop& loop = server.loop();
  grpc::ClientContext context;
  auto reader = server.stub().StreamMessage(&context, Hello());
  const absl::Time until = absl::Now() + Scaled(absl::Seconds(5));
  while (loop.live_transfers() == 0 && absl::Now() < until) absl::SleepFor(absl::Milliseconds(1));
  absl::SleepFor(absl::Milliseconds(100));  // curl is now waiting for the handshake
  ASSERT_EQ(loop.live_transfers(), 1);
  const absl::Time cancelled_at = absl::Now();
  context.TryCancel();
  while (loop.live_transfers() != 0 && absl::Now() < cancelled_at + Scaled(absl::Seconds(1))) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(loop.live_transfers(), 0);
  EXPECT_LT(absl::Now() - cancelled_at, Scaled(absl::Milliseconds(100)));
  MessageStreamEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST(ServerTest, CancelWhileWaitingForTheFirstByteClosesTheUpstream) {
  ServerHarness h;
  h.upstream().Enqueue(HungReply());
  grpc::ClientContext context;
  auto reader = h.messages().StreamMessage(&context, Hello());
  ASSERT_TRUE(h.upstream().WaitForRequests(1, Scaled(absl::Seconds(5))));
  context.TryCancel();
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Milliseconds(100))));
  MessageStreamEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(2))));
}

TEST(ServerTest, CancelMidStreamClosesTheUpstream) {
  int sent = 0;  // declared first: the fake's thread uses it until the harness is gone
  ServerHarness h;
  FakeReply drip;
  drip.headers = {{"content-type", "text/event-stream"}};
  drip.generator = [&sent](std::string* piece) {
    *piece = sent == 0 ? std::string(kStreamHead) : TextDeltaEvent("drip");
    return ++sent < 100000;
  };
  drip.delay_between_chunks = absl::Milliseconds(5);
  h.upstream().Enqueue(drip);
  grpc::ClientContext context;
  auto reader = h.messages().StreamMessage(&context, Hello());
  MessageStreamEvent event;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(reader->Read(&event));
  context.TryCancel();
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Milliseconds(100))));
  while (reader->Read(&event)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(2))));
}

TEST(ServerTest, DeadlineClosesTheUpstream) {
  ServerHarness h;
  h.upstream().Enqueue(HungReply());
  const absl::Time start = absl::Now();
  StreamResult r = Stream(h, Hello(), absl::Milliseconds(300));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Milliseconds(100))))
      << "disconnect seen " << absl::Now() - start << " after the call began";
  EXPECT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(2))));
}

TEST(ServerTest, UnaryCancelClosesTheUpstream) {
  ServerHarness h;
  h.upstream().Enqueue(HungReply());
  grpc::ClientContext context;
  const CreateMessageRequest request = Hello();  // the async call borrows it until done
  v1::Message message;
  absl::Notification done;
  grpc::Status status;
  h.messages().async()->CreateMessage(&context, &request, &message,
                                      [&](grpc::Status s) {
                                        status = s;
                                        done.Notify();
                                      });
  ASSERT_TRUE(h.upstream().WaitForRequests(1, Scaled(absl::Seconds(5))));
  context.TryCancel();
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Milliseconds(100))));
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(Scaled(absl::Seconds(5))));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(2))));
}

// ---------------------------------------------------------------------------------------------
// Backpressure.

long RssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

TEST(ServerTest, SlowReaderCostsBoundedMemoryAndPausesTheUpstream) {
  // 50 MB of text in 200 events of 256 KB; declared before the harness, whose fake upstream
  // reads them on its own thread until the harness is destroyed.
  const std::string text(256 * 1024, 'x');
  const std::string delta = TextDeltaEvent(text);
  constexpr int kDeltas = 200;
  int produced = 0;
  HarnessOptions options;
  options.call.stream_buffer_bytes = 256 * 1024;
  ServerHarness h(options);
  FakeReply big;
  big.headers = {{"content-type", "text/event-stream"}};
  big.generator = [&](std::string* piece) {
    if (produced == 0) {
      *piece = kStreamHead;
    } else if (produced <= kDeltas) {
      *piece = delta;
    } else if (produced == kDeltas + 1) {
      *piece = "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
               "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\n"
               "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    } else {
      return false;
    }
    ++produced;
    return true;
  };
  h.upstream().Enqueue(big);

  grpc::ClientContext context;
  auto reader = h.messages().StreamMessage(&context, Hello());
  MessageStreamEvent event;
  ASSERT_TRUE(reader->Read(&event));
  const long rss_before = RssKb();
  long rss_peak = rss_before;
  bool saw_pause = false;
  size_t text_bytes = 0;
  int events = 1;
  while (reader->Read(&event)) {
    ++events;
    if (event.has_content_block_delta()) text_bytes += event.content_block_delta().delta().text_delta().text().size();
    absl::SleepFor(absl::Milliseconds(10));  // one event per 10 ms
    saw_pause = saw_pause || h.loop().paused_transfers() > 0;
    rss_peak = std::max(rss_peak, RssKb());
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(text_bytes, kDeltas * text.size());
  EXPECT_TRUE(saw_pause) << "the upstream transfer is paused while the reader lags";
  // Stated bound: the per-stream queue (256 KB) plus gRPC's and the kernel's socket buffers
  // and one event in flight: well under 16 MB, while 50 MB pass through. (Sanitizers' own
  // memory use makes resident size meaningless there.)
  std::cout << "slow reader: resident memory grew by " << (rss_peak - rss_before)
            << " kB while 50 MB passed through" << std::endl;
#ifndef CLAUDE_SANITIZED
  EXPECT_LT(rss_peak - rss_before, 16 * 1024) << "RSS grew by " << (rss_peak - rss_before) << " kB";
#endif
}

// ---------------------------------------------------------------------------------------------
// Many streams at once.

class CountingReader final : public grpc::ClientReadReactor<MessageStreamEvent> {
 public:
  CountingReader(v1::Messages::Stub* stub, const CreateMessageRequest& request, std::atomic<int>* ok,
                 std::atomic<int>* finished) : ok_(ok), finished_(finished), request_(request) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
    stub->async()->StreamMessage(&context_, &request_, this);
    StartRead(&event_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (absl::Status s = accumulator_.Apply(event_); !s.ok()) failed_ = true;
    StartRead(&event_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::StatusOr<v1::Message> message = std::move(accumulator_).Finish();
    if (status.ok() && !failed_ && message.ok() && message->content_size() == 1 &&
        message->content(0).text().text() == "Echo: Hello there, Claude") {
      ok_->fetch_add(1);
    }
    finished_->fetch_add(1);
    delete this;
  }

 private:
  std::atomic<int>* ok_;
  std::atomic<int>* finished_;
  grpc::ClientContext context_;
  CreateMessageRequest request_;
  MessageStreamEvent event_;
  MessageAccumulator accumulator_;
  bool failed_ = false;
};

TEST(ServerTest, AThousandConcurrentStreamsAllCompleteCorrectly) {
  rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  ServerHarness h;
  h.upstream().set_record_requests(false);
  std::atomic<int> ok{0}, finished{0};
#ifdef CLAUDE_SANITIZED_THREAD
  constexpr int kStreams = 200;  // ThreadSanitizer is ~10x slower; the interleavings are what matter
#else
  constexpr int kStreams = 1000;
#endif
  for (int i = 0; i < kStreams; ++i) new CountingReader(&h.messages(), Hello(), &ok, &finished);
  const absl::Time until = absl::Now() + Scaled(absl::Seconds(120));
  while (finished.load() < kStreams && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(finished.load(), kStreams);
  EXPECT_EQ(ok.load(), kStreams);
  EXPECT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(5))));
}

// ---------------------------------------------------------------------------------------------
// Headers, metadata, keys, and the other RPCs.

// With the interleaved-thinking beta the API lets the thinking budget exceed max_tokens, so the
// server must not refuse what the API accepts.
TEST(ServerTest, InterleavedThinkingBetaAllowsABudgetAboveMaxTokens) {
  ServerHarness h;
  CreateMessageRequest request = Hello(4096);
  request.mutable_thinking()->mutable_enabled()->set_budget_tokens(8192);
  StreamResult refused = Stream(h, request, absl::Seconds(30));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("thinking.budget_tokens"));
  EXPECT_EQ(h.upstream().request_count(), 0);

  h.upstream().Enqueue(SseReply(ReadFixture("thinking.sse")));
  StreamResult r = Stream(h, request, absl::Seconds(30),
                          {{"anthropic-beta", "context-1m-2025-08-07, interleaved-thinking-2025-05-14"}});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(*FindHeader(h.upstream().requests().back().headers, "anthropic-beta"),
            "context-1m-2025-08-07, interleaved-thinking-2025-05-14");
}

TEST(ServerTest, HeadersGoUpAndRateLimitsComeBackAsMetadata) {
  ServerHarness h;
  FakeReply reply = SseReply(ReadFixture("text_basic.sse"));
  reply.headers.push_back({"request-id", "req_stream_1"});
  reply.headers.push_back({"anthropic-ratelimit-tokens-remaining", "12345"});
  reply.headers.push_back({"x-unrelated", "no"});
  h.upstream().Enqueue(reply);
  StreamResult r = Stream(h, Hello(), absl::Seconds(30), {{"anthropic-beta", "context-1m-2025-08-07"}, {"anthropic-beta", "fine-grained-tool-streaming-2025-05-14"}});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  auto find = [](const std::multimap<std::string, std::string>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? std::string("(absent)") : it->second;
  };
  EXPECT_EQ(find(r.initial_metadata, "request-id"), "req_stream_1");
  EXPECT_EQ(find(r.initial_metadata, "anthropic-ratelimit-tokens-remaining"), "12345");
  EXPECT_EQ(find(r.trailing_metadata, "request-id"), "req_stream_1");
  EXPECT_EQ(find(r.initial_metadata, "x-unrelated"), "(absent)");

  const RecordedRequest sent = h.upstream().requests().back();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.path, "/v1/messages");
  EXPECT_EQ(*FindHeader(sent.headers, "x-api-key"), "sk-ant-test-key");
  EXPECT_EQ(*FindHeader(sent.headers, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(*FindHeader(sent.headers, "anthropic-beta"), "context-1m-2025-08-07,fine-grained-tool-streaming-2025-05-14");
  EXPECT_TRUE(JsonEqual(CreateMessageBody(Hello(), true), sent.body));

  // Unary: trailing metadata.
  h.upstream().Enqueue(JsonReply(200, ReadFixture("text_basic.message.json"), {{"request-id", "req_unary_1"}}));
  grpc::ClientContext context;
  v1::Message message;
  ASSERT_TRUE(h.messages().CreateMessage(&context, Hello(), &message).ok());
  auto trailing = Copy(context.GetServerTrailingMetadata());
  EXPECT_EQ(find(trailing, "request-id"), "req_unary_1");
}

TEST(ServerTest, BearerAuthForGateways) {
  HarnessOptions options;
  options.auth_scheme = "bearer";
  options.api_key = "gw-token";
  ServerHarness h(options);
  ASSERT_TRUE(Stream(h, Hello()).status.ok());
  const RecordedRequest sent = h.upstream().requests().back();
  EXPECT_EQ(*FindHeader(sent.headers, "authorization"), "Bearer gw-token");
  EXPECT_EQ(FindHeader(sent.headers, "x-api-key"), nullptr);
}

TEST(ServerTest, KeyFileIsReReadWhenItChanges) {
  const std::string path = ::testing::TempDir() + "/api_key";
  std::ofstream(path) << "sk-ant-first\n";
  HarnessOptions options;
  options.api_key_source = std::make_shared<FileApiKeySource>(path);
  ServerHarness h(options);
  ASSERT_TRUE(Stream(h, Hello()).status.ok());
  EXPECT_EQ(*FindHeader(h.upstream().requests().back().headers, "x-api-key"), "sk-ant-first");
  std::ofstream(path) << "sk-ant-second-rotated\n";
  absl::SleepFor(absl::Milliseconds(1100));  // the loop looks at the file at most once a second
  ASSERT_TRUE(Stream(h, Hello()).status.ok());
  EXPECT_EQ(*FindHeader(h.upstream().requests().back().headers, "x-api-key"), "sk-ant-second-rotated");
}

TEST(ServerTest, EchoStreamUnaryCountTokensAndModels) {
  ServerHarness h;
  StreamResult r = Stream(h, Hello());
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  absl::StatusOr<v1::Message> folded = Fold(r.events);
  ASSERT_TRUE(folded.ok());
  EXPECT_EQ(folded->content(0).text().text(), "Echo: Hello there, Claude");

  grpc::ClientContext c1;
  v1::Message message;
  ASSERT_TRUE(h.messages().CreateMessage(&c1, Hello(), &message).ok());
  EXPECT_EQ(message.content(0).text().text(), "Echo: Hello there, Claude");

  grpc::ClientContext c2;
  v1::CountTokensRequest count;
  count.set_model("claude-sonnet-4-5");
  *count.add_messages() = Hello().messages(0);
  v1::CountTokensResponse tokens;
  ASSERT_TRUE(h.messages().CountTokens(&c2, count, &tokens).ok());
  EXPECT_GT(tokens.input_tokens(), 0);
  EXPECT_EQ(h.upstream().requests().back().path, "/v1/messages/count_tokens");

  grpc::ClientContext c3;
  v1::ListModelsRequest list;
  list.set_limit(5);
  v1::ListModelsResponse models;
  ASSERT_TRUE(h.models().ListModels(&c3, list, &models).ok());
  ASSERT_EQ(models.data_size(), 1);
  EXPECT_EQ(h.upstream().requests().back().path, "/v1/models?limit=5");

  grpc::ClientContext c4;
  v1::GetModelRequest get;
  get.set_model_id(models.data(0).id());
  v1::ModelInfo info;
  ASSERT_TRUE(h.models().GetModel(&c4, get, &info).ok());
  EXPECT_EQ(info.display_name(), models.data(0).display_name());

  grpc::ClientContext c5;
  get.set_model_id("no-such/model");
  EXPECT_EQ(h.models().GetModel(&c5, get, &info).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(h.upstream().requests().back().path, "/v1/models/no-such%2Fmodel");
}

}  // namespace
}  // namespace claude::testing
