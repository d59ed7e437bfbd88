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
#include "tests/testing/error_fixtures.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------------------------
// The HTTP status table, one row per test.

struct HttpRow {
  int http_status;
  grpc::StatusCode code;
};

class HttpStatusTableTest : public ::testing::TestWithParam<HttpRow> {};

TEST_P(HttpStatusTableTest, MapsToCode) {
  const HttpRow& row = GetParam();
  EXPECT_EQ(CodeForHttpStatus(row.http_status), row.code);
  // The HTTP status decides the code of an error response, whatever its body says.
  const grpc::Status from_body = StatusFromHttpError(row.http_status, "", {});
  EXPECT_EQ(from_body.error_code(), row.code);
  ExpectConsistent(from_body);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, HttpStatusTableTest,
    ::testing::Values(HttpRow{400, grpc::StatusCode::INVALID_ARGUMENT},
                      HttpRow{401, grpc::StatusCode::UNAVAILABLE},
                      HttpRow{402, grpc::StatusCode::FAILED_PRECONDITION},
                      HttpRow{403, grpc::StatusCode::UNAVAILABLE},
                      HttpRow{404, grpc::StatusCode::NOT_FOUND},
                      HttpRow{405, grpc::StatusCode::UNIMPLEMENTED},
                      HttpRow{408, grpc::StatusCode::DEADLINE_EXCEEDED},
                      HttpRow{409, grpc::StatusCode::ABORTED},
                      HttpRow{410, grpc::StatusCode::NOT_FOUND},
                      HttpRow{413, grpc::StatusCode::INVALID_ARGUMENT},
                      HttpRow{422, grpc::StatusCode::INVALID_ARGUMENT},
                      HttpRow{429, grpc::StatusCode::RESOURCE_EXHAUSTED},
                      HttpRow{499, grpc::StatusCode::CANCELLED},
                      // other 4xx
                      HttpRow{406, grpc::StatusCode::FAILED_PRECONDITION},
                      HttpRow{418, grpc::StatusCode::FAILED_PRECONDITION},
                      HttpRow{451, grpc::StatusCode::FAILED_PRECONDITION},
                      HttpRow{500, grpc::StatusCode::INTERNAL},
                      HttpRow{501, grpc::StatusCode::UNIMPLEMENTED},
                      HttpRow{502, grpc::StatusCode::UNAVAILABLE},
                      HttpRow{503, grpc::StatusCode::UNAVAILABLE},
                      HttpRow{504, grpc::StatusCode::DEADLINE_EXCEEDED},
                      HttpRow{529, grpc::StatusCode::UNAVAILABLE},
                      // other 5xx
                      HttpRow{505, grpc::StatusCode::INTERNAL},
                      HttpRow{520, grpc::StatusCode::INTERNAL},
                      HttpRow{599, grpc::StatusCode::INTERNAL},
                      // not error statuses
                      HttpRow{0, grpc::StatusCode::UNKNOWN},
                      HttpRow{200, grpc::StatusCode::UNKNOWN},
                      HttpRow{302, grpc::StatusCode::UNKNOWN},
                      HttpRow{600, grpc::StatusCode::UNKNOWN}),
    [](const ::testing::TestParamInfo<HttpRow>& p) {
      return absl::StrCat("Http", p.param.http_status);
    });

// ---------------------------------------------------------------------------------------------
// The error type table, one row per test.

struct TypeRow {
  const char* type;
  grpc::StatusCode code;
};

class ErrorTypeTableTest : public ::testing::TestWithParam<TypeRow> {};

