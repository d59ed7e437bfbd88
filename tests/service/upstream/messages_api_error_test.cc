// Error bodies of the Messages API and of gateways in front of it, read into the error table's
// input: each known shape's type, message, request id and details, and any other body (HTML,
// empty, cut, binary, JSON of another shape) read as nothing recognised, kept whole.
#include "service/upstream/messages_api_error.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace claude {
namespace {

TEST(MessagesApiErrorTest, TheApisShape) {
  const std::string body =
      R"({"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit",)"
      R"("details":{"limit":50}},"request_id":"req_011"})";
  const UpstreamError error = ReadMessagesApiError(429, body);
  EXPECT_EQ(error.http_status, 429);
  EXPECT_EQ(error.type, "rate_limit_error");
  EXPECT_EQ(error.message, "Number of requests has exceeded your rate limit");
  EXPECT_EQ(error.request_id, "req_011");
  EXPECT_EQ(error.details_json, R"({"limit":50})");
  EXPECT_EQ(error.body, body);
}

TEST(MessagesApiErrorTest, AGatewaysShapeWithAStringOrNumberCode) {
  const UpstreamError text = ReadMessagesApiError(
      401,
      R"({"success":false,"error":{"code":"invalid_key","message":"bad key"},"trace_id":"t-1"})");
  EXPECT_EQ(text.type, "invalid_key");
  EXPECT_EQ(text.message, "bad key");
  EXPECT_EQ(text.request_id, "t-1");
  EXPECT_EQ(
      ReadMessagesApiError(500, R"({"success":false,"error":{"code":1002,"message":"m"}})").type,
      "1002")
      << "an integral code without a fraction";
  EXPECT_EQ(
      ReadMessagesApiError(500, R"({"success":false,"error":{"code":1.5,"message":"m"}})").type,
      "1.5");
  EXPECT_EQ(
      ReadMessagesApiError(500, R"({"success":false,"error":{"code":{"nested":1},"message":"m"}})")
          .type,
      "")
      << "a code of another kind is none";
}

TEST(MessagesApiErrorTest, TheApisTypeWinsOverAGatewaysCode) {
  const UpstreamError error = ReadMessagesApiError(
      529,
      R"({"type":"error","error":{"type":"overloaded_error","code":"busy","message":"Overloaded"}})");
  EXPECT_EQ(error.type, "overloaded_error");
}

TEST(MessagesApiErrorTest, AnyOtherBodyIsRecognisedAsNothingAndKeptWhole) {
  for (const std::string& body : {
           std::string("<html><body>502 Bad Gateway</body></html>"),
           std::string(""),
           std::string(R"({"type":"error","error":{"type":"overloaded_error","mess)"),
           std::string("\x00\xff\xfe binary", 10),
           std::string(R"(["an","array"])"),
           std::string(R"({"message":"no error member"})"),
           std::string(R"({"error":"a string, not an object"})"),
       }) {
    const UpstreamError error = ReadMessagesApiError(502, body);
    EXPECT_EQ(error.http_status, 502);
    EXPECT_EQ(error.type, "") << body;
    EXPECT_EQ(error.message, "") << body;
    EXPECT_EQ(error.request_id, "") << body;
    EXPECT_EQ(error.body, body);
  }
}

TEST(MessagesApiErrorTest, StatusFromHttpErrorGoesThroughTheErrorTable) {
  const grpc::Status status = StatusFromHttpError(
      429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})",
      {{"retry-after", "3"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("slow down"));
  EXPECT_FALSE(status.error_details().empty()) << "with the table's details";
}

}  // namespace
}  // namespace claude
