// claude.v1.MessageBatches with --upstreams_file: every batch RPC goes to the messages upstream
// that serves batches (the file's `batches:`, else its first messages upstream), never by model
// and never to another dialect; without a messages upstream they are UNIMPLEMENTED. A real
// server, the harness's fake as a Bedrock upstream and two more fakes speaking the Messages API.
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "claude/v1/message_batches.grpc.pb.h"
#include "tests/fake_upstream/fake_anthropic.h"
#include "tests/fake_upstream/fake_batches.h"
#include "tests/testing/scratch_file.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;

class BatchRoutingTest : public ::testing::Test {
 protected:
  // `extra` is appended to the file (e.g. "batches: second"); `with_messages` lists the two
  // messages upstreams besides the Bedrock one.
  void StartServer(bool with_messages, const std::string& extra) {
    for (auto* fake : {&first_, &second_}) {
      auto started = FakeAnthropic::Start();
      ASSERT_TRUE(started.ok());
      *fake = *std::move(started);
    }
    HarnessOptions options;
    options.max_retries = 0;
    options.configure = [this, with_messages, extra](ServerConfig& config) {
      std::string text = absl::StrCat(R"(upstreams:
  - name: bedrock
    dialect: bedrock
    region: us-east-1
    base_url: )",
                                      config.upstream.base_url, R"(
    auth: {type: none}
)");
      if (with_messages) {
        absl::StrAppend(
            &text, "  - name: first\n    dialect: messages\n    base_url: ", first_->base_url(),
            "\n    auth: {type: none}\n  - name: second\n    dialect: messages\n    base_url: ",
            second_->base_url(), "\n    auth: {type: none}\n");
      }
      // Every model goes to Bedrock: batches must not follow the model routes.
      absl::StrAppend(&text, "routes:\n  - model: \"*\"\n    upstreams: [bedrock]\n", extra, "\n");
      config.upstreams_file = WriteScratchFile("upstreams.yaml", text);
    };
    harness_ = std::make_unique<ServerHarness>(options);
    stub_ = v1::MessageBatches::NewStub(harness_->channel());
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + Scaled(absl::Seconds(20))));
    return context;
  }

  // A batch of one request, custom_id "only".
  static v1::CreateMessageBatchRequest OneRequestBatch() {
    v1::CreateMessageBatchRequest create;
    v1::MessageBatchRequest* item = create.add_requests();
    item->set_custom_id("only");
    *item->mutable_params() = Hello();
    return create;
  }

  // Create, Get, List, Cancel, Results and Delete of one batch; every status must be OK.
  void EveryRpc() {
    v1::MessageBatch batch;
    ASSERT_TRUE(stub_->CreateMessageBatch(Context().get(), OneRequestBatch(), &batch).ok());
    v1::GetMessageBatchRequest get;
    get.set_message_batch_id(batch.id());
    ASSERT_TRUE(stub_->GetMessageBatch(Context().get(), get, &batch).ok());
    EXPECT_EQ(batch.processing_status(), v1::PROCESSING_STATUS_ENDED);
    v1::ListMessageBatchesResponse page;
    ASSERT_TRUE(stub_->ListMessageBatches(Context().get(), {}, &page).ok());
    ASSERT_EQ(page.data_size(), 1);
    v1::CancelMessageBatchRequest cancel;
    cancel.set_message_batch_id(batch.id());
    // Cancelling an ended batch is the upstream's own answer; it reached the right one.
    const grpc::Status cancelled = stub_->CancelMessageBatch(Context().get(), cancel, &batch);
    EXPECT_NE(cancelled.error_code(), grpc::StatusCode::UNIMPLEMENTED) << cancelled.error_message();
    EXPECT_NE(cancelled.error_code(), grpc::StatusCode::NOT_FOUND) << cancelled.error_message();
    v1::StreamMessageBatchResultsRequest results;
    results.set_message_batch_id(batch.id());
    auto context = Context();
    auto reader = stub_->StreamMessageBatchResults(context.get(), results);
    v1::MessageBatchResult result;
    int count = 0;
    while (reader->Read(&result)) {
      EXPECT_EQ(result.custom_id(), "only");
      ++count;
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_EQ(count, 1);
    v1::DeleteMessageBatchRequest del;
    del.set_message_batch_id(batch.id());
    v1::DeleteMessageBatchResponse deleted;
    ASSERT_TRUE(stub_->DeleteMessageBatch(Context().get(), del, &deleted).ok());
  }

  // EveryRpc() reaches `serving` (whose batches end at once) and no other upstream.
  void ExpectEveryRpcGoesTo(FakeAnthropic& serving, FakeAnthropic& other) {
    serving.batches().set_processing_time(absl::ZeroDuration());
    ASSERT_NO_FATAL_FAILURE(EveryRpc());
    // create, get, list, cancel, the results' get and download, delete
    EXPECT_EQ(serving.request_count(), 7);
    EXPECT_EQ(other.request_count(), 0);
    EXPECT_EQ(harness_->upstream().request_count(), 0)
        << "the model routes' Bedrock upstream saw nothing";
  }

  std::unique_ptr<FakeAnthropic> first_, second_;
  std::unique_ptr<ServerHarness> harness_;
  std::unique_ptr<v1::MessageBatches::Stub> stub_;
};

TEST_F(BatchRoutingTest, EveryBatchRpcGoesToTheFirstMessagesUpstreamByDefault) {
  StartServer(/*with_messages=*/true, "");
  ExpectEveryRpcGoesTo(*first_, *second_);
}

TEST_F(BatchRoutingTest, EveryBatchRpcGoesToTheUpstreamTheFileNames) {
  StartServer(/*with_messages=*/true, "batches: second");
  ExpectEveryRpcGoesTo(*second_, *first_);
}

TEST_F(BatchRoutingTest, WithoutAMessagesUpstreamEveryBatchRpcIsUnimplemented) {
  StartServer(/*with_messages=*/false, "");
  v1::MessageBatch batch;
  const grpc::Status created =
      stub_->CreateMessageBatch(Context().get(), OneRequestBatch(), &batch);
  EXPECT_EQ(created.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(created.error_message(), HasSubstr("Message Batches are a Messages API feature"));
  v1::GetMessageBatchRequest get;
  get.set_message_batch_id("msgbatch_x");
  EXPECT_EQ(stub_->GetMessageBatch(Context().get(), get, &batch).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  v1::StreamMessageBatchResultsRequest results;
  results.set_message_batch_id("msgbatch_x");
  auto context = Context();
  auto reader = stub_->StreamMessageBatchResults(context.get(), results);
  v1::MessageBatchResult result;
  EXPECT_FALSE(reader->Read(&result));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(harness_->upstream().request_count(), 0);
}

// A file whose `batches` names a Bedrock upstream does not load: the server refuses to start.
TEST(BatchRoutingFileTest, BatchesOnANonMessagesUpstreamStopsTheServer) {
  const std::string path =
      WriteScratchFile("upstreams.yaml",
                       "upstreams:\n  - name: bedrock\n    dialect: bedrock\n"
                       "    region: us-east-1\n    base_url: http://127.0.0.1:1\n"
                       "    auth: {type: none}\nroutes:\n  - model: \"*\"\n"
                       "    upstreams: [bedrock]\nbatches: bedrock\n");
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.upstream.base_url = "http://127.0.0.1:1";
  config.upstreams_file = path;
  absl::StatusOr<std::unique_ptr<ClaudeServer>> server = ClaudeServer::Start(config);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()),
              HasSubstr("batches: upstream \"bedrock\" has dialect bedrock"));
}

}  // namespace
}  // namespace claude::testing