TEST_P(ErrorTypeTableTest, MapsToCode) {
  const TypeRow& row = GetParam();
  EXPECT_EQ(CodeForErrorType(row.type), row.code);
  // The same table decides the code of an error event.
  claude::v1::ErrorEvent event;
  event.mutable_error()->set_type(row.type);
  event.mutable_error()->set_message("m");
  EXPECT_EQ(StatusFromErrorEvent(event, {}).error_code(), row.code);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ErrorTypeTableTest,
    ::testing::Values(TypeRow{"invalid_request_error", grpc::StatusCode::INVALID_ARGUMENT},
                      TypeRow{"authentication_error", grpc::StatusCode::UNAVAILABLE},
                      TypeRow{"billing_error", grpc::StatusCode::FAILED_PRECONDITION},
                      TypeRow{"permission_error", grpc::StatusCode::UNAVAILABLE},
                      TypeRow{"not_found_error", grpc::StatusCode::NOT_FOUND},
                      TypeRow{"request_too_large", grpc::StatusCode::INVALID_ARGUMENT},
                      TypeRow{"rate_limit_error", grpc::StatusCode::RESOURCE_EXHAUSTED},
                      TypeRow{"api_error", grpc::StatusCode::INTERNAL},
                      TypeRow{"timeout_error", grpc::StatusCode::DEADLINE_EXCEEDED},
                      TypeRow{"overloaded_error", grpc::StatusCode::UNAVAILABLE},
                      TypeRow{"some_future_error", grpc::StatusCode::UNKNOWN},
                      TypeRow{"", grpc::StatusCode::UNKNOWN},
                      TypeRow{"Overloaded_Error", grpc::StatusCode::UNKNOWN}),
    [](const ::testing::TestParamInfo<TypeRow>& p) {
      std::string name = p.param.type;
      for (char& c : name) {
        if (!absl::ascii_isalnum(c)) c = '_';
      }
      return absl::StrCat("Type_", name, "_", p.index);
    });

// ---------------------------------------------------------------------------------------------
// The shared fixtures.

using ::claude::testing::ErrorFixture;
using ::claude::testing::kErrorFixtures;

class FixtureTest : public ::testing::TestWithParam<ErrorFixture> {};

TEST_P(FixtureTest, MapsToCodeMessageAndDetails) {
  const ErrorFixture& row = GetParam();
  const HttpHeaders headers = {{"request-id", "req_from_header"}};
  const grpc::Status status =
      StatusFromHttpError(row.http_status, claude::testing::ReadFixture(row.file), headers);
  // A 401 is the server's key refused: our reason and domain, the upstream's type in metadata.
  const bool auth = row.http_status == 401;
  EXPECT_EQ(status.error_code(), row.code);
  EXPECT_EQ(
      status.error_message(),
      absl::StrCat(
          "upstream HTTP ", row.http_status, " ", row.upstream_type, ": ", row.upstream_message,
          auth ? " (the server's upstream credentials were refused; not the caller's)" : "",
          " (request-id ", row.request_id, ")"));
  ExpectConsistent(status);

  const std::optional<ErrorDetails> details = ParseErrorDetails(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, row.reason);
  EXPECT_EQ(details->domain, auth ? "claude-grpc" : "anthropic.com");
  EXPECT_EQ(details->request_id, row.request_id);  // the body's id wins over the header's
  EXPECT_EQ(details->http_status, row.http_status);
  EXPECT_FALSE(details->retry_delay.has_value());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureTest, ::testing::ValuesIn(kErrorFixtures),
                         [](const ::testing::TestParamInfo<ErrorFixture>& p) {
                           std::string name = p.param.file;
                           for (char& c : name) {
                             if (!absl::ascii_isalnum(c)) c = '_';
                           }
                           return name;
                         });

TEST(FixtureTest, EveryErrorFixtureIsCovered) {
  std::set<std::string> covered;
  for (const ErrorFixture& row : kErrorFixtures) covered.insert(row.file);
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CLAUDE_FIXTURES_DIR)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "error_") && absl::EndsWith(name, ".json")) {
      ++seen;
      EXPECT_TRUE(covered.count(name)) << name << " has no row in kErrorFixtures";
    }
  }
  EXPECT_EQ(seen, static_cast<int>(covered.size()));
}

TEST(FixtureTest, The429MessageReadsAsDocumented) {
  const grpc::Status status =
      StatusFromHttpError(429, claude::testing::ReadFixture("error_429_anthropic.json"), {});
  EXPECT_EQ(status.error_message(),
            "upstream HTTP 429 rate_limit_error: Number of request tokens has exceeded your "
            "per-minute rate limit (request-id req_011CSHoEeqs5C35K2UUqR7Fy)");
}

