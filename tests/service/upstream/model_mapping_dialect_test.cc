// The upstreams file's model map over the Messages API's dialect: the caller's model name
// becomes the upstream's id in the body or path of CreateMessage, CountTokens and GetModel
// (the caller's request untouched), names the map does not list pass as they are, and every
// other request and answer is the wrapped dialect's own.
#include "service/upstream/model_mapping_dialect.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "claude/v1/message_batches.pb.h"
#include "claude/v1/messages.pb.h"
#include "claude/v1/models.pb.h"
#include "service/upstream/messages_dialect.h"

namespace claude {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBase[] = "https://gateway.example";

std::unique_ptr<ModelMappingDialect> Mapping() {
  MessagesDialectOptions options;
  options.base_url = kBase;
  absl::StatusOr<std::unique_ptr<MessagesDialect>> messages = MessagesDialect::Create(options);
  EXPECT_TRUE(messages.ok()) << messages.status();
  return std::make_unique<ModelMappingDialect>(
      std::shared_ptr<const Dialect>(std::move(*messages)),
      std::vector<std::pair<std::string, std::string>>{
          {"claude-sonnet-4-5", "anthropic/claude-sonnet-4.5@2025"}});
}

v1::CreateMessageRequest Hello(const std::string& model) {
  v1::CreateMessageRequest request;
  request.set_model(model);
  request.set_max_tokens(16);
  v1::MessageParam* message = request.add_messages();
  message->set_role(v1::ROLE_USER);
  message->set_content_text("Hello");
  return request;
}

TEST(ModelMappingDialectTest, CreateMessageSendsTheUpstreamsId) {
  const auto dialect = Mapping();
  const v1::CreateMessageRequest request = Hello("claude-sonnet-4-5");
  for (bool stream : {false, true}) {
    absl::StatusOr<HttpRequest> http = dialect->CreateMessage(request, stream, {});
    ASSERT_TRUE(http.ok()) << http.status();
    EXPECT_EQ(http->url, std::string(kBase) + "/v1/messages");
    ASSERT_NE(http->body, nullptr);
    EXPECT_THAT(*http->body, HasSubstr("\"model\":\"anthropic/claude-sonnet-4.5@2025\""));
    EXPECT_THAT(*http->body, Not(HasSubstr("\"claude-sonnet-4-5\"")));
  }
  EXPECT_EQ(request.model(), "claude-sonnet-4-5") << "the caller's request is not changed";
}

TEST(ModelMappingDialectTest, AnUnlistedModelIsSentAsItIs) {
  const auto dialect = Mapping();
  absl::StatusOr<HttpRequest> http = dialect->CreateMessage(Hello("claude-haiku-4-5"), false, {});
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_THAT(*http->body, HasSubstr("\"model\":\"claude-haiku-4-5\""));
}

TEST(ModelMappingDialectTest, CountTokensAndGetModelSendTheUpstreamsId) {
  const auto dialect = Mapping();
  v1::CountTokensRequest count;
  count.set_model("claude-sonnet-4-5");
  count.add_messages()->set_content_text("Hello");
  count.mutable_messages(0)->set_role(v1::ROLE_USER);
  absl::StatusOr<HttpRequest> counted = dialect->CountTokens(count, {});
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->url, std::string(kBase) + "/v1/messages/count_tokens");
  EXPECT_THAT(*counted->body, HasSubstr("\"model\":\"anthropic/claude-sonnet-4.5@2025\""));

  v1::GetModelRequest get;
  get.set_model_id("claude-sonnet-4-5");
  absl::StatusOr<HttpRequest> got = dialect->GetModel(get, {});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->url, std::string(kBase) + "/v1/models/anthropic%2Fclaude-sonnet-4.5%402025")
      << "the id is escaped as one path segment";
  get.set_model_id("claude-opus-4-1");
  EXPECT_EQ(dialect->GetModel(get, {})->url, std::string(kBase) + "/v1/models/claude-opus-4-1");
}

TEST(ModelMappingDialectTest, EverythingElseIsTheWrappedDialects) {
  const auto dialect = Mapping();
  EXPECT_EQ(dialect->name(), "messages");
  EXPECT_EQ(dialect->ListModels({}, {})->url, std::string(kBase) + "/v1/models");
  v1::CreateMessageBatchRequest batch;
  v1::MessageBatchRequest* item = batch.add_requests();
  item->set_custom_id("a");
  *item->mutable_params() = Hello("claude-sonnet-4-5");
  absl::StatusOr<HttpRequest> created = dialect->CreateMessageBatch(batch, {});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->url, std::string(kBase) + "/v1/messages/batches");
  v1::GetMessageBatchRequest get;
  get.set_message_batch_id("msgbatch_1");
  EXPECT_EQ(dialect->GetMessageBatch(get, {})->url,
            std::string(kBase) + "/v1/messages/batches/msgbatch_1");
  EXPECT_EQ(dialect->ListMessageBatches({}, {})->url, std::string(kBase) + "/v1/messages/batches");
  v1::CancelMessageBatchRequest cancel;
  cancel.set_message_batch_id("msgbatch_1");
  EXPECT_EQ(dialect->CancelMessageBatch(cancel, {})->url,
            std::string(kBase) + "/v1/messages/batches/msgbatch_1/cancel");
  v1::DeleteMessageBatchRequest remove;
  remove.set_message_batch_id("msgbatch_1");
  EXPECT_EQ(dialect->DeleteMessageBatch(remove, {})->method, "DELETE");
  const std::string results = std::string(kBase) + "/v1/messages/batches/msgbatch_1/results";
  EXPECT_EQ(dialect->MessageBatchResults(results, {})->url, results);
  EXPECT_FALSE(dialect->MessageBatchResults("https://elsewhere.example/results", {}).ok())
      << "the wrapped dialect's own origin check";

  const UpstreamError error = dialect->ReadError(
      429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})", {});
  EXPECT_EQ(error.type, "rate_limit_error");
  EXPECT_EQ(error.message, "slow down");
  v1::ModelInfo model;
  ASSERT_TRUE(dialect->DecodeReply(R"({"type":"model","id":"claude-sonnet-4-5"})", &model).ok());
  EXPECT_EQ(model.id(), "claude-sonnet-4-5") << "answers are not mapped back";
  EXPECT_NE(dialect->NewEventDecoder(), nullptr);
}

}  // namespace
}  // namespace claude
