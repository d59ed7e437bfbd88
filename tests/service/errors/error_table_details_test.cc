// The error table's details: RetryInfo from retry-after headers, error events after HTTP 200,
// API keys redacted everywhere, transport failures, and the upstream's own error details.
#include "service/errors/error_table.h"
#include "service/upstream/messages_api_error.h"

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/codec/json_mapping.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/service/errors/error_table_testing.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------------------------
// RetryInfo.

absl::Duration RetryDelayOf(const grpc::Status& status) {
  const std::optional<ErrorDetails> details = ParseErrorDetails(status);
  EXPECT_TRUE(details.has_value());
  if (!details || !details->retry_delay) return -absl::Seconds(1);
  return *details->retry_delay;
}

TEST(RetryInfoTest, FromRetryAfterMs) {
  const grpc::Status status = StatusFromHttpError(
      429, claude::testing::ReadFixture("error_429_anthropic.json"), {{"retry-after-ms", "1500"}});
  EXPECT_EQ(RetryDelayOf(status), absl::Milliseconds(1500));
  EXPECT_EQ(RetryDelayOf(StatusFromHttpError(529, "", {{"retry-after-ms", "12.5"}})),
            absl::Microseconds(12500));
}

TEST(RetryInfoTest, FromRetryAfterSeconds) {
  EXPECT_EQ(RetryDelayOf(StatusFromHttpError(429, "", {{"retry-after", "7"}})), absl::Seconds(7));
  EXPECT_EQ(RetryDelayOf(StatusFromHttpError(429, "", {{"retry-after", "2.25"}})),
            absl::Milliseconds(2250));
  // Not capped: the caller learns what the server asked for, even when it is long.
  EXPECT_EQ(RetryDelayOf(StatusFromHttpError(429, "", {{"retry-after", "3600"}})), absl::Hours(1));
}

TEST(RetryInfoTest, FromRetryAfterHttpDate) {
  const std::string date = absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                            absl::Now() + absl::Seconds(30), absl::UTCTimeZone());
  const absl::Duration delay = RetryDelayOf(StatusFromHttpError(503, "", {{"retry-after", date}}));
  EXPECT_GT(delay, absl::Seconds(27));
  EXPECT_LE(delay, absl::Seconds(30));
}

TEST(RetryInfoTest, RetryAfterMsWins) {
  EXPECT_EQ(
      RetryDelayOf(StatusFromHttpError(429, "", {{"retry-after", "9"}, {"retry-after-ms", "250"}})),
      absl::Milliseconds(250));
  // An invalid retry-after-ms falls back to retry-after.
  EXPECT_EQ(RetryDelayOf(
                StatusFromHttpError(429, "", {{"retry-after-ms", "soon"}, {"retry-after", "9"}})),
            absl::Seconds(9));
}

