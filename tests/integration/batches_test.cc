// claude.v1.MessageBatches end to end: a real server in front of fake-anthropic's batch state
// machine (tests/fake_upstream/fake_batches.h), and scripted replies for upstream faults.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "claude/v1/message_batches.grpc.pb.h"
#include "tests/fake_upstream/fake_batches.h"
#include "tests/testing/mock_dialect.h"
#include "tests/testing/resident_memory.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using v1::MessageBatch;
using v1::MessageBatchResult;

// A harness without retries (each upstream error shows as is) and its batches stub.
struct BatchesHarness {
  explicit BatchesHarness(HarnessOptions options = NoRetries())
      : h(std::move(options)), stub(v1::MessageBatches::NewStub(h.channel())) {}
  static HarnessOptions NoRetries() {
    HarnessOptions options;
    options.max_retries = 0;
    return options;
  }
  ServerHarness h;
  std::unique_ptr<v1::MessageBatches::Stub> stub;
};

v1::CreateMessageBatchRequest Batch(const std::vector<std::pair<std::string, std::string>>& id_and_text) {
  v1::CreateMessageBatchRequest request;
  for (const auto& [id, text] : id_and_text) {
    v1::MessageBatchRequest* item = request.add_requests();
    item->set_custom_id(id);
    *item->mutable_params() = Hello();
    item->mutable_params()->mutable_messages(0)->set_content_text(text);
  }
  return request;
}

grpc::Status Create(BatchesHarness& b, const v1::CreateMessageBatchRequest& request, MessageBatch* batch) {
  grpc::ClientContext context;
  return b.stub->CreateMessageBatch(&context, request, batch);
}

grpc::Status Get(BatchesHarness& b, const std::string& id, MessageBatch* batch) {
  grpc::ClientContext context;
  v1::GetMessageBatchRequest request;
  request.set_message_batch_id(id);
  return b.stub->GetMessageBatch(&context, request, batch);
}

grpc::Status Cancel(BatchesHarness& b, const std::string& id, MessageBatch* batch) {
  grpc::ClientContext context;
  v1::CancelMessageBatchRequest request;
  request.set_message_batch_id(id);
  return b.stub->CancelMessageBatch(&context, request, batch);
}

grpc::Status Delete(BatchesHarness& b, const std::string& id) {
  grpc::ClientContext context;
  v1::DeleteMessageBatchRequest request;
  request.set_message_batch_id(id);
  v1::DeleteMessageBatchResponse response;
  grpc::Status status = b.stub->DeleteMessageBatch(&context, request, &response);
  if (status.ok()) {
    EXPECT_EQ(response.id(), id);
    EXPECT_EQ(response.type(), "message_batch_deleted");
  }
  return status;
}

grpc::Status List(BatchesHarness& b, const v1::ListMessageBatchesRequest& request,
                  v1::ListMessageBatchesResponse* page) {
  grpc::ClientContext context;
  return b.stub->ListMessageBatches(&context, request, page);
}

struct Results {
  std::vector<MessageBatchResult> results;
  grpc::Status status;
};

Results ReadResults(BatchesHarness& b, const std::string& id, const char* after_custom_id = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + Scaled(absl::Seconds(60))));
  v1::StreamMessageBatchResultsRequest request;
  request.set_message_batch_id(id);
  if (after_custom_id != nullptr) request.set_after_custom_id(after_custom_id);
  auto reader = b.stub->StreamMessageBatchResults(&context, request);
  Results out;
  MessageBatchResult result;
  while (reader->Read(&result)) out.results.push_back(result);
  out.status = reader->Finish();
  return out;
}

std::vector<std::string> CustomIds(const Results& r) {
  std::vector<std::string> ids;
  for (const MessageBatchResult& result : r.results) ids.push_back(result.custom_id());
  return ids;
}