TEST(FixtureTest, ErrorEventAfter200) {
  // The `error` event of the shared stream fixture, decoded as the server decodes it.
  const std::string sse = claude::testing::ReadFixture("error_after_200.sse");
  std::string data;
  bool in_error = false;
  for (absl::string_view line : absl::StrSplit(sse, '\n')) {
    if (line == "event: error") in_error = true;
    if (in_error && absl::ConsumePrefix(&line, "data: ")) {
      data = std::string(line);
      break;
    }
  }
  ASSERT_FALSE(data.empty());
  claude::v1::ErrorEvent event;
  ASSERT_TRUE(JsonToMessage(data, &event).ok());

  const grpc::Status status = StatusFromErrorEvent(event, {{"request-id", "req_stream"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(),
            "upstream stream error overloaded_error: Overloaded (request-id req_stream)");
  ExpectConsistent(status);
  const std::optional<ErrorDetails> details = ParseErrorDetails(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, "overloaded_error");
  EXPECT_EQ(details->domain, "anthropic.com");
  EXPECT_EQ(details->request_id, "req_stream");
  EXPECT_EQ(details->http_status, 200);
}

// ---------------------------------------------------------------------------------------------
// Body shapes.

TEST(HttpErrorTest, GatewayBodiesMapByStatusLikeApiBodies) {
  // (401 and 403 keep the upstream's type in metadata: UpstreamAuthFailuresBlameTheServersCredentials.)
  for (int http_status : {400, 402, 404, 408, 409, 413, 429, 500, 502, 503, 504, 529}) {
    SCOPED_TRACE(http_status);
    const grpc::Status api = StatusFromHttpError(http_status, ApiBody("api_error", "boom"), {});
    const grpc::Status gateway =
        StatusFromHttpError(http_status, GatewayBody("some_gateway_code", "boom"), {});
    EXPECT_EQ(api.error_code(), gateway.error_code());
    EXPECT_EQ(api.error_code(), CodeForHttpStatus(http_status));
    EXPECT_EQ(ParseErrorDetails(gateway)->reason, "some_gateway_code");
    EXPECT_EQ(ParseErrorDetails(gateway)->request_id, "trace-1");
    EXPECT_THAT(gateway.error_message(), HasSubstr("some_gateway_code: boom (request-id trace-1)"));
  }
}

TEST(HttpErrorTest, TheStatusNotTheTypeDecidesTheCode) {
  // A body that disagrees with its status: the status wins, the type stays in the details.
  const grpc::Status status = StatusFromHttpError(503, ApiBody("invalid_request_error", "x"), {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ParseErrorDetails(status)->reason, "invalid_request_error");
}

TEST(HttpErrorTest, NumericGatewayCode) {
  const grpc::Status status = StatusFromHttpError(
      422, R"({"success":false,"error":{"code":42201,"message":"bad field"}})", {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "upstream HTTP 422 42201: bad field");
  EXPECT_EQ(ParseErrorDetails(status)->reason, "42201");
}

// The upstream refusing the server's own key is never the caller's authentication failure.
TEST(HttpErrorTest, UpstreamAuthFailuresBlameTheServersCredentials) {
  {
    const grpc::Status status =
        StatusFromHttpError(401, claude::testing::ReadFixture("error_401_gateway.json"), {});
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_THAT(status.error_message(), HasSubstr("invalid_token: Unauthorized"));
    EXPECT_EQ(ParseErrorDetails(status)->reason, kUpstreamAuthFailedReason);
    EXPECT_EQ(ParseErrorDetails(status)->request_id, "7d1e0c3a-9a51-4b7e-8f7a-3f0a5b1c2d4e");
  }
  for (int http_status : {401, 403}) {
    const grpc::Status status = StatusFromHttpError(
        http_status, R"({"success":false,"error":{"code":40101,"message":"bad token"}})", {});
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << http_status;
    EXPECT_EQ(status.error_message(),
              absl::StrCat("upstream HTTP ", http_status,
                           " 40101: bad token (the server's upstream credentials were refused; not the caller's)"));
    const std::optional<ErrorDetails> details = ParseErrorDetails(status);
    ASSERT_TRUE(details.has_value());
    EXPECT_EQ(details->reason, kUpstreamAuthFailedReason);
    EXPECT_EQ(details->domain, kLocalErrorDomain);
    EXPECT_EQ(details->http_status, http_status);
    EXPECT_THAT(status.error_details(), HasSubstr("upstream_error_type"));
  }
  claude::v1::ErrorEvent event;
  event.mutable_error()->set_type("permission_error");
  event.mutable_error()->set_message("this key may not use the model");
  const grpc::Status in_stream = StatusFromErrorEvent(event, {});
  EXPECT_EQ(in_stream.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ParseErrorDetails(in_stream)->reason, kUpstreamAuthFailedReason);
}

TEST(HttpErrorTest, ErrorWithMessageOnly) {
  const grpc::Status status = StatusFromHttpError(500, R"({"error":{"message":"kaputt"}})", {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message(), "upstream HTTP 500: kaputt");
  EXPECT_EQ(ParseErrorDetails(status)->reason, "http_500");
}

TEST(HttpErrorTest, ErrorWithTypeOnly) {
  const grpc::Status status =
      StatusFromHttpError(529, R"({"type":"error","error":{"type":"overloaded_error"}})", {});
  EXPECT_EQ(status.error_message(), "upstream HTTP 529 overloaded_error");
}

TEST(HttpErrorTest, RequestIdFromHeaderWhenTheBodyHasNone) {
  const grpc::Status status = StatusFromHttpError(
      400, R"({"type":"error","error":{"type":"invalid_request_error","message":"bad"}})",
      {{"content-type", "application/json"}, {"request-id", "req_hdr"}});
  EXPECT_EQ(status.error_message(),
            "upstream HTTP 400 invalid_request_error: bad (request-id req_hdr)");
  const std::optional<ErrorDetails> details = ParseErrorDetails(status);
  EXPECT_EQ(details->request_id, "req_hdr");

  const google::rpc::Status rpc = RpcStatus(status);
  bool saw_request_info = false;
  for (const auto& any : rpc.details()) {
    google::rpc::RequestInfo info;
    if (any.UnpackTo(&info)) {
      saw_request_info = true;
      EXPECT_EQ(info.request_id(), "req_hdr");
    }
    google::rpc::ErrorInfo error_info;
    if (any.UnpackTo(&error_info)) {
      EXPECT_EQ(error_info.metadata().at("request_id"), "req_hdr");
      EXPECT_EQ(error_info.metadata().at("http_status"), "400");
    }
  }
  EXPECT_TRUE(saw_request_info);
}

TEST(HttpErrorTest, NoRequestIdAnywhere) {
  const grpc::Status status = StatusFromHttpError(
      400, R"({"type":"error","error":{"type":"invalid_request_error","message":"bad"}})", {});
  EXPECT_EQ(status.error_message(), "upstream HTTP 400 invalid_request_error: bad");
  const std::optional<ErrorDetails> details = ParseErrorDetails(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->request_id, "");
  const google::rpc::Status rpc = RpcStatus(status);
  for (const auto& any : rpc.details()) {
    EXPECT_FALSE(any.Is<google::rpc::RequestInfo>());
  }
}

// ---------------------------------------------------------------------------------------------
// Bodies in no known shape.

TEST(GarbageBodyTest, Html) {
  const std::string html =
      "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
      "Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
  const grpc::Status status = StatusFromHttpError(502, html, {{"request-id", "req_h"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(),
            "upstream HTTP 502: <html> <head><title>502 Bad Gateway</title></head> <body> "
            "<center><h1>502 Bad Gateway</h1></center> </body> </html> (request-id req_h)");
  EXPECT_EQ(ParseErrorDetails(status)->reason, "http_502");
  EXPECT_EQ(ParseErrorDetails(status)->request_id, "req_h");
  ExpectConsistent(status);
}

TEST(GarbageBodyTest, Empty) {
  const grpc::Status status = StatusFromHttpError(503, "", {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "upstream HTTP 503: (empty body)");
  EXPECT_EQ(ParseErrorDetails(status)->reason, "http_503");
  EXPECT_EQ(ParseErrorDetails(status)->http_status, 503);

  EXPECT_EQ(StatusFromHttpError(503, " \r\n\t ", {}).error_message(),
            "upstream HTTP 503: (empty body)");
}

TEST(GarbageBodyTest, TruncatedJson) {
  const grpc::Status status =
      StatusFromHttpError(500, R"({"type":"error","error":{"type":"api_er)", {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message(),
            R"(upstream HTTP 500: {"type":"error","error":{"type":"api_er)");
  EXPECT_EQ(ParseErrorDetails(status)->reason, "http_500");
}

TEST(GarbageBodyTest, JsonOfAnotherShape) {
  EXPECT_EQ(StatusFromHttpError(404, R"({"message":"Gone"})", {}).error_message(),
            R"(upstream HTTP 404: {"message":"Gone"})");
  EXPECT_EQ(StatusFromHttpError(500, R"({"type":"not_an_error","x":1})", {}).error_message(),
            R"(upstream HTTP 500: {"type":"not_an_error","x":1})");
  EXPECT_EQ(StatusFromHttpError(500, R"({"error":"just a string"})", {}).error_message(),
            R"(upstream HTTP 500: {"error":"just a string"})");
  EXPECT_EQ(StatusFromHttpError(500, "[1,2]", {}).error_message(), "upstream HTTP 500: [1,2]");
}

TEST(GarbageBodyTest, BinaryBecomesPrintableUtf8) {
  const std::string binary("\x00\x01\xff\xfe\x1f\x8b\x08gz\x7f\xc3\x28ok\xe2\x82", 16);
  const grpc::Status status = StatusFromHttpError(500, binary, {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(status.error_message(), StartsWith("upstream HTTP 500: "));
  EXPECT_TRUE(PrintableUtf8(status.error_message())) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("gz"));
  EXPECT_THAT(status.error_message(), HasSubstr("\xEF\xBF\xBD"));  // U+FFFD for invalid bytes
  ExpectConsistent(status);  // the details parse back: their strings are valid UTF-8
}

TEST(GarbageBodyTest, LongBodyIsCutAt200BytesOnACharacterBoundary) {
  const std::string body = std::string(199, 'a') + "\xC3\xA9" + std::string(1000, 'b');
  const grpc::Status status = StatusFromHttpError(502, body, {});
  EXPECT_EQ(status.error_message(),
            absl::StrCat("upstream HTTP 502: ", std::string(199, 'a'), "..."));
  EXPECT_TRUE(PrintableUtf8(status.error_message()));

  const std::string exact(200, 'x');
  EXPECT_EQ(StatusFromHttpError(502, exact, {}).error_message(),
            absl::StrCat("upstream HTTP 502: ", exact));
}

TEST(GarbageBodyTest, KeepsValidUnicode) {
  const grpc::Status status = StatusFromHttpError(500, "Fehler: Überlastung – 再試行", {});
  EXPECT_EQ(status.error_message(), "upstream HTTP 500: Fehler: Überlastung – 再試行");
}

TEST(HttpErrorTest, UpstreamMessageIsSanitizedAndBounded) {
  const std::string long_message(5000, 'm');
  const grpc::Status status =
      StatusFromHttpError(400, ApiBody("invalid_request_error", "line1\\nline2\\t" + long_message),
                          {});
  EXPECT_THAT(status.error_message(), HasSubstr("line1 line2 mmm"));
  EXPECT_LT(status.error_message().size(), 1200u);
  EXPECT_TRUE(PrintableUtf8(status.error_message()));
}

}  // namespace
}  // namespace claude