TEST(RetryInfoTest, AbsentOrInvalid) {
  for (const HttpHeaders& headers :
       {HttpHeaders{}, HttpHeaders{{"retry-after", "tomorrow"}}, HttpHeaders{{"retry-after", "-5"}},
        HttpHeaders{{"retry-after-ms", "nan"}}, HttpHeaders{{"retry-after", "inf"}},
        HttpHeaders{{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}}) {  // in the past
    const std::optional<ErrorDetails> details =
        ParseErrorDetails(StatusFromHttpError(429, "", headers));
    ASSERT_TRUE(details.has_value());
    EXPECT_FALSE(details->retry_delay.has_value()) << (headers.empty() ? "" : headers[0].second);
  }
}

// ---------------------------------------------------------------------------------------------
// Error events.

TEST(ErrorEventTest, RequestIdFromTheEvent) {
  claude::v1::ErrorEvent event;
  ASSERT_TRUE(JsonToMessage(R"({"type":"error",)"
                            R"("error":{"type":"api_error","message":"Internal server error"},)"
                            R"("request_id":"req_ev"})",
                            &event)
                  .ok());
  const grpc::Status status = StatusFromErrorEvent(event, {{"request-id", "req_hdr"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message(),
            "upstream stream error api_error: Internal server error (request-id req_ev)");
  EXPECT_EQ(ParseErrorDetails(status)->request_id, "req_ev");
}

TEST(ErrorEventTest, UnknownOrMissingType) {
  claude::v1::ErrorEvent event;
  event.mutable_error()->set_type("brand_new_error");
  event.mutable_error()->set_message("hm");
  grpc::Status status = StatusFromErrorEvent(event, {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "upstream stream error brand_new_error: hm");
  EXPECT_EQ(ParseErrorDetails(status)->reason, "brand_new_error");

  status = StatusFromErrorEvent(claude::v1::ErrorEvent(), {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "upstream stream error");
  EXPECT_EQ(ParseErrorDetails(status)->reason, "stream_error");
}

// ---------------------------------------------------------------------------------------------
// API keys never leave.

constexpr char kKey[] = "sk-ant-api03-AbCdEf_0123456789-xyzXYZ-AAAA";

TEST(RedactionTest, RedactSecrets) {
  EXPECT_EQ(RedactSecrets(absl::StrCat("key=", kKey, "; next")), "key=[REDACTED]; next");
  EXPECT_EQ(RedactSecrets("SK-ANT-ADMIN01-zzz and sk-ant-x"), "[REDACTED] and [REDACTED]");
  EXPECT_EQ(RedactSecrets("no secrets, sk-an, task-ant"), "no secrets, sk-an, task-ant");
  EXPECT_EQ(RedactSecrets(""), "");
}

void ExpectNoKey(const grpc::Status& status) {
  EXPECT_THAT(status.error_message(), Not(HasSubstr("AbCdEf")));
  EXPECT_THAT(status.error_message(), HasSubstr("[REDACTED]"));
  EXPECT_THAT(status.error_details(), Not(HasSubstr("AbCdEf")));
}

TEST(RedactionTest, InApiMessage) {
  const grpc::Status status = StatusFromHttpError(
      401, ApiBody("authentication_error", absl::StrCat("invalid x-api-key: ", kKey)), {});
  EXPECT_EQ(status.error_message(),
            "upstream HTTP 401 authentication_error: invalid x-api-key: [REDACTED] (the server's "
            "upstream "
            "credentials were refused; not the caller's) (request-id req_1)");
  ExpectNoKey(status);
}

TEST(RedactionTest, InGatewayMessageAndIds) {
  ExpectNoKey(StatusFromHttpError(401, GatewayBody(kKey, kKey, kKey), {}));
  ExpectNoKey(StatusFromHttpError(401, ApiBody("x", "y", kKey), {}));
  ExpectNoKey(StatusFromHttpError(401, "", {{"request-id", kKey}}));
}

TEST(RedactionTest, InRawBody) {
  ExpectNoKey(
      StatusFromHttpError(400, absl::StrCat("<html>your key ", kKey, " is bad</html>"), {}));
  // A key cut by the 200-byte limit is still redacted.
  ExpectNoKey(StatusFromHttpError(400, absl::StrCat(std::string(180, '.'), kKey), {}));
}

TEST(RedactionTest, InErrorEventAndTransport) {
  claude::v1::ErrorEvent event;
  event.mutable_error()->set_type("authentication_error");
  event.mutable_error()->set_message(absl::StrCat("bad key ", kKey));
  ExpectNoKey(StatusFromErrorEvent(event, {}));
  ExpectNoKey(
      StatusFromTransportError(absl::UnavailableError(absl::StrCat("while sending ", kKey))));
  ExpectNoKey(StatusFromInternal(absl::InvalidArgumentError(absl::StrCat("echo ", kKey))));
}

// ---------------------------------------------------------------------------------------------
// Transport failures, malformed data, absl conversion.

TEST(TransportErrorTest, Codes) {
  struct Row {
    absl::Status transport;
    grpc::StatusCode code;
    const char* message;
    const char* reason;
  };
  const Row rows[] = {
      {absl::UnavailableError("Couldn't connect to server"), grpc::StatusCode::UNAVAILABLE,
       "upstream unavailable: Couldn't connect to server", "connection_error"},
      {absl::UnavailableError("Could not resolve host: api.anthropic.com"),
       grpc::StatusCode::UNAVAILABLE,
       "upstream unavailable: Could not resolve host: api.anthropic.com", "connection_error"},
      {absl::DeadlineExceededError("Operation timed out after 600000 milliseconds"),
       grpc::StatusCode::DEADLINE_EXCEEDED,
       "upstream timed out: Operation timed out after 600000 milliseconds", "timeout"},
      {absl::CancelledError("client went away"), grpc::StatusCode::CANCELLED,
       "upstream call cancelled: client went away", "cancelled"},
      {absl::InternalError("TLS"), grpc::StatusCode::INTERNAL, "upstream transport error: TLS",
       "transport_error"},
      {absl::UnavailableError(""), grpc::StatusCode::UNAVAILABLE, "upstream unavailable",
       "connection_error"},
      {absl::OkStatus(), grpc::StatusCode::UNKNOWN, "upstream transport failed without a reason",
       "transport_error"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.transport.ToString());
    const grpc::Status status = StatusFromTransportError(row.transport);
    EXPECT_EQ(status.error_code(), row.code);
    EXPECT_EQ(status.error_message(), row.message);
    ExpectConsistent(status);
    const std::optional<ErrorDetails> details = ParseErrorDetails(status);
    ASSERT_TRUE(details.has_value());
    EXPECT_EQ(details->reason, row.reason);
    EXPECT_EQ(details->domain, "claude-grpc");
    EXPECT_EQ(details->http_status, 0);
  }
}

TEST(InternalTest, MalformedData) {
  const grpc::Status status = StatusFromInternal(
      absl::InvalidArgumentError("content[1].input: expected object, got string"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message(),
            "upstream sent malformed data: content[1].input: expected object, got string");
  ExpectConsistent(status);
  EXPECT_EQ(ParseErrorDetails(status)->reason, "malformed_upstream_data");
}

TEST(ToGrpcStatusTest, OneToOne) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  for (int code = 1; code <= 16; ++code) {
    const absl::Status in(static_cast<absl::StatusCode>(code), absl::StrCat("m", code));
    const grpc::Status out = ToGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(out.error_code()), code);
    EXPECT_EQ(out.error_message(), absl::StrCat("m", code));
    EXPECT_TRUE(out.error_details().empty());
  }
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(absl::ResourceExhaustedError("x")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ToGrpcStatus(absl::UnauthenticatedError("x")).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// Issue 12, bug 12: an error body's error.details (and its error_code) reached neither the
// message nor the status details, so callers could not act on it.
TEST(UpstreamDetailsTest, ErrorDetailsReachTheMessageErrorInfoAndAStructDetail) {
  const std::string body =
      R"({"type":"error","error":{"type":"invalid_request_error","message":"Too many tools",)"
      R"("details":{"error_code":"available_tools_limit_exceeded","limit":128,"hard":true,"tools":["a"]}},)"
      R"("request_id":"req_1"})";
  const grpc::Status status = StatusFromHttpError(400, body, {});
  ExpectConsistent(status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "upstream HTTP 400 invalid_request_error: Too many tools (error_code "
            "available_tools_limit_exceeded) "
            "(request-id req_1)");
  std::optional<ErrorDetails> details = ParseErrorDetails(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->error_code, "available_tools_limit_exceeded");
  EXPECT_EQ(details->metadata["error_code"], "available_tools_limit_exceeded");
  EXPECT_EQ(details->metadata["details_limit"], "128");
  EXPECT_EQ(details->metadata["details_hard"], "true");
  EXPECT_FALSE(details->metadata.count("details_tools"));  // not a scalar: in the Struct only
  ASSERT_TRUE(details->upstream_details.has_value());
  EXPECT_TRUE(testing::JsonEqual(
      R"({"error_code":"available_tools_limit_exceeded","limit":128,"hard":true,"tools":["a"]})",
      MessageToJsonString(*details->upstream_details)));

  // The same in an error event after HTTP 200.
  v1::ErrorEvent event;
  ASSERT_TRUE(
      JsonToMessage(R"({"type":"error","error":{"type":"overloaded_error","message":"Busy",)"
                    R"("details":{"error_code":"capacity","retry":2}}})",
                    &event)
          .ok());
  const grpc::Status streamed = StatusFromErrorEvent(event, {});
  EXPECT_THAT(streamed.error_message(), HasSubstr("Busy (error_code capacity)"));
  details = ParseErrorDetails(streamed);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->error_code, "capacity");
  EXPECT_EQ(details->metadata["details_retry"], "2");
}

TEST(UpstreamDetailsTest, DetailsAreSanitizedRedactedAndBounded) {
  const std::string key_like = "sk-ant-api03-abcdefABCDEF0123456789";
  const std::string body = absl::StrCat(
      R"({"type":"error","error":{"type":"invalid_request_error","message":"m","details":{"error_code":"a\nb",)",
      R"("secret":")", key_like, R"(","nested":{"k":")", key_like, R"("},"big":")",
      std::string(5000, 'x'), R"("}}})");
  const grpc::Status status = StatusFromHttpError(400, body, {});
  EXPECT_THAT(status.error_message(), Not(HasSubstr("sk-ant-")));
  EXPECT_THAT(status.error_details(), Not(HasSubstr("sk-ant-")));
  std::optional<ErrorDetails> details = ParseErrorDetails(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->error_code, "a b");
  EXPECT_EQ(details->metadata["details_secret"], "[REDACTED]");
  EXPECT_EQ(details->metadata["details_big"], std::string(128, 'x') + "...");
  ASSERT_TRUE(details->upstream_details.has_value());
  EXPECT_EQ(details->upstream_details->fields().at("big").string_value().size(),
            1024u + 3);  // "..." ends it
  EXPECT_LT(status.error_details().size(), 4096u);

  // Over 2 KiB of JSON once bounded: in the metadata, not as a Struct.
  std::string many;
  for (int i = 0; i < 5; ++i)
    absl::StrAppend(&many, i == 0 ? "" : ",", "\"k", i, "\":\"", std::string(900, 'y'), "\"");
  const grpc::Status big = StatusFromHttpError(
      400,
      absl::StrCat(
          R"({"type":"error","error":{"type":"invalid_request_error","message":"m","details":{)",
          many, "}}}"),
      {});
  ASSERT_TRUE(ParseErrorDetails(big).has_value());
  EXPECT_EQ(ParseErrorDetails(big)->metadata.count("details_k4"), 1u);
  EXPECT_FALSE(ParseErrorDetails(big)->upstream_details.has_value());

  // Details that are no object, or nested past protobuf's limit, add nothing and break nothing.
  std::string deep;
  for (int i = 0; i < 60; ++i) deep += R"({"a":)";
  deep += "1" + std::string(60, '}');
  // (Nested past the limit, the body as a whole is not read: its snippet is the message.)
  for (const std::string& odd : {std::string("[1,2]"), std::string("\"text\""), deep}) {
    const grpc::Status s = StatusFromHttpError(
        400,
        absl::StrCat(
            R"({"type":"error","error":{"type":"invalid_request_error","message":"m","details":)",
            odd, "}}"),
        {});
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    if (odd != deep) {
      EXPECT_EQ(s.error_message(), "upstream HTTP 400 invalid_request_error: m") << odd;
    }
    ASSERT_TRUE(ParseErrorDetails(s).has_value());
    EXPECT_FALSE(ParseErrorDetails(s)->upstream_details.has_value()) << odd;
  }
}

TEST(ParseErrorDetailsTest, NoneOrGarbage) {
  EXPECT_FALSE(ParseErrorDetails(grpc::Status::OK).has_value());
  EXPECT_FALSE(ParseErrorDetails(grpc::Status(grpc::StatusCode::INTERNAL, "x")).has_value());
  EXPECT_FALSE(
      ParseErrorDetails(grpc::Status(grpc::StatusCode::INTERNAL, "x", "\xff\xff\xff")).has_value());
  google::rpc::Status empty;
  empty.set_code(13);
  EXPECT_FALSE(
      ParseErrorDetails(grpc::Status(grpc::StatusCode::INTERNAL, "x", empty.SerializeAsString()))
          .has_value());
}

}  // namespace
}  // namespace claude
