// The Messages API dialect: the requests it builds, its event decoder and its error bodies
// (its key signer: api_key_signer_test.cc). No I/O.
#include "service/upstream/messages_dialect.h"

#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/util/message_differencer.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/codec/json_mapping.h"
#include "tests/testing/json_testing.h"

namespace claude::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::unique_ptr<MessagesDialect> Dialect(std::shared_ptr<ApiKeySource> key = nullptr,
                                         std::string auth_scheme = "x-api-key") {
  MessagesDialectOptions options;
  options.base_url = "https://gateway.test/anthropic//";
  options.anthropic_version = "2023-06-01";
  options.api_key = std::move(key);
  options.auth_scheme = std::move(auth_scheme);
  absl::StatusOr<std::unique_ptr<MessagesDialect>> dialect = MessagesDialect::Create(options);
  EXPECT_TRUE(dialect.ok()) << dialect.status();
  return *std::move(dialect);
}

v1::CreateMessageRequest Hello() {
  v1::CreateMessageRequest request;
  request.set_model("claude-sonnet-4-5");
  request.set_max_tokens(64);
  auto* message = request.add_messages();
  message->set_role(v1::ROLE_USER);
  message->set_content_text("Hello");
  return request;
}

TEST(MessagesDialectTest, StreamingCreateMessage) {
  auto dialect = Dialect(std::make_shared<StaticApiKeySource>("sk-ant-k"));
  absl::StatusOr<HttpRequest> http = dialect->CreateMessage(Hello(), true, {{"anthropic-beta", "b1,b2"}});
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->method, "POST");
  EXPECT_EQ(http->url, "https://gateway.test/anthropic/v1/messages");  // trailing slashes dropped
  EXPECT_THAT(http->headers, ElementsAre(Pair("anthropic-version", "2023-06-01"), Pair("anthropic-beta", "b1,b2"),
                                         Pair("accept", "text/event-stream")));
  ASSERT_NE(http->body, nullptr);
  EXPECT_TRUE(JsonEqual(CreateMessageBody(Hello(), true), *http->body));
  EXPECT_NE(http->signer, nullptr);
}

TEST(MessagesDialectTest, UnaryCreateMessageAndCountTokens) {
  auto dialect = Dialect();
  absl::StatusOr<HttpRequest> unary = dialect->CreateMessage(Hello(), false, {});
  ASSERT_TRUE(unary.ok());
  EXPECT_THAT(unary->headers, ElementsAre(Pair("anthropic-version", "2023-06-01")));
  EXPECT_EQ(unary->signer, nullptr);  // no key: no credentials
  EXPECT_TRUE(JsonEqual(CreateMessageBody(Hello(), false), *unary->body));

  v1::CountTokensRequest count;
  count.set_model("claude-sonnet-4-5");
  absl::StatusOr<HttpRequest> counted = dialect->CountTokens(count, {});
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->url, "https://gateway.test/anthropic/v1/messages/count_tokens");
  EXPECT_TRUE(JsonEqual(R"({"model":"claude-sonnet-4-5"})", *counted->body));
}

TEST(MessagesDialectTest, ModelsWithEscapedIdsAndQuery) {
  auto dialect = Dialect();
  v1::ListModelsRequest list;
  list.set_before_id("a b/c");
  list.set_after_id("x&y=z");
  list.set_limit(7);
  absl::StatusOr<HttpRequest> listed = dialect->ListModels(list, {});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->method, "GET");
  EXPECT_EQ(listed->body, nullptr);
  EXPECT_EQ(listed->url, "https://gateway.test/anthropic/v1/models?before_id=a%20b%2Fc&after_id=x%26y%3Dz&limit=7");
  EXPECT_EQ(dialect->ListModels(v1::ListModelsRequest(), {})->url, "https://gateway.test/anthropic/v1/models");

  v1::GetModelRequest get;
  get.set_model_id("../admin?x");
  EXPECT_EQ(dialect->GetModel(get, {})->url, "https://gateway.test/anthropic/v1/models/..%2Fadmin%3Fx");
}

