#include "service/upstream/bedrock_dialect.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/codec/json_mapping.h"
#include "service/errors/error_table.h"
#include "service/upstream/bedrock_replies.h"
#include "tests/fake_upstream/aws_event_stream_encoder.h"
#include "tests/service/upstream/cloud_dialect_testing.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/server_harness.h"

namespace claude {
namespace {

using ::claude::testing::BedrockChunkFrame;
using ::claude::testing::BedrockExceptionFrame;
using ::claude::testing::JsonEqual;
using ::claude::testing::ReadFixture;
using ::claude::testing::SseDataOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr char kBase[] = "https://bedrock-runtime.us-east-1.amazonaws.com";

BedrockDialect MakeDialect(std::shared_ptr<RequestSigner> signer = nullptr) {
  BedrockDialectOptions options;
  options.base_url = kBase;
  options.models = {{"claude-sonnet-4-5", "anthropic.claude-sonnet-4-5-20250929-v1:0"}};
  options.signer = std::move(signer);
  return BedrockDialect(std::move(options));
}

TEST(BedrockDialectTest, UnaryMessageGoesToInvokeWithTheBodyBedrockTakes) {
  auto signer = std::make_shared<SigV4RequestSigner>(
      std::make_shared<StaticAwsCredentials>(AwsCredentials{"AKID", "secret", ""}),
      SigV4Options{"us-east-1", "bedrock", true});
  const BedrockDialect dialect = MakeDialect(signer);
  absl::StatusOr<HttpRequest> http = dialect.CreateMessage(
      testing::Hello(64, "claude-sonnet-4-5"), false,
      {{"anthropic-beta", "b1, b2"}, {"anthropic-beta", "b3"}, {"traceparent", "00-ab-cd-01"}});
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->url, absl::StrCat(kBase, "/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke"));
  EXPECT_TRUE(JsonEqual(
      R"({"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["b1","b2","b3"],"max_tokens":64,"messages":[{"role":"user","content":"Hello there, Claude"}]})",
      *http->body));
  EXPECT_THAT(http->headers, Contains(Pair("accept", "application/json")));
  EXPECT_THAT(http->headers, Contains(Pair("traceparent", "00-ab-cd-01")));
  EXPECT_EQ(FindHeader(http->headers, "anthropic-beta"), nullptr);  // moved into the body
  EXPECT_EQ(*FindHeader(http->headers, "x-amz-content-sha256"), HexSha256(*http->body));
  EXPECT_EQ(http->signer, signer);

  absl::StatusOr<HttpHeaders> signed_headers =
      signer->Sign(*http, absl::FromCivil(absl::CivilSecond(2026, 1, 2, 3, 4, 5), absl::UTCTimeZone()));
  ASSERT_TRUE(signed_headers.ok()) << signed_headers.status();
  EXPECT_THAT(*signed_headers, Contains(Pair("x-amz-date", "20260102T030405Z")));
  EXPECT_THAT(*FindHeader(*signed_headers, "authorization"),
              HasSubstr("Credential=AKID/20260102/us-east-1/bedrock/aws4_request, SignedHeaders="
                        "accept;content-type;host;traceparent;x-amz-content-sha256;x-amz-date, "));
}

TEST(BedrockDialectTest, StreamGoesToInvokeWithResponseStreamWithoutStreamMember) {
  const BedrockDialect dialect = MakeDialect();
  absl::StatusOr<HttpRequest> http = dialect.CreateMessage(
      testing::Hello(64, "arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic.x"), true,
      {});
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->url, absl::StrCat(kBase, "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3A"
                                           "inference-profile%2Fus.anthropic.x/invoke-with-response-stream"));
  EXPECT_THAT(*http->body, ::testing::Not(HasSubstr("stream")));
  EXPECT_THAT(*http->body, ::testing::Not(HasSubstr("\"model\"")));
  EXPECT_THAT(http->headers, Contains(Pair("accept", "application/vnd.amazon.eventstream")));
}

TEST(BedrockDialectTest, PublicEndpoint) {
  EXPECT_EQ(BedrockEndpoint("eu-west-3"), "https://bedrock-runtime.eu-west-3.amazonaws.com");
}

