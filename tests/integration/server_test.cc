// The server end to end: real gRPC calls to a real server whose curl loop talks HTTP to the
// fake Anthropic upstream over loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
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
#include "tests/integration/server_calls.h"
#include "tests/testing/error_fixtures.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/scratch_file.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/wait_until.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;

// Above the harness's --unary_stream_threshold (16384), CreateMessage asks the upstream for a
// stream and folds it into the one Message it returns.
constexpr int64_t kMaxTokensThatStreamUpstream = 64000;

// CreateMessage with kMaxTokensThatStreamUpstream; the reply lands in `*message`.
grpc::Status CreateOverStream(ServerHarness& h, v1::Message* message) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  return h.messages().CreateMessage(&context, Hello(kMaxTokensThatStreamUpstream), message);
}

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
  v1::Message message;
  grpc::Status status = CreateOverStream(h, &message);
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
  v1::Message message;
  grpc::Status status = CreateOverStream(h, &message);
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

// `body` with `http_status`, to a unary call and to a stream: the status has `code`, a message
// naming `text`, and details with `reason` and the HTTP status.
void ExpectErrorReplyMapsTo(int http_status, const std::string& body, grpc::StatusCode code,
                            const std::string& reason, const std::string& text) {
  HarnessOptions options;
  options.max_retries = 0;
  ServerHarness h(options);
  for (bool stream : {false, true}) {
    h.upstream().Enqueue(JsonReply(http_status, body, {{"request-id", "req_hdr"}}));
    grpc::Status status;
    if (stream) {
      status = Stream(h, Hello()).status;
    } else {
      grpc::ClientContext context;
      v1::Message message;
      status = h.messages().CreateMessage(&context, Hello(), &message);
    }
    EXPECT_EQ(status.error_code(), code)
        << (stream ? "stream: " : "unary: ") << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(text));
    std::optional<ErrorDetails> details = ParseErrorDetails(status);
    ASSERT_TRUE(details.has_value());
    EXPECT_EQ(details->reason, reason);
    EXPECT_EQ(details->http_status, http_status);
  }
}

class ErrorFixtureThroughServerTest : public ::testing::TestWithParam<ErrorFixture> {};

TEST_P(ErrorFixtureThroughServerTest, UpstreamErrorsMapToTheirCodesWithDetails) {
  const ErrorFixture& row = GetParam();
  ExpectErrorReplyMapsTo(row.http_status, ReadFixture(row.file), row.code, row.reason,
                         row.upstream_message);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ErrorFixtureThroughServerTest,
                         ::testing::ValuesIn(kErrorFixtures));

TEST(ServerTest, AnHtmlErrorPageMapsByItsHttpStatus) {
  ExpectErrorReplyMapsTo(502, "<html><body>502 Bad Gateway</body></html>",
                         grpc::StatusCode::UNAVAILABLE, "http_502", "502 Bad Gateway");
}

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
// Error events and cuts in a unary call that streams upstream: nothing has reached the caller
// yet, so a retryable error event is retried wherever it comes in the stream.

TEST(ServerTest, UnaryOverStreamRetriesAnOverloadedErrorEventThenSucceeds) {
  const std::string overloaded = ErrorEvent("overloaded_error", "Overloaded");
  // Before any content, and after some: the partial message is thrown away either way.
  for (const std::string& failed_attempt :
       {overloaded, std::string(kStreamHead) + TextDeltaEvent("lost") + overloaded}) {
    ServerHarness h;
    h.upstream().Enqueue(SseReply(failed_attempt));
    h.upstream().Enqueue(SseReply(ReadFixture("text_basic.sse")));
    v1::Message message;
    grpc::Status status = CreateOverStream(h, &message);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(JsonEqual(ReadFixture("text_basic.message.json"), MessageToJsonString(message)));
    ASSERT_EQ(h.upstream().request_count(), 2);
    for (const RecordedRequest& sent : h.upstream().requests())
      EXPECT_THAT(sent.body, HasSubstr("\"stream\":true"));
  }
}

TEST(ServerTest, UnaryOverStreamEndsWithTheUpstreamsInvalidRequestErrorEvent) {
  ServerHarness h;
  h.upstream().Enqueue(
      SseReply(ErrorEvent("invalid_request_error", "prompt is too long: 210000 tokens")));
  v1::Message message;
  grpc::Status status = CreateOverStream(h, &message);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("prompt is too long: 210000 tokens"));
  std::optional<ErrorDetails> details = ParseErrorDetails(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, "invalid_request_error");
  EXPECT_EQ(h.upstream().request_count(), 1) << "the caller's mistake is not retried";
}

// Retries off (fault_table_test's unary_accumulated_cut row retries a cut): whether the body
// ends cleanly or the connection drops, the message folded so far is never returned as whole.
TEST(ServerTest, UnaryOverStreamCutBeforeMessageStopIsUnavailable) {
  HarnessOptions options;
  options.max_retries = 0;
  ServerHarness h(options);
  const std::string partial = std::string(kStreamHead) + TextDeltaEvent("cut");
  FakeReply dropped = SseReply(partial);
  dropped.close_mid_body = true;
  const std::pair<FakeReply, std::string> cuts[] = {{SseReply(partial), "before message_stop"},
                                                    {dropped, "upstream unavailable"}};
  for (const auto& [cut, message_part] : cuts) {
    h.upstream().Enqueue(cut);
    v1::Message message;
    grpc::Status status = CreateOverStream(h, &message);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(message_part));
  }
  EXPECT_EQ(h.upstream().request_count(), 2);
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
  const ScratchFile key_file;
  key_file.Write("sk-ant-first\n");
  HarnessOptions options;
  options.api_key_source = std::make_shared<FileApiKeySource>(key_file.path());
  ServerHarness h(options);
  ASSERT_TRUE(Stream(h, Hello()).status.ok());
  EXPECT_EQ(*FindHeader(h.upstream().requests().back().headers, "x-api-key"), "sk-ant-first");
  key_file.Write("sk-ant-second-rotated\n");
  // The loop looks at the file at most once a second: calls go on until one carries the new key.
  EXPECT_TRUE(WaitUntil(
      [&] {
        EXPECT_TRUE(Stream(h, Hello()).status.ok());
        return *FindHeader(h.upstream().requests().back().headers, "x-api-key") ==
               "sk-ant-second-rotated";
      },
      Scaled(absl::Seconds(5)), absl::Milliseconds(50)));
  // Every call before it carried the old key.
  const std::vector<RecordedRequest> sent = h.upstream().requests();
  for (size_t i = 0; i + 1 < sent.size(); ++i)
    EXPECT_EQ(*FindHeader(sent[i].headers, "x-api-key"), "sk-ant-first");
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
