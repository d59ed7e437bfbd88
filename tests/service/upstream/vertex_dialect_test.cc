#include "service/upstream/vertex_dialect.h"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/codec/json_mapping.h"
#include "service/errors/error_table.h"
#include "tests/service/upstream/cloud_dialect_testing.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/server_harness.h"

namespace claude {
namespace {

using ::claude::testing::JsonEqual;
using ::claude::testing::ReadFixture;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

class NoSigner final : public RequestSigner {
 public:
  absl::StatusOr<HttpHeaders> Sign(const HttpRequest&, absl::Time) override { return HttpHeaders{}; }
};

VertexDialect MakeDialect(std::shared_ptr<RequestSigner> signer = nullptr) {
  VertexDialectOptions options;
  options.base_url = "https://us-east5-aiplatform.googleapis.com";
  options.project = "my-project";
  options.region = "us-east5";
  options.models = {{"claude-sonnet-4-5", "claude-sonnet-4-5@20250929"}};
  options.signer = std::move(signer);
  return VertexDialect(std::move(options));
}

constexpr char kModelsUrl[] =
    "https://us-east5-aiplatform.googleapis.com/v1/projects/my-project/locations/us-east5/"
    "publishers/anthropic/models/";

TEST(VertexDialectTest, UnaryMessageGoesToRawPredictWithoutModelInTheBody) {
  auto signer = std::make_shared<NoSigner>();
  const VertexDialect dialect = MakeDialect(signer);
  absl::StatusOr<HttpRequest> http = dialect.CreateMessage(testing::Hello(64, "claude-sonnet-4-5"),
                                                           false, {{"anthropic-beta", "b1"}});
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->method, "POST");
  EXPECT_EQ(http->url, std::string(kModelsUrl) + "claude-sonnet-4-5@20250929:rawPredict");
  EXPECT_TRUE(JsonEqual(
      R"({"anthropic_version":"vertex-2023-10-16","max_tokens":64,"messages":[{"role":"user","content":"Hello there, Claude"}]})",
      *http->body));
  EXPECT_THAT(http->headers, Contains(Pair("content-type", "application/json")));
  EXPECT_THAT(http->headers, Contains(Pair("anthropic-beta", "b1")));
  EXPECT_EQ(http->signer, signer);
}

TEST(VertexDialectTest, StreamGoesToStreamRawPredict) {
  const VertexDialect dialect = MakeDialect();
  absl::StatusOr<HttpRequest> http =
      dialect.CreateMessage(testing::Hello(64, "claude-haiku-4-5"), true, {});
  ASSERT_TRUE(http.ok()) << http.status();
  // A model the map does not list is sent as is.
  EXPECT_EQ(http->url, std::string(kModelsUrl) + "claude-haiku-4-5:streamRawPredict");
  EXPECT_TRUE(JsonEqual(
      R"({"anthropic_version":"vertex-2023-10-16","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"Hello there, Claude"}]})",
      *http->body));
  EXPECT_THAT(http->headers, Contains(Pair("accept", "text/event-stream")));
}

TEST(VertexDialectTest, ModelIdsAreEscapedInThePath) {
  const VertexDialect dialect = MakeDialect();
  absl::StatusOr<HttpRequest> http =
      dialect.CreateMessage(testing::Hello(64, "a/b:c d"), false, {});
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->url, std::string(kModelsUrl) + "a%2Fb%3Ac%20d:rawPredict");
}

TEST(VertexDialectTest, CountTokensKeepsTheModelInTheBody) {
  const VertexDialect dialect = MakeDialect();
  claude::v1::CountTokensRequest request;
  ASSERT_TRUE(JsonToMessage(R"({"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hello there, Claude"}]})",
                            &request)
                  .ok());
  absl::StatusOr<HttpRequest> http = dialect.CountTokens(request, {});
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->url, std::string(kModelsUrl) + "count-tokens:rawPredict");
  EXPECT_TRUE(JsonEqual(
      R"({"model":"claude-sonnet-4-5@20250929","anthropic_version":"vertex-2023-10-16","messages":[{"role":"user","content":"Hello there, Claude"}]})",
      *http->body));
}

TEST(VertexDialectTest, PublicEndpoints) {
  EXPECT_EQ(VertexEndpoint("us-east5"), "https://us-east5-aiplatform.googleapis.com");
  EXPECT_EQ(VertexEndpoint("global"), "https://aiplatform.googleapis.com");
}

TEST(VertexDialectTest, ModelRpcsAreUnimplemented) {
  const VertexDialect dialect = MakeDialect();
  EXPECT_EQ(dialect.ListModels({}, {}).status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(dialect.GetModel({}, {}).status().code(), absl::StatusCode::kUnimplemented);
}

TEST(VertexDialectTest, StreamsDecodeAsTheMessagesApi) {
  const VertexDialect dialect = MakeDialect();
  std::unique_ptr<EventDecoder> decoder = dialect.NewEventDecoder();
  std::vector<claude::v1::MessageStreamEvent> events;
  const auto emit = [&](claude::v1::MessageStreamEvent e) {
    events.push_back(std::move(e));
    return absl::OkStatus();
  };
  ASSERT_TRUE(decoder->Feed(ReadFixture("text_basic.sse"), emit).ok());
  ASSERT_TRUE(decoder->Finish(emit).ok());
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(events.front().has_message_start());
  EXPECT_TRUE(events.back().has_message_stop());
}

TEST(VertexDialectTest, ReadsGooglesErrorShape) {
  const std::string body =
      R"({"error":{"code":429,"message":"Quota exceeded for aiplatform.googleapis.com","status":"RESOURCE_EXHAUSTED","details":[{"reason":"RATE_LIMIT_EXCEEDED"}]}})";
  const UpstreamError error = ReadVertexError(429, body);
  EXPECT_EQ(error.type, "rate_limit_error");
  EXPECT_EQ(error.code, "RESOURCE_EXHAUSTED");
  EXPECT_EQ(error.message, "Quota exceeded for aiplatform.googleapis.com");
  EXPECT_THAT(error.details_json, HasSubstr("RATE_LIMIT_EXCEEDED"));
  const grpc::Status status = StatusFromUpstreamError(error, {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("Quota exceeded"));
}

TEST(VertexDialectTest, ReadsGooglesErrorInAnArray) {
  const UpstreamError error = ReadVertexError(
      403, R"([{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}])");
  EXPECT_EQ(error.type, "permission_error");
  EXPECT_EQ(error.message, "Permission denied");
}

TEST(VertexDialectTest, ReadsTheMessagesApiShapeAndUnknownBodies) {
  testing::ExpectForeignErrorBodiesRead(MakeDialect());
}

}  // namespace
}  // namespace claude
