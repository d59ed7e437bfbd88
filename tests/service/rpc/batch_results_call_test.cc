// StreamMessageBatchResults' call over a mock transport and a mock caller side: the batch is
// read first (a batch still processing, or one whose results are elsewhere, ends the RPC), then
// its results, JSONL in chunks cut anywhere, are relayed one result per line, with the skip of
// after_custom_id and a line that does not parse ending the RPC after the results before it.
#include "service/rpc/batch_results_call.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/testing/mock_call_environment.h"

namespace claude::testing {
namespace {

using ::testing::_;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::Pair;
using ::testing::SizeIs;

constexpr char kResultsUrl[] = "https://api.anthropic.com/v1/messages/batches/msgbatch_1/results";

std::string Batch(const std::string& status, const std::string& results_url = kResultsUrl) {
  return absl::StrCat(
      R"({"id":"msgbatch_1","type":"message_batch","processing_status":")", status, "\"",
      results_url.empty() ? "" : absl::StrCat(R"(,"results_url":")", results_url, "\""), "}");
}

std::string Result(const std::string& custom_id) {
  return absl::StrCat(R"({"custom_id":")", custom_id, R"(","result":{"type":"expired"}})");
}

class BatchResultsCallTest : public ::testing::Test {
 protected:
  BatchResultsCallTest() {
    ON_CALL(caller_, SendResult(_, _))
        .WillByDefault([this](const v1::MessageBatchResult& result, const HttpHeaders*) {
          results_.push_back(result.custom_id());
        });
    ON_CALL(caller_, SendStatus(_, _))
        .WillByDefault([this](const grpc::Status& status, const HttpHeaders&) {
          ASSERT_FALSE(status_.has_value()) << "the RPC ends once";
          status_ = status;
        });
  }

  void Begin(std::optional<std::string> after_custom_id = std::nullopt) {
    v1::GetMessageBatchRequest get;
    get.set_message_batch_id("msgbatch_1");
    std::vector<UpstreamTarget> targets(1);
    targets[0].request = *calls_.dialect().GetMessageBatch(get, {});
    targets[0].dialect = &calls_.dialect();
    call_ = std::make_shared<BatchResultsCall>(
        calls_.env, std::move(targets), absl::InfiniteFuture(), &caller_,
        HttpHeaders{{"anthropic-beta", "b1"}}, std::move(after_custom_id));
    CallRecord record;
    record.method = kStreamMessageBatchResultsMethod;
    call_->Begin(record);
  }
  // Plays transfer `n` (from 1): its head, `chunks` of body, then its end; each write the call
  // starts is acknowledged as the reactor would, once the transport's callback has returned.
  void Respond(size_t n, int http_status, const std::vector<std::string>& chunks) {
    ASSERT_GE(calls_.transfers.size(), n);
    TransferSink& sink = *calls_.transfers[n - 1].sink;
    sink.OnHead(http_status, {});
    AcknowledgeWrites();
    for (const std::string& chunk : chunks) {
      if (sink.OnBody(chunk) == BodyAction::kAbort) break;
      AcknowledgeWrites();
    }
    sink.OnDone(absl::OkStatus());
    AcknowledgeWrites();
  }
  void AcknowledgeWrites() {
    while (acknowledged_ < results_.size()) {
      ++acknowledged_;
      call_->WriteDone(true);
    }
  }

  MockCallEnvironment calls_;
  ::testing::NiceMock<MockCallerSide> caller_;
  std::shared_ptr<BatchResultsCall> call_;
  std::vector<std::string> results_;
  size_t acknowledged_ = 0;
  std::optional<grpc::Status> status_;

  // How the RPC ended, its code and message (printable, unlike a grpc::Status, so a failure
  // shows them); nullopt while it has not ended.
  std::optional<std::pair<grpc::StatusCode, std::string>> Ending() const {
    if (!status_.has_value()) return std::nullopt;
    return std::make_pair(status_->error_code(), status_->error_message());
  }
};