// An ended batch whose results_url is `results_url`, as the API's JSON.
std::string EndedBatchJson(const std::string& results_url) {
  return absl::StrCat(R"({"id":"msgbatch_x","type":"message_batch","processing_status":"ended",)",
                      R"("request_counts":{"processing":0,"succeeded":3,"errored":0,"canceled":0,"expired":0},)",
                      R"("created_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:01:00Z",)",
                      R"("expires_at":"2026-01-02T00:00:00Z","cancel_initiated_at":null,"archived_at":null,)",
                      R"("results_url":")", results_url, R"("})");
}

std::string ResultLine(const std::string& custom_id) {
  return absl::StrCat(R"({"custom_id":")", custom_id, R"(","result":{"type":"canceled"}})", "\n");
}

TEST(BatchesTest, CreateGetListCancelDeleteFollowTheBatchThroughItsStates) {
  BatchesHarness b;
  b.h.upstream().batches().set_processing_time(absl::Hours(1));
  b.h.upstream().batches().set_cancel_time(absl::Hours(1));
  MessageBatch created;
  ASSERT_TRUE(Create(b, Batch({{"a", "one"}, {"b", "two"}, {"c", "three"}}), &created).ok());
  EXPECT_THAT(created.id(), HasSubstr("msgbatch_"));
  EXPECT_EQ(created.processing_status(), v1::PROCESSING_STATUS_IN_PROGRESS);
  EXPECT_EQ(created.request_counts().processing(), 3);
  EXPECT_FALSE(created.has_results_url());
  EXPECT_FALSE(created.created_at().empty());
  // The body went up as the API's JSON: one {custom_id, params} per request.
  const RecordedRequest sent = b.h.upstream().requests().back();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.path, "/v1/messages/batches");
  EXPECT_THAT(sent.body, HasSubstr(R"("custom_id":"b","params":{"model":)"));

  MessageBatch got;
  ASSERT_TRUE(Get(b, created.id(), &got).ok());
  EXPECT_EQ(got.id(), created.id());
  EXPECT_EQ(got.processing_status(), v1::PROCESSING_STATUS_IN_PROGRESS);

  // Deleting a batch still processing is the upstream's refusal, passed on.
  const grpc::Status early_delete = Delete(b, created.id());
  EXPECT_EQ(early_delete.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(early_delete.error_message(), HasSubstr("cancel it first"));

  MessageBatch canceling;
  ASSERT_TRUE(Cancel(b, created.id(), &canceling).ok());
  EXPECT_EQ(canceling.processing_status(), v1::PROCESSING_STATUS_CANCELING);
  EXPECT_TRUE(canceling.has_cancel_initiated_at());

  // Once canceling is over, the batch has ended and every request is canceled.
  b.h.upstream().batches().set_cancel_time(absl::ZeroDuration());
  MessageBatch ended;
  ASSERT_TRUE(Get(b, created.id(), &ended).ok());
  EXPECT_EQ(ended.processing_status(), v1::PROCESSING_STATUS_ENDED);
  EXPECT_EQ(ended.request_counts().canceled(), 3);
  EXPECT_TRUE(ended.has_results_url());
  Results results = ReadResults(b, created.id());
  ASSERT_TRUE(results.status.ok()) << results.status.error_message();
  ASSERT_EQ(results.results.size(), 3u);
  for (const MessageBatchResult& r : results.results) EXPECT_TRUE(r.result().has_canceled()) << r.custom_id();

  v1::ListMessageBatchesResponse page;
  ASSERT_TRUE(List(b, {}, &page).ok());
  ASSERT_EQ(page.data_size(), 1);
  EXPECT_EQ(page.data(0).id(), created.id());

  ASSERT_TRUE(Delete(b, created.id()).ok());
  MessageBatch gone;
  EXPECT_EQ(Get(b, created.id(), &gone).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(BatchesTest, ListPagesWithTheApisCursors) {
  BatchesHarness b;
  std::vector<std::string> ids;  // oldest first
  for (int i = 0; i < 5; ++i) {
    MessageBatch batch;
    ASSERT_TRUE(Create(b, Batch({{"only", "hi"}}), &batch).ok());
    ids.push_back(batch.id());
  }
  v1::ListMessageBatchesRequest first;
  first.set_limit(2);
  v1::ListMessageBatchesResponse page1;
  ASSERT_TRUE(List(b, first, &page1).ok());
  ASSERT_EQ(page1.data_size(), 2);
  EXPECT_EQ(page1.data(0).id(), ids[4]);  // newest first
  EXPECT_TRUE(page1.has_more());
  EXPECT_EQ(page1.first_id(), ids[4]);
  EXPECT_EQ(page1.last_id(), ids[3]);
  EXPECT_EQ(b.h.upstream().requests().back().path, "/v1/messages/batches?limit=2");

  v1::ListMessageBatchesRequest next;
  next.set_limit(2);
  next.set_after_id(page1.last_id());
  v1::ListMessageBatchesResponse page2;
  ASSERT_TRUE(List(b, next, &page2).ok());
  ASSERT_EQ(page2.data_size(), 2);
  EXPECT_EQ(page2.data(0).id(), ids[2]);
  EXPECT_EQ(page2.last_id(), ids[1]);
  EXPECT_TRUE(page2.has_more());

  v1::ListMessageBatchesRequest back;
  back.set_before_id(page2.first_id());
  v1::ListMessageBatchesResponse page0;
  ASSERT_TRUE(List(b, back, &page0).ok());
  ASSERT_EQ(page0.data_size(), 2);
  EXPECT_EQ(page0.first_id(), ids[4]);

  v1::ListMessageBatchesRequest bad;
  bad.set_limit(0);
  v1::ListMessageBatchesResponse none;
  const grpc::Status refused = List(b, bad, &none);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(), "limit: must be at least 1");
}

TEST(BatchesTest, UnknownIdIsNotFoundOnEveryRpc) {
  BatchesHarness b;
  MessageBatch batch;
  EXPECT_EQ(Get(b, "msgbatch_nope", &batch).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Cancel(b, "msgbatch_nope", &batch).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Delete(b, "msgbatch_nope").error_code(), grpc::StatusCode::NOT_FOUND);
  Results results = ReadResults(b, "msgbatch_nope");
  EXPECT_EQ(results.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(results.status.error_message(), HasSubstr("msgbatch_nope"));
  // An id is one path segment, whatever it holds.
  EXPECT_EQ(Get(b, "../models", &batch).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(b.h.upstream().requests().back().path, "/v1/messages/batches/..%2Fmodels");
}

TEST(BatchesTest, ResultsBeforeTheBatchHasEndedAreAFailedPrecondition) {
  BatchesHarness b;
  b.h.upstream().batches().set_processing_time(absl::Hours(1));
  MessageBatch batch;
  ASSERT_TRUE(Create(b, Batch({{"a", "one"}}), &batch).ok());
  Results results = ReadResults(b, batch.id());
  EXPECT_EQ(results.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(results.status.error_message(), HasSubstr("is in_progress"));
  EXPECT_TRUE(results.results.empty());
  EXPECT_EQ(b.h.upstream().request_count(), 2) << "the results themselves are never asked for";
}

TEST(BatchesTest, InvalidBatchesNameTheRequestIndexAndNeverReachTheUpstream) {
  BatchesHarness b;
  struct Case {
    v1::CreateMessageBatchRequest request;
    const char* message;
  };
  std::vector<Case> cases;
  {
    v1::CreateMessageBatchRequest r = Batch({{"a", "x"}, {"b", "y"}});
    r.mutable_requests(1)->mutable_params()->set_max_tokens(0);
    cases.push_back({r, "requests[1].params.max_tokens: "});
  }
  cases.push_back({Batch({{"a", "x"}, {"b", "y"}, {"a", "z"}}), "requests[2].custom_id: \"a\" is used by an earlier"});
  cases.push_back({Batch({{"a", "x"}, {"has space", "y"}}), "requests[1].custom_id: must match"});
  cases.push_back({Batch({{std::string(65, 'a'), "y"}}), "requests[0].custom_id: must match"});
  cases.push_back({Batch({{"", "y"}}), "requests[0].custom_id: must match"});
  cases.push_back({v1::CreateMessageBatchRequest(), "requests: required"});
  {
    v1::CreateMessageBatchRequest r = Batch({{"a", "x"}});
    r.mutable_requests(0)->clear_params();
    cases.push_back({r, "requests[0].params: required"});
  }
  for (const Case& c : cases) {
    MessageBatch batch;
    const grpc::Status status = Create(b, c.request, &batch);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.message;
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
  }
#ifndef CLAUDE_SANITIZED  // 100,001 requests take minutes to build and check under sanitizers
  // Over the API's request count.
  v1::CreateMessageBatchRequest many;
  v1::MessageBatchRequest item;
  *item.mutable_params() = Hello();
  for (int i = 0; i <= 100000; ++i) {
    item.set_custom_id(absl::StrCat("r", i));
    *many.add_requests() = item;
  }
  MessageBatch batch;
  const grpc::Status too_many = Create(b, many, &batch);
  EXPECT_EQ(too_many.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(too_many.error_message(), HasSubstr("requests: at most 100000 requests"));
#endif
  EXPECT_EQ(b.h.upstream().request_count(), 0);
}

TEST(BatchesTest, ResultsStreamEveryKindOfResultWithItsCustomId) {
  BatchesHarness b;
  MessageBatch batch;
  ASSERT_TRUE(Create(b, Batch({{"ok-1", "hello"}, {"bad", "error"}, {"late", "expire"}, {"ok-2", "bye"}}), &batch).ok());
  MessageBatch ended;
  ASSERT_TRUE(Get(b, batch.id(), &ended).ok());
  ASSERT_EQ(ended.processing_status(), v1::PROCESSING_STATUS_ENDED);
  EXPECT_EQ(ended.request_counts().succeeded(), 2);
  EXPECT_EQ(ended.request_counts().errored(), 1);
  EXPECT_EQ(ended.request_counts().expired(), 1);

  Results results = ReadResults(b, batch.id());
  ASSERT_TRUE(results.status.ok()) << results.status.error_message();
  EXPECT_THAT(CustomIds(results), ::testing::ElementsAre("ok-1", "bad", "late", "ok-2"));
  ASSERT_EQ(results.results.size(), 4u);
  ASSERT_TRUE(results.results[0].result().has_succeeded());
  EXPECT_EQ(results.results[0].result().succeeded().message().content(0).text().text(), "Echo: hello");
  ASSERT_TRUE(results.results[1].result().has_errored());
  EXPECT_EQ(results.results[1].result().errored().error().error().type(), "invalid_request_error");
  EXPECT_FALSE(results.results[1].result().errored().error().error().message().empty());
  EXPECT_TRUE(results.results[2].result().has_expired());
  EXPECT_EQ(results.results[3].result().succeeded().message().content(0).text().text(), "Echo: bye");
  // The results were fetched from the batch's results_url, with the upstream's key.
  const RecordedRequest fetched = b.h.upstream().requests().back();
  EXPECT_EQ(fetched.path, absl::StrCat("/v1/messages/batches/", batch.id(), "/results"));
  const std::string* key = FindHeader(fetched.headers, "x-api-key");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(*key, "sk-ant-test-key");
}

TEST(BatchesTest, AfterCustomIdResumesAfterThatResult) {
  BatchesHarness b;
  MessageBatch batch;
  ASSERT_TRUE(Create(b, Batch({{"r1", "a"}, {"r2", "b"}, {"r3", "c"}, {"r4", "d"}}), &batch).ok());
  Results rest = ReadResults(b, batch.id(), "r2");
  ASSERT_TRUE(rest.status.ok());
  EXPECT_THAT(CustomIds(rest), ::testing::ElementsAre("r3", "r4"));
  Results after_last = ReadResults(b, batch.id(), "r4");
  ASSERT_TRUE(after_last.status.ok());
  EXPECT_TRUE(after_last.results.empty());
}

TEST(BatchesTest, AHundredThousandResultsStreamInOrder) {
#ifdef CLAUDE_SANITIZED
  constexpr int64_t kResults = 10000;  // sanitized builds run it several times slower
#else
  constexpr int64_t kResults = 100000;
#endif
  BatchesHarness b;
  const std::string id = b.h.upstream().batches().AddSyntheticBatch(kResults, 16);
  grpc::ClientContext context;
  v1::StreamMessageBatchResultsRequest request;
  request.set_message_batch_id(id);
  auto reader = b.stub->StreamMessageBatchResults(&context, request);
  MessageBatchResult result;
  int64_t n = 0;
  bool in_order = true;
  while (reader->Read(&result)) {
    in_order = in_order && result.custom_id() == absl::StrCat("r", n) && result.result().has_succeeded();
    ++n;
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(n, kResults);
  EXPECT_TRUE(in_order);
}

TEST(BatchesTest, CancelMidResultsClosesTheDownload) {
  BatchesHarness b;
  const std::string id = b.h.upstream().batches().AddSyntheticBatch(1000000, 1024);
  grpc::ClientContext context;
  v1::StreamMessageBatchResultsRequest request;
  request.set_message_batch_id(id);
  auto reader = b.stub->StreamMessageBatchResults(&context, request);
  MessageBatchResult result;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(reader->Read(&result));
  context.TryCancel();
  EXPECT_TRUE(b.h.upstream().WaitForDisconnects(1, Scaled(absl::Milliseconds(100))));
  while (reader->Read(&result)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(b.h.WaitForIdleLoop(Scaled(absl::Seconds(2))));
}

TEST(BatchesTest, AMalformedLineEndsTheStreamAfterTheGoodLinesBeforeIt) {
  BatchesHarness b;
  b.h.upstream().Enqueue(JsonReply(200, EndedBatchJson(b.h.upstream().base_url() + "/results/x")));
  FakeReply lines;
  lines.headers = {{"content-type", "application/binary"}};
  // Split mid-line, to show lines are joined across body pieces.
  lines.chunks = {ResultLine("one") + ResultLine("tw").substr(0, 10), ResultLine("two").substr(10),
                  "{\"custom_id\": not json}\n", ResultLine("four")};
  b.h.upstream().Enqueue(lines);
  Results results = ReadResults(b, "msgbatch_x");
  EXPECT_THAT(CustomIds(results), ::testing::ElementsAre("one", "two"));
  EXPECT_EQ(results.status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(results.status.error_message(), HasSubstr("line 3"));
}

TEST(BatchesTest, ResultsUrlOnAnotherOriginIsRefusedAndNeverGetsTheKey) {
  BatchesHarness b;
  for (const std::string& url : {std::string("https://evil.example/results"),
                                b.h.upstream().base_url() + ".evil.example/results",
                                b.h.upstream().base_url() + "@evil.example/results",
                                std::string("results/relative")}) {
    b.h.upstream().Enqueue(JsonReply(200, EndedBatchJson(url)));
    Results results = ReadResults(b, "msgbatch_x");
    EXPECT_EQ(results.status.error_code(), grpc::StatusCode::INTERNAL) << url;
    EXPECT_THAT(results.status.error_message(), HasSubstr("not on the upstream's origin")) << url;
  }
  EXPECT_EQ(b.h.upstream().request_count(), 4) << "only the batches were fetched";
}

// Each RPC passes an upstream error response on through the error table.
TEST(BatchesTest, AnUpstreamErrorReachesTheCallerOnEveryRpc) {
  BatchesHarness b;
  const std::string overloaded = R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";
  auto expect_overloaded = [](const grpc::Status& status, const char* rpc) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << rpc;
    EXPECT_THAT(status.error_message(), HasSubstr("Overloaded")) << rpc;
  };
  MessageBatch batch;
  b.h.upstream().Enqueue(JsonReply(529, overloaded));
  expect_overloaded(Create(b, Batch({{"a", "x"}}), &batch), "create");
  b.h.upstream().Enqueue(JsonReply(529, overloaded));
  expect_overloaded(Get(b, "msgbatch_x", &batch), "get");
  b.h.upstream().Enqueue(JsonReply(529, overloaded));
  v1::ListMessageBatchesResponse page;
  expect_overloaded(List(b, {}, &page), "list");
  b.h.upstream().Enqueue(JsonReply(529, overloaded));
  expect_overloaded(Cancel(b, "msgbatch_x", &batch), "cancel");
  b.h.upstream().Enqueue(JsonReply(529, overloaded));
  expect_overloaded(Delete(b, "msgbatch_x"), "delete");
  // Results: the batch's request, then the results' own.
  b.h.upstream().Enqueue(JsonReply(529, overloaded));
  expect_overloaded(ReadResults(b, "msgbatch_x").status, "results (batch)");
  b.h.upstream().Enqueue(JsonReply(200, EndedBatchJson(b.h.upstream().base_url() + "/results/x")));
  b.h.upstream().Enqueue(JsonReply(529, overloaded));
  expect_overloaded(ReadResults(b, "msgbatch_x").status, "results (download)");
}

// The results download is cut: never OK.
TEST(BatchesTest, ResultsCutShortAreUnavailable) {
  BatchesHarness b;
  b.h.upstream().Enqueue(JsonReply(200, EndedBatchJson(b.h.upstream().base_url() + "/results/x")));
  FakeReply cut;
  cut.headers = {{"content-type", "application/binary"}};
  cut.chunks = {ResultLine("one"), ResultLine("two")};
  cut.close_mid_body = true;
  b.h.upstream().Enqueue(cut);
  Results results = ReadResults(b, "msgbatch_x");
  EXPECT_THAT(CustomIds(results), ::testing::ElementsAre("one", "two"));
  EXPECT_EQ(results.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(BatchesTest, ASlowReaderPausesTheDownloadAndMemoryStaysBounded) {
  HarnessOptions options = BatchesHarness::NoRetries();
  options.call.stream_buffer_bytes = 256 * 1024;
  BatchesHarness b(options);
  // 50 MB of results of 64 KB each.
  const std::string id = b.h.upstream().batches().AddSyntheticBatch(800, 64 * 1024);
  grpc::ClientContext context;
  v1::StreamMessageBatchResultsRequest request;
  request.set_message_batch_id(id);
  auto reader = b.stub->StreamMessageBatchResults(&context, request);
  MessageBatchResult result;
  ASSERT_TRUE(reader->Read(&result));
  ResidentGrowth memory;
  bool saw_pause = false;
  int n = 1;
  while (reader->Read(&result)) {
    ++n;
    if (n % 8 == 0) absl::SleepFor(absl::Milliseconds(10));
    saw_pause = saw_pause || b.h.loop().paused_transfers() > 0;
    memory.Sample();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(n, 800);
  EXPECT_TRUE(saw_pause) << "the download is paused while the reader lags";
  memory.ExpectBelow(16 * 1024, "slow results reader, 50 MB passed through");
}

// A dialect without batches (here the mock, which keeps Dialect's defaults) refuses them all.
TEST(BatchesTest, ADialectWithoutBatchesAnswersUnimplemented) {
  auto dialect = std::make_shared<::testing::NiceMock<MockDialect>>();
  ON_CALL(*dialect, name()).WillByDefault(::testing::Return("chat_completions"));
  HarnessOptions options;
  options.configure = [dialect](ServerConfig& config) { config.dialect = dialect; };
  BatchesHarness b(options);
  MessageBatch batch;
  const grpc::Status created = Create(b, Batch({{"a", "x"}}), &batch);
  EXPECT_EQ(created.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(created.error_message(), HasSubstr("Messages API feature"));
  EXPECT_EQ(Get(b, "msgbatch_x", &batch).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(ReadResults(b, "msgbatch_x").status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(b.h.upstream().request_count(), 0);
}

}  // namespace
}  // namespace claude::testing
