// Vertex AI and Amazon Bedrock end to end: a real server with --upstream_api=vertex|bedrock in
// front of fake-anthropic's Vertex and Bedrock endpoints, which check the token, verify the
// SigV4 signature against a known secret, and frame Bedrock streams with real CRCs.
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "service/errors/error_table.h"
#include "tests/fake_upstream/aws_event_stream_encoder.h"
#include "tests/integration/server_calls.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kGoogleToken[] = "ya29.fake-access-token";
constexpr char kAwsKeyId[] = "AKIDFAKE";
constexpr char kAwsSecret[] = "fake/secret+key";

HarnessOptions VertexOptions(std::string token = kGoogleToken) {
  HarnessOptions options;
  options.max_retries = 0;
  options.configure = [token](ServerConfig& config) {
    config.upstream_api = "vertex";
    config.vertex.project = "my-project";
    config.vertex.region = "us-east5";
    config.vertex.access_token = std::make_shared<StaticApiKeySource>(token);
  };
  return options;
}

HarnessOptions BedrockOptions(std::string secret = kAwsSecret, std::string session_token = "") {
  HarnessOptions options;
  options.max_retries = 0;
  options.configure = [secret, session_token](ServerConfig& config) {
    config.upstream_api = "bedrock";
    config.bedrock.region = "us-east-1";
    config.bedrock.credentials =
        std::make_shared<StaticAwsCredentials>(AwsCredentials{kAwsKeyId, secret, session_token});
  };
  return options;
}

void RequireCloudCredentials(ServerHarness& h) {
  FakeCloudCredentials cloud;
  cloud.google_token = kGoogleToken;
  cloud.aws_access_key_id = kAwsKeyId;
  cloud.aws_secret_access_key = kAwsSecret;
  cloud.aws_region = "us-east-1";
  h.upstream().SetCloudCredentials(cloud);
}

std::string TextOf(const claude::v1::Message& message) {
  std::string text;
  for (const auto& block : message.content()) text += block.text().text();
  return text;
}

// The stream carried fake-anthropic's echo of Hello() whole, from message_start to message_stop,
// whatever the upstream's framing.
void ExpectEchoOfHello(const StreamResult& result) {
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_FALSE(result.events.empty());
  EXPECT_TRUE(result.events.front().has_message_start());
  EXPECT_TRUE(result.events.back().has_message_stop());
  const absl::StatusOr<claude::v1::Message> message = Fold(result.events);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(TextOf(*message), "Echo: Hello there, Claude");
}

// ---- Vertex AI.

TEST(VertexEndToEndTest, UnaryCallsRawPredictWithTheToken) {
  ServerHarness h(VertexOptions());
  RequireCloudCredentials(h);
  const auto [status, reply] = CreateMessage(h);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(TextOf(reply), "Echo: Hello there, Claude");
  EXPECT_EQ(reply.model(), "claude-sonnet-4-5");
  const std::vector<RecordedRequest> requests = h.upstream().requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path,
            "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/"
            "claude-sonnet-4-5:rawPredict");
  EXPECT_EQ(*FindHeader(requests[0].headers, "authorization"), std::string("Bearer ") + kGoogleToken);
  EXPECT_THAT(requests[0].body, HasSubstr(R"("anthropic_version":"vertex-2023-10-16")"));
}

TEST(VertexEndToEndTest, StreamsFromStreamRawPredict) {
  ServerHarness h(VertexOptions());
  RequireCloudCredentials(h);
  ASSERT_NO_FATAL_FAILURE(ExpectEchoOfHello(Stream(h, Hello())));
  EXPECT_THAT(h.upstream().requests().at(0).path, HasSubstr("claude-sonnet-4-5:streamRawPredict"));
}

TEST(VertexEndToEndTest, CountsTokens) {
  ServerHarness h(VertexOptions());
  RequireCloudCredentials(h);
  claude::v1::CountTokensRequest request;
  request.set_model("claude-sonnet-4-5");
  *request.add_messages() = Hello().messages(0);
  grpc::ClientContext context;
  claude::v1::CountTokensResponse reply;
  const grpc::Status status = h.messages().CountTokens(&context, request, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.input_tokens(), 3);
  EXPECT_THAT(h.upstream().requests().at(0).path, HasSubstr("/models/count-tokens:rawPredict"));
}

TEST(VertexEndToEndTest, AWrongTokenIsReportedInGooglesWords) {
  ServerHarness h(VertexOptions("ya29.stale"));
  RequireCloudCredentials(h);
  const auto [status, reply] = CreateMessage(h);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.error_message(), HasSubstr("upstream HTTP 401"));
  EXPECT_THAT(status.error_message(), HasSubstr("Request had invalid authentication credentials"));
}

TEST(VertexEndToEndTest, GoogleErrorBodiesGoThroughTheErrorTable) {
  ServerHarness h(VertexOptions());
  h.upstream().Enqueue(JsonReply(
      429, R"({"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}})"));
  const auto [status, reply] = CreateMessage(h);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("rate_limit_error: Quota exceeded"));
  const std::optional<ErrorDetails> details = ParseErrorDetails(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->http_status, 429);
}

// ---- Amazon Bedrock.