TEST_F(BatchResultsCallTest, AnEndedBatchsResultsAreRelayedOnePerLineWhereverTheChunksCut) {
  Begin();
  ASSERT_THAT(calls_.transfers, SizeIs(1));
  EXPECT_EQ(calls_.transfers[0].request.url,
            "https://api.anthropic.com/v1/messages/batches/msgbatch_1");
  Respond(1, 200, {Batch("ended")});
  ASSERT_THAT(calls_.transfers, SizeIs(2)) << "then its results";
  EXPECT_EQ(calls_.transfers[1].request.method, "GET");
  EXPECT_EQ(calls_.transfers[1].request.url, kResultsUrl);
  EXPECT_THAT(calls_.transfers[1].request.headers,
              ::testing::Contains(std::make_pair(std::string("anthropic-beta"), std::string("b1"))))
      << "the caller's forwarded headers go with the results' GET too";
  const std::string a = Result("a");
  Respond(
      2, 200,
      {a.substr(0, 10), a.substr(10) + "\n" + Result("b") + "\r\n", "\n", Result("c").substr(0, 5),
       Result("c").substr(5)});  // a blank line; the last line without its newline
  EXPECT_THAT(results_, ElementsAre("a", "b", "c"));
  EXPECT_THAT(Ending(), Optional(Pair(grpc::StatusCode::OK, _)));
}

TEST_F(BatchResultsCallTest, ABatchStillProcessingIsAFailedPrecondition) {
  Begin();
  Respond(1, 200, {Batch("in_progress", "")});
  EXPECT_THAT(calls_.transfers, SizeIs(1)) << "no results asked for";
  EXPECT_THAT(
      Ending(),
      Optional(Pair(grpc::StatusCode::FAILED_PRECONDITION,
                    "message batch msgbatch_1 is in_progress; its results can be read once it has "
                    "ended")));
}

TEST_F(BatchResultsCallTest, AnEndedBatchWithoutResultsUrlIsAFailedPrecondition) {
  Begin();
  Respond(1, 200, {Batch("ended", "")});
  EXPECT_THAT(Ending(), Optional(Pair(grpc::StatusCode::FAILED_PRECONDITION,
                                      HasSubstr("has no results_url"))));
}

TEST_F(BatchResultsCallTest, ResultsElsewhereThanTheUpstreamAreNeverAskedFor) {
  Begin();
  Respond(1, 200, {Batch("ended", "https://attacker.example/results")});
  EXPECT_THAT(calls_.transfers, SizeIs(1)) << "the key never goes to another host";
  EXPECT_THAT(Ending(), Optional(Pair(grpc::StatusCode::INTERNAL, _)));
}

TEST_F(BatchResultsCallTest, ALineThatDoesNotParseEndsTheRpcAfterTheResultsBeforeIt) {
  Begin();
  Respond(1, 200, {Batch("ended")});
  Respond(2, 200, {Result("a") + "\n{not json\n" + Result("c") + "\n"});
  EXPECT_THAT(results_, ElementsAre("a"));
  EXPECT_THAT(Ending(), Optional(Pair(grpc::StatusCode::INTERNAL,
                                      HasSubstr("upstream results line 2 does not parse"))));
}

TEST_F(BatchResultsCallTest, ResultsUpToAfterCustomIdAreSkipped) {
  Begin("b");
  Respond(1, 200, {Batch("ended")});
  Respond(2, 200,
          {Result("a") + "\n" + Result("b") + "\n" + Result("c") + "\n" + Result("d") + "\n"});
  EXPECT_THAT(results_, ElementsAre("c", "d"));
  EXPECT_THAT(Ending(), Optional(Pair(grpc::StatusCode::OK, _)));
}

TEST_F(BatchResultsCallTest, ABatchLargerThanTheResponseBoundIsInternal) {
  calls_.env.options.max_response_bytes = 64;
  Begin();
  Respond(1, 200, {Batch("ended")});
  EXPECT_THAT(calls_.transfers, SizeIs(1));
  EXPECT_THAT(results_, IsEmpty());
  EXPECT_THAT(Ending(), Optional(Pair(grpc::StatusCode::INTERNAL,
                                      HasSubstr("upstream batch exceeds 64 bytes"))));
}

}  // namespace
}  // namespace claude::testing
