// The details of a server status read back, from google.rpc.Status messages built here: each
// detail type lands in its field, RequestInfo wins over ErrorInfo's request_id, and details that
// do not parse (or carry nothing known) are no details rather than a crash.
#include "common/errors/error_details.h"

#include <optional>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace claude {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// A status whose error details are `rpc`.
grpc::Status WithDetails(const google::rpc::Status& rpc) {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "message", rpc.SerializeAsString());
}

google::rpc::ErrorInfo Info(std::string reason, std::string domain) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::move(reason));
  info.set_domain(std::move(domain));
  return info;
}

TEST(ErrorDetailsTest, ErrorInfoAndItsMetadata) {
  google::rpc::ErrorInfo info = Info("rate_limit_error", kUpstreamErrorDomain);
  (*info.mutable_metadata())["http_status"] = "429";
  (*info.mutable_metadata())["request_id"] = "req_1";
  (*info.mutable_metadata())["error_code"] = "too_many";
  (*info.mutable_metadata())["details_limit"] = "50";
  google::rpc::Status rpc;
  rpc.add_details()->PackFrom(info);

  const std::optional<ErrorDetails> details = ParseErrorDetails(WithDetails(rpc));
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, "rate_limit_error");
  EXPECT_EQ(details->domain, "anthropic.com");
  EXPECT_EQ(details->http_status, 429);
  EXPECT_EQ(details->request_id, "req_1");
  EXPECT_EQ(details->error_code, "too_many");
  EXPECT_THAT(details->metadata,
              ElementsAre(Pair("details_limit", "50"), Pair("error_code", "too_many"),
                          Pair("http_status", "429"), Pair("request_id", "req_1")));
  EXPECT_EQ(details->retry_delay, std::nullopt);
  EXPECT_EQ(details->upstream_details, std::nullopt);
}

TEST(ErrorDetailsTest, ANonNumericHttpStatusIsZero) {
  google::rpc::ErrorInfo info = Info("r", kLocalErrorDomain);
  (*info.mutable_metadata())["http_status"] = "4x9";
  google::rpc::Status rpc;
  rpc.add_details()->PackFrom(info);
  const std::optional<ErrorDetails> details = ParseErrorDetails(WithDetails(rpc));
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->http_status, 0);
}

TEST(ErrorDetailsTest, EveryOtherDetailType) {
  google::rpc::Status rpc;
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(2);
  retry.mutable_retry_delay()->set_nanos(500'000'000);
  rpc.add_details()->PackFrom(retry);
  google::rpc::QuotaFailure quota;
  quota.add_violations()->set_subject("caller:alice");
  quota.add_violations()->set_subject("caller:bob");
  rpc.add_details()->PackFrom(quota);
  google::rpc::BadRequest bad;
  auto* violation = bad.add_field_violations();
  violation->set_field("messages[0].content");
  violation->set_description("must not be empty");
  violation = bad.add_field_violations();
  violation->set_field("max_tokens");
  violation->set_description("must be positive");
  rpc.add_details()->PackFrom(bad);
  google::protobuf::Struct upstream;
  (*upstream.mutable_fields())["limit"].set_number_value(50);
  rpc.add_details()->PackFrom(upstream);

  const std::optional<ErrorDetails> details = ParseErrorDetails(WithDetails(rpc));
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->retry_delay, absl::Milliseconds(2500));
  EXPECT_EQ(details->quota_subject, "caller:alice") << "the first violation's";
  EXPECT_THAT(details->field_violations,
              ElementsAre(Pair("messages[0].content", "must not be empty"),
                          Pair("max_tokens", "must be positive")));
  ASSERT_TRUE(details->upstream_details.has_value());
  EXPECT_EQ(details->upstream_details->fields().at("limit").number_value(), 50);
  EXPECT_EQ(details->reason, "") << "no ErrorInfo";
}

TEST(ErrorDetailsTest, RequestInfoWinsOverErrorInfosRequestId) {
  google::rpc::ErrorInfo info = Info("r", kUpstreamErrorDomain);
  (*info.mutable_metadata())["request_id"] = "req_from_info";
  google::rpc::RequestInfo request;
  request.set_request_id("req_from_request_info");
  google::rpc::Status rpc;
  rpc.add_details()->PackFrom(request);  // before the ErrorInfo: the order does not matter
  rpc.add_details()->PackFrom(info);
  const std::optional<ErrorDetails> details = ParseErrorDetails(WithDetails(rpc));
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->request_id, "req_from_request_info");
}

TEST(ErrorDetailsTest, NoKnownDetailIsNoDetails) {
  EXPECT_EQ(ParseErrorDetails(grpc::Status::OK), std::nullopt);
  EXPECT_EQ(ParseErrorDetails(grpc::Status(grpc::StatusCode::INTERNAL, "no details")),
            std::nullopt);
  google::rpc::Status empty;
  empty.set_code(8);
  EXPECT_EQ(ParseErrorDetails(WithDetails(empty)), std::nullopt);
  google::rpc::Status unknown;
  google::rpc::Help help;  // a detail type the server never writes
  help.add_links()->set_url("https://example.com");
  unknown.add_details()->PackFrom(help);
  EXPECT_EQ(ParseErrorDetails(WithDetails(unknown)), std::nullopt);
}

TEST(ErrorDetailsTest, BytesThatAreNoStatusAreNoDetails) {
  for (const std::string& bytes : {std::string("\xff\xff\xff\xff", 4), std::string("\x12\x7f", 2),
                                   std::string(1000, '\x0a')}) {
    EXPECT_EQ(ParseErrorDetails(grpc::Status(grpc::StatusCode::INTERNAL, "m", bytes)),
              std::nullopt);
  }
  // An Any whose type says ErrorInfo but whose bytes are not one.
  google::rpc::Status rpc;
  google::protobuf::Any* any = rpc.add_details();
  any->set_type_url("type.googleapis.com/google.rpc.ErrorInfo");
  any->set_value("\xff\xff\xff");
  EXPECT_EQ(ParseErrorDetails(WithDetails(rpc)), std::nullopt);
}

}  // namespace
}  // namespace claude