TEST(BedrockEndToEndTest, UnaryCallIsSignedAndTheFakeVerifiesIt) {
  ServerHarness h(BedrockOptions(kAwsSecret, "session-token/abc="));
  RequireCloudCredentials(h);
  const auto [status, reply] =
      CreateMessage(h, Hello(), absl::Seconds(30), {{"anthropic-beta", "context-1m-2025-08-07"}});
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(TextOf(reply), "Echo: Hello there, Claude");
  const RecordedRequest request = h.upstream().requests().at(0);
  EXPECT_EQ(request.path, "/model/claude-sonnet-4-5/invoke");
  EXPECT_THAT(*FindHeader(request.headers, "authorization"),
              StartsWith(absl::StrCat("AWS4-HMAC-SHA256 Credential=", kAwsKeyId, "/")));
  EXPECT_EQ(*FindHeader(request.headers, "x-amz-security-token"), "session-token/abc=");
  EXPECT_THAT(request.body, HasSubstr(R"("anthropic_beta":["context-1m-2025-08-07"])"));
}

TEST(BedrockEndToEndTest, AWrongSecretIsRefusedByTheFake) {
  ServerHarness h(BedrockOptions("not-the-secret"));
  RequireCloudCredentials(h);
  const auto [status, reply] = CreateMessage(h);
  // The upstream refused the server's own credentials: never the caller's PERMISSION_DENIED.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ParseErrorDetails(status)->reason, "UPSTREAM_AUTH_FAILED");
  EXPECT_THAT(status.error_message(), HasSubstr("InvalidSignatureException"));
  EXPECT_THAT(status.error_message(), HasSubstr("signature mismatch"));
}

TEST(BedrockEndToEndTest, StreamsAnEventStream) {
  ServerHarness h(BedrockOptions());
  RequireCloudCredentials(h);
  ASSERT_NO_FATAL_FAILURE(ExpectEchoOfHello(Stream(h, Hello())));
  EXPECT_EQ(h.upstream().requests().at(0).path, "/model/claude-sonnet-4-5/invoke-with-response-stream");
}

FakeReply EventStreamReply(std::string body, size_t chunk_size = 7) {
  FakeReply reply;
  reply.headers = {{"content-type", "application/vnd.amazon.eventstream"}};
  for (size_t at = 0; at < body.size(); at += chunk_size) reply.chunks.push_back(body.substr(at, chunk_size));
  return reply;
}

// The first events of text_basic.sse, as Bedrock frames.
std::string FirstFrames(size_t count) {
  std::string body;
  const std::vector<std::string> events = SseDataOf(ReadFixture("text_basic.sse"));
  for (size_t i = 0; i < count && i < events.size(); ++i) body += BedrockChunkFrame(events[i]);
  return body;
}

TEST(BedrockEndToEndTest, ABadCrcEndsTheStreamInternal) {
  ServerHarness h(BedrockOptions());
  std::string bad = BedrockChunkFrame(SseDataOf(ReadFixture("text_basic.sse"))[2]);
  bad[bad.size() - 2] ^= 0x10;  // the message CRC
  h.upstream().Enqueue(EventStreamReply(FirstFrames(2) + bad));
  const StreamResult result = Stream(h, Hello());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(result.status.error_message(), HasSubstr("CRC mismatch"));
  EXPECT_EQ(result.events.size(), 2u);  // the events before the bad frame were relayed
}

struct ExceptionRow {
  std::string exception;
  grpc::StatusCode code;
};

class BedrockExceptionEndToEndTest : public ::testing::TestWithParam<ExceptionRow> {};

TEST_P(BedrockExceptionEndToEndTest, EndsTheStreamWithTheTablesCode) {
  ServerHarness h(BedrockOptions());
  h.upstream().Enqueue(EventStreamReply(
      FirstFrames(2) + BedrockExceptionFrame(GetParam().exception, "the model had a problem")));
  const StreamResult result = Stream(h, Hello());
  EXPECT_EQ(result.status.error_code(), GetParam().code) << result.status.error_message();
  EXPECT_THAT(result.status.error_message(),
              HasSubstr(GetParam().exception + ": the model had a problem"));
}

INSTANTIATE_TEST_SUITE_P(
    Exceptions, BedrockExceptionEndToEndTest,
    ::testing::Values(ExceptionRow{"throttlingException", grpc::StatusCode::RESOURCE_EXHAUSTED},
                      ExceptionRow{"serviceUnavailableException", grpc::StatusCode::UNAVAILABLE},
                      ExceptionRow{"modelStreamErrorException", grpc::StatusCode::INTERNAL},
                      ExceptionRow{"validationException", grpc::StatusCode::INVALID_ARGUMENT},
                      ExceptionRow{"internalServerException", grpc::StatusCode::INTERNAL},
                      ExceptionRow{"modelTimeoutException", grpc::StatusCode::DEADLINE_EXCEEDED}),
    [](const ::testing::TestParamInfo<ExceptionRow>& param) { return param.param.exception; });

TEST(BedrockEndToEndTest, HttpErrorsGoThroughTheErrorTable) {
  ServerHarness h(BedrockOptions());
  h.upstream().Enqueue(JsonReply(400, R"({"message":"max_tokens: must be positive"})",
                                 {{"x-amzn-errortype", "ValidationException:http://internal.amazon.com/"},
                                  {"x-amzn-requestid", "aws-req-1"}}));
  const auto [status, reply] = CreateMessage(h);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("ValidationException: max_tokens: must be positive"));
  EXPECT_THAT(status.error_message(), HasSubstr("aws-req-1"));
}

TEST(BedrockEndToEndTest, CountTokensIsUnimplemented) {
  ServerHarness h(BedrockOptions());
  claude::v1::CountTokensRequest request;
  request.set_model("claude-sonnet-4-5");
  *request.add_messages() = Hello().messages(0);
  grpc::ClientContext context;
  claude::v1::CountTokensResponse reply;
  const grpc::Status status = h.messages().CountTokens(&context, request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(h.upstream().request_count(), 0);
}

}  // namespace
}  // namespace claude::testing
