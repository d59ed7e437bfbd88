// The services' one admission path, through a real gRPC server whose dialect is a mock.
#include "service/rpc/services.h"

#include <memory>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/mock_dialect.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Return;

// A refusal of the dialect (a field its API cannot express, an RPC it does not offer) reaches
// the caller as is, and nothing is sent upstream.
TEST(ServicesTest, DialectRefusalGoesToTheCallerWithoutAnUpstreamRequest) {
  auto dialect = std::make_shared<MockDialect>();
  EXPECT_CALL(*dialect, CountTokens(_, _))
      .WillOnce(Return(absl::UnimplementedError("CountTokens: the upstream's API has no token counting")));
  EXPECT_CALL(*dialect, CreateMessage(_, true, _))
      .WillOnce(Return(absl::InvalidArgumentError("thinking: not expressible for this upstream")));
  EXPECT_CALL(*dialect, NewEventDecoder()).Times(0);
  HarnessOptions options;
  options.configure = [dialect](ServerConfig& config) { config.dialect = dialect; };
  ServerHarness h(options);

  grpc::ClientContext c1;
  v1::CountTokensRequest count;
  count.set_model("claude-sonnet-4-5");
  *count.add_messages() = Hello().messages(0);
  v1::CountTokensResponse tokens;
  const grpc::Status counted = h.messages().CountTokens(&c1, count, &tokens);
  EXPECT_EQ(counted.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(counted.error_message(), HasSubstr("no token counting"));

  grpc::ClientContext c2;
  auto reader = h.messages().StreamMessage(&c2, Hello());
  v1::MessageStreamEvent event;
  EXPECT_FALSE(reader->Read(&event));
  const grpc::Status streamed = reader->Finish();
  EXPECT_EQ(streamed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(streamed.error_message(), HasSubstr("thinking"));

  EXPECT_EQ(h.upstream().request_count(), 0);
}

// Validation comes before the dialect: an invalid request never reaches it.
TEST(ServicesTest, InvalidRequestIsRefusedBeforeTheDialectIsAsked) {
  auto dialect = std::make_shared<MockDialect>();
  EXPECT_CALL(*dialect, GetModel(_, _)).Times(0);
  EXPECT_CALL(*dialect, ListModels(_, _)).Times(0);
  HarnessOptions options;
  options.configure = [dialect](ServerConfig& config) { config.dialect = dialect; };
  ServerHarness h(options);

  grpc::ClientContext c1;
  v1::ModelInfo info;
  const grpc::Status got = h.models().GetModel(&c1, v1::GetModelRequest(), &info);
  EXPECT_EQ(got.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(got.error_message(), "model_id: required");

  grpc::ClientContext c2;
  v1::ListModelsRequest list;
  list.set_limit(0);
  v1::ListModelsResponse models;
  const grpc::Status listed = h.models().ListModels(&c2, list, &models);
  EXPECT_EQ(listed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(listed.error_message(), "limit: must be at least 1");
  EXPECT_EQ(h.upstream().request_count(), 0);
}

}  // namespace
}  // namespace claude::testing
