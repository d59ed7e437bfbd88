#include "service/upstream/cloud_request_body.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/codec/json_mapping.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

using ::claude::testing::JsonEqual;

claude::v1::CreateMessageRequest Parse(const std::string& json) {
  claude::v1::CreateMessageRequest request;
  EXPECT_TRUE(JsonToMessage(json, &request).ok());
  return request;
}

TEST(CloudRequestBodyTest, ReplacesTheModelMemberAndKeepsEverythingElse) {
  const auto request = Parse(
      R"({"model":"m\"x","max_tokens":5,"messages":[{"role":"user","content":"model"}],"mcp_servers":[{"a":1}]})");
  absl::StatusOr<std::string> body = BodyWithModelReplaced(request, request.model(), R"("v":1)");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_TRUE(JsonEqual(
      R"({"v":1,"max_tokens":5,"messages":[{"role":"user","content":"model"}],"mcp_servers":[{"a":1}]})",
      *body));
}

TEST(CloudRequestBodyTest, NoMembersLeaveValidJson) {
  claude::v1::CountTokensRequest only_model;
  only_model.set_model("m");
  absl::StatusOr<std::string> body = BodyWithModelReplaced(only_model, "m", "");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "{}");
  const auto request = Parse(R"({"model":"m","max_tokens":5,"messages":[]})");
  body = BodyWithModelReplaced(request, "m", "");
  ASSERT_TRUE(body.ok());
  EXPECT_TRUE(JsonEqual(R"({"max_tokens":5,"messages":[]})", *body));
}

TEST(CloudRequestBodyTest, RefusesAModelThatIsNotTheRequests) {
  const auto request = Parse(R"({"model":"m","max_tokens":5,"messages":[]})");
  EXPECT_EQ(BodyWithModelReplaced(request, "other", "").status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace claude