TEST(MessagesDialectTest, UnknownAuthSchemeIsRefused) {
  MessagesDialectOptions options;
  options.auth_scheme = "basic";
  EXPECT_EQ(MessagesDialect::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

// Events decoded from `body` fed in pieces of `piece` bytes, and the status that ended them.
struct Decoded {
  std::vector<v1::MessageStreamEvent> events;
  absl::Status fed;
  absl::Status finished;
};
Decoded Decode(const std::string& body, size_t piece) {
  auto decoder = Dialect()->NewEventDecoder();
  Decoded out;
  auto emit = [&out](v1::MessageStreamEvent event) {
    out.events.push_back(std::move(event));
    return absl::OkStatus();
  };
  for (size_t i = 0; i < body.size() && out.fed.ok(); i += piece) out.fed = decoder->Feed(body.substr(i, piece), emit);
  if (out.fed.ok()) out.finished = decoder->Finish(emit);
  return out;
}

TEST(MessagesEventDecoderTest, AnySplitGivesTheSameEvents) {
  const std::string body = ReadFixture("text_basic.sse");
  const Decoded whole = Decode(body, body.size());
  ASSERT_TRUE(whole.fed.ok()) << whole.fed;
  ASSERT_TRUE(whole.finished.ok()) << whole.finished;
  EXPECT_EQ(whole.events.size(), SseDataOf(body).size());
  EXPECT_TRUE(whole.events.front().has_message_start());
  EXPECT_TRUE(whole.events.back().has_message_stop());
  for (size_t piece : {1, 2, 7, 64}) {
    const Decoded split = Decode(body, piece);
    ASSERT_TRUE(split.finished.ok()) << "piece " << piece << ": " << split.finished;
    ASSERT_EQ(split.events.size(), whole.events.size()) << "piece " << piece;
    for (size_t i = 0; i < whole.events.size(); ++i) {
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(split.events[i], whole.events[i]))
          << "piece " << piece << ", event " << i;
    }
  }
}

TEST(MessagesEventDecoderTest, ErrorEventIsAnEventWithError) {
  const Decoded decoded = Decode(ReadFixture("error_after_200.sse"), 5);
  ASSERT_TRUE(decoded.fed.ok()) << decoded.fed;
  ASSERT_FALSE(decoded.events.empty());
  EXPECT_TRUE(decoded.events.back().has_error());
}

TEST(MessagesEventDecoderTest, CutStreamAndMalformedData) {
  const std::string body = ReadFixture("text_basic.sse");
  const std::string no_stop = body.substr(0, body.find("event: message_stop"));
  EXPECT_EQ(Decode(no_stop, 3).finished.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Decode(body.substr(0, body.size() - 3), 3).finished.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Decode("event: message_start\ndata: {not json\n\n", 4).fed.code(), absl::StatusCode::kInternal);
}

TEST(MessagesEventDecoderTest, EmitStatusIsReturnedAsIs) {
  auto decoder = Dialect()->NewEventDecoder();
  const absl::Status stop = absl::AbortedError("caller stops here");
  int calls = 0;
  EXPECT_EQ(decoder->Feed(ReadFixture("text_basic.sse"),
                          [&](v1::MessageStreamEvent) {
                            ++calls;
                            return stop;
                          }),
            stop);
  EXPECT_EQ(calls, 1);
}

TEST(MessagesDialectTest, ReadsApiAndGatewayErrorBodies) {
  auto dialect = Dialect();
  const UpstreamError api = dialect->ReadError(
      400,
      R"({"type":"error","error":{"type":"invalid_request_error","message":"bad","details":{"field":"x"}},"request_id":"req_1"})",
      {});
  EXPECT_EQ(api.http_status, 400);
  EXPECT_EQ(api.type, "invalid_request_error");
  EXPECT_EQ(api.message, "bad");
  EXPECT_EQ(api.request_id, "req_1");
  EXPECT_TRUE(JsonEqual(R"({"field":"x"})", api.details_json));

  const UpstreamError gateway =
      dialect->ReadError(401, R"({"success":false,"error":{"code":40101,"message":"token expired"},"trace_id":"t-9"})", {});
  EXPECT_EQ(gateway.type, "40101");
  EXPECT_EQ(gateway.message, "token expired");
  EXPECT_EQ(gateway.request_id, "t-9");
  EXPECT_EQ(gateway.details_json, "");

  const UpstreamError html = dialect->ReadError(502, "<html>Bad Gateway</html>", {});
  EXPECT_EQ(html.type, "");
  EXPECT_EQ(html.message, "");
  EXPECT_EQ(html.body, "<html>Bad Gateway</html>");
}

}  // namespace
}  // namespace claude::testing