TEST(BedrockDialectTest, SignerWithoutCredentialsIsUnavailable) {
  class NoCredentials final : public AwsCredentialsSource {
   public:
    absl::StatusOr<AwsCredentials> Credentials() override {
      return absl::UnavailableError("AWS_ACCESS_KEY_ID is not set");
    }
  };
  SigV4RequestSigner signer(std::make_shared<NoCredentials>(), SigV4Options{"us-east-1", "bedrock", true});
  HttpRequest request;
  request.url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/invoke";
  absl::StatusOr<HttpHeaders> headers = signer.Sign(request, absl::Now());
  EXPECT_EQ(headers.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(headers.status().message()), HasSubstr("no AWS credentials"));
}

TEST(BedrockDialectTest, CountTokensAndModelRpcsAreUnimplemented) {
  const BedrockDialect dialect = MakeDialect();
  EXPECT_EQ(dialect.CountTokens({}, {}).status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(dialect.ListModels({}, {}).status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(dialect.GetModel({}, {}).status().code(), absl::StatusCode::kUnimplemented);
}

TEST(BedrockDialectTest, UnaryRepliesAreTheMessagesApis) {
  claude::v1::Message message;
  ASSERT_TRUE(MakeDialect().DecodeReply(ReadFixture("text_basic.message.json"), &message).ok());
  EXPECT_FALSE(message.content().empty());
}

// ---- The event stream.

// text_basic.sse's events, each as a Bedrock chunk frame.
std::string BedrockTranscript() {
  std::string body;
  for (const std::string& data : SseDataOf(ReadFixture("text_basic.sse"))) {
    body += BedrockChunkFrame(data);
  }
  return body;
}

struct Decoded {
  std::vector<claude::v1::MessageStreamEvent> events;
  absl::Status feed;
  absl::Status finish;
};

Decoded DecodeInChunks(const std::string& body, const std::vector<size_t>& cuts) {
  Decoded out;
  std::unique_ptr<EventDecoder> decoder = MakeDialect().NewEventDecoder();
  const auto emit = [&](claude::v1::MessageStreamEvent e) {
    out.events.push_back(std::move(e));
    return absl::OkStatus();
  };
  size_t at = 0;
  for (size_t cut : cuts) {
    out.feed = decoder->Feed(absl::string_view(body).substr(at, cut - at), emit);
    if (!out.feed.ok()) return out;
    at = cut;
  }
  out.feed = decoder->Feed(absl::string_view(body).substr(at), emit);
  if (out.feed.ok()) out.finish = decoder->Finish(emit);
  return out;
}

TEST(BedrockEventDecoderTest, DecodesTheSameEventsAsTheSseTranscriptAtAnySplit) {
  const std::vector<std::string> expected = SseDataOf(ReadFixture("text_basic.sse"));
  const std::string body = BedrockTranscript();
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> cuts;
    for (size_t at = 0; at < body.size();) {
      at += std::uniform_int_distribution<size_t>(1, round == 0 ? 1 : 64)(rng);
      if (at < body.size()) cuts.push_back(at);
    }
    const Decoded d = DecodeInChunks(body, cuts);
    ASSERT_TRUE(d.feed.ok()) << d.feed;
    ASSERT_TRUE(d.finish.ok()) << d.finish;
    ASSERT_EQ(d.events.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_TRUE(JsonEqual(expected[i], MessageToJsonString(d.events[i]))) << i;
    }
  }
}

TEST(BedrockEventDecoderTest, ABadCrcIsInternal) {
  std::string body = BedrockTranscript();
  body[body.size() / 2] ^= 0x04;
  const Decoded d = DecodeInChunks(body, {});
  EXPECT_EQ(d.feed.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(d.feed.message()), HasSubstr("CRC mismatch"));
}

TEST(BedrockEventDecoderTest, AStreamCutShortIsUnavailable) {
  const std::string body = BedrockTranscript();
  const Decoded mid_frame = DecodeInChunks(body.substr(0, body.size() - 3), {});
  EXPECT_TRUE(mid_frame.feed.ok());
  EXPECT_EQ(mid_frame.finish.code(), absl::StatusCode::kUnavailable);
  const std::string first_frame = BedrockChunkFrame(SseDataOf(ReadFixture("text_basic.sse"))[0]);
  const Decoded no_stop = DecodeInChunks(first_frame, {});
  EXPECT_EQ(no_stop.events.size(), 1u);
  EXPECT_EQ(no_stop.finish.code(), absl::StatusCode::kUnavailable);
}

TEST(BedrockEventDecoderTest, MalformedChunksAreInternal) {
  using ::claude::testing::EncodeEventStreamMessage;
  const std::vector<std::pair<std::string, std::string>> chunk = {
      {":message-type", "event"}, {":event-type", "chunk"}};
  for (const std::string& payload : {std::string("not json"), std::string(R"({"bytes":5})"),
                                     std::string(R"({"bytes":"***"})"),
                                     std::string(R"({"bytes":"bm90IGpzb24="})")}) {
    const Decoded d = DecodeInChunks(EncodeEventStreamMessage(chunk, payload), {});
    EXPECT_EQ(d.feed.code(), absl::StatusCode::kInternal) << payload;
  }
  const Decoded unknown_type =
      DecodeInChunks(EncodeEventStreamMessage({{":message-type", "gossip"}}, "{}"), {});
  EXPECT_EQ(unknown_type.feed.code(), absl::StatusCode::kInternal);
}

struct ExceptionCase {
  std::string exception;
  std::string error_type;
  grpc::StatusCode code;
};

class BedrockExceptionTest : public ::testing::TestWithParam<ExceptionCase> {};

TEST_P(BedrockExceptionTest, BecomesAnErrorEventTheTableMaps) {
  const ExceptionCase& c = GetParam();
  const std::string body = BedrockChunkFrame(SseDataOf(ReadFixture("text_basic.sse"))[0]) +
                           BedrockExceptionFrame(c.exception, "it went wrong");
  const Decoded d = DecodeInChunks(body, {});
  ASSERT_TRUE(d.feed.ok()) << d.feed;
  EXPECT_TRUE(d.finish.ok()) << d.finish;  // an exception ends the stream
  ASSERT_EQ(d.events.size(), 2u);
  ASSERT_TRUE(d.events[1].has_error());
  EXPECT_EQ(d.events[1].error().error().type(), c.error_type);
  EXPECT_EQ(d.events[1].error().error().message(), c.exception + ": it went wrong");
  const grpc::Status status = StatusFromErrorEvent(d.events[1].error(), {});
  EXPECT_EQ(status.error_code(), c.code);
  EXPECT_THAT(status.error_message(), HasSubstr(c.exception + ": it went wrong"));
}

INSTANTIATE_TEST_SUITE_P(
    Exceptions, BedrockExceptionTest,
    ::testing::Values(
        ExceptionCase{"throttlingException", "rate_limit_error", grpc::StatusCode::RESOURCE_EXHAUSTED},
        ExceptionCase{"serviceUnavailableException", "overloaded_error", grpc::StatusCode::UNAVAILABLE},
        ExceptionCase{"modelStreamErrorException", "api_error", grpc::StatusCode::INTERNAL},
        ExceptionCase{"validationException", "invalid_request_error", grpc::StatusCode::INVALID_ARGUMENT},
        ExceptionCase{"internalServerException", "api_error", grpc::StatusCode::INTERNAL},
        ExceptionCase{"modelTimeoutException", "timeout_error", grpc::StatusCode::DEADLINE_EXCEEDED},
        ExceptionCase{"somethingNewException", "api_error", grpc::StatusCode::INTERNAL}),
    [](const ::testing::TestParamInfo<ExceptionCase>& param) { return param.param.exception; });

// ---- HTTP error responses.

TEST(BedrockErrorTest, ReadsTheExceptionHeaderAndTheMessage) {
  const HttpHeaders headers = {
      {"x-amzn-errortype", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"},
      {"x-amzn-requestid", "5f1b-aws"}};
  const UpstreamError error = ReadBedrockError(429, R"({"message":"Too many requests, please wait."})", headers);
  EXPECT_EQ(error.type, "rate_limit_error");
  EXPECT_EQ(error.code, "ThrottlingException");
  EXPECT_EQ(error.message, "ThrottlingException: Too many requests, please wait.");
  EXPECT_EQ(error.request_id, "5f1b-aws");
  const grpc::Status status = StatusFromUpstreamError(error, headers);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("(request-id 5f1b-aws)"));
}

TEST(BedrockErrorTest, ReadsTheTypeMemberWhenTheHeaderIsMissing) {
  const UpstreamError error = ReadBedrockError(
      400, R"({"__type":"com.amazon.bedrock#ValidationException","Message":"bad max_tokens"})", {});
  EXPECT_EQ(error.type, "invalid_request_error");
  EXPECT_EQ(error.message, "ValidationException: bad max_tokens");
}

TEST(BedrockErrorTest, ReadsTheMessagesApiShapeAndUnknownBodies) {
  testing::ExpectForeignErrorBodiesRead(MakeDialect());
}

}  // namespace
}  // namespace claude
