// The call logic on its own: a mock transport whose transfers the test plays by hand through
// the sinks the call hands it, a fake clock, and a mock CallerSide in place of the gRPC reactor.
// No sockets, no threads, no sleeps. The Messages dialect reads the bodies (it does no I/O).
#include "service/rpc/upstream_call.h"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "service/errors/error_table.h"
#include "service/upstream/messages_dialect.h"
#include "tests/testing/mock_call_seams.h"
#include "tests/testing/mock_transport.h"

namespace claude::testing {
namespace {

using ::testing::_;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::InSequence;
using ::testing::Mock;
using ::testing::NotNull;
using ::testing::Property;
using ::testing::Return;

constexpr char kMessageJson[] =
    R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-test",)"
    R"("content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn",)"
    R"("usage":{"input_tokens":3,"output_tokens":1}})";
constexpr char kOverloadedJson[] = R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";

std::string Sse(absl::string_view type, absl::string_view json) {
  return absl::StrCat("event: ", type, "\ndata: ", json, "\n\n");
}
const std::string kMessageStart = Sse(
    "message_start",
    R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",)"
    R"("model":"claude-test","content":[],"stop_reason":null,)"
    R"("usage":{"input_tokens":5,"output_tokens":1,"cache_read_input_tokens":2}}})");
const std::string kBlockStart =
    Sse("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
std::string TextDelta(absl::string_view text) {
  return Sse("content_block_delta",
             absl::StrCat(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")", text,
                          R"("}})"));
}
const std::string kBlockStop = Sse("content_block_stop", R"({"type":"content_block_stop","index":0})");
const std::string kMessageDelta = Sse(
    "message_delta",
    R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}})");
const std::string kMessageStop = Sse("message_stop", R"({"type":"message_stop"})");

// Keeps the records the call hands to observers.
class RecordingObserver : public CallObserver {
 public:
  void OnCallEnd(const CallRecord& record) override { records.push_back(record); }
  std::vector<CallRecord> records;
};

// One transfer the call started on the mock transport.
struct Transfer {
  HttpRequest request;
  std::shared_ptr<TransferSink> sink;
  absl::Duration delay;
  Transport::TransferId id;
};

class UpstreamCallTest : public ::testing::Test {
 protected:
  UpstreamCallTest() : policy_(/*max_retries=*/2, [] { return 0.0; }) {
    MessagesDialectOptions options;
    options.base_url = "http://upstream.test";
    dialect_ = *MessagesDialect::Create(options);
    observer_ = std::make_shared<RecordingObserver>();
    observers_.Add(observer_);
    env_.transport = &transport_;
    env_.dialect = dialect_.get();
    env_.retry_policy = &policy_;
    env_.clock = &clock_;
    env_.observers = &observers_;
    ON_CALL(transport_, Start).WillByDefault([this](HttpRequest request, std::shared_ptr<TransferSink> sink,
                                                    absl::Duration delay) {
      const Transport::TransferId id = 100 + transfers_.size();
      transfers_.push_back(Transfer{std::move(request), std::move(sink), delay, id});
      return id;
    });
  }

  HttpRequest Request(bool stream) {
    v1::CreateMessageRequest request;
    request.set_model("claude-test");
    request.set_max_tokens(16);
    return *dialect_->CreateMessage(request, stream, {});
  }
  std::shared_ptr<UnaryCall> Unary(absl::Time deadline = absl::InfiniteFuture()) {
    return std::make_shared<UnaryCall>(env_, Request(false), deadline, &caller_, &response_, false);
  }
  std::shared_ptr<StreamCall> Stream(absl::Time deadline = absl::InfiniteFuture()) {
    return std::make_shared<StreamCall>(env_, Request(true), deadline, &caller_);
  }
  static CallRecord NewRecord() {
    CallRecord record;
    record.method = kCreateMessageMethod;
    return record;
  }

  // Plays a whole response on transfer `i`.
  void Respond(size_t i, int http_status, const std::string& body, HttpHeaders headers = {}) {
    ASSERT_LT(i, transfers_.size());
    TransferSink& sink = *transfers_[i].sink;
    sink.OnHead(http_status, headers);
    if (!body.empty()) {
      EXPECT_EQ(sink.OnBody(body), BodyAction::kContinue);
    }
    sink.OnDone(absl::OkStatus());
  }

  ::testing::NiceMock<MockTransport> transport_;
  MockCallerSide caller_;
  FakeClock clock_;
  RetryPolicy policy_;
  std::unique_ptr<MessagesDialect> dialect_;
  std::shared_ptr<RecordingObserver> observer_;
  CallObservers observers_;
  CallEnvironment env_;
  std::vector<Transfer> transfers_;
  v1::Message response_;
};

auto HasCode(grpc::StatusCode code) { return Property(&grpc::Status::error_code, code); }

TEST_F(UpstreamCallTest, RetriesAnOverloadedUpstreamThenSucceeds) {
  auto call = Unary();
  call->Begin(NewRecord());
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_EQ(transfers_[0].request.url, "http://upstream.test/v1/messages");
  EXPECT_EQ(transfers_[0].delay, absl::ZeroDuration());

  Respond(0, 529, kOverloadedJson);
  ASSERT_EQ(transfers_.size(), 2u);
  EXPECT_EQ(transfers_[1].delay, RetryPolicy::kInitialBackoff);  // jitter 0: the whole backoff

  EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::OK), _)).Times(1);
  Respond(1, 200, kMessageJson, {{"request-id", "req_2"}});
  EXPECT_EQ(response_.content(0).text().text(), "hi");

  ASSERT_EQ(observer_->records.size(), 1u);
  const CallRecord& record = observer_->records[0];
  EXPECT_THAT(record.attempt_statuses, ElementsAre(529, 200));
  EXPECT_EQ(record.retries, 1);
  EXPECT_EQ(record.request_id, "req_2");
  ASSERT_TRUE(record.usage.has_value());
  EXPECT_EQ(record.usage->count("input"), 3);
  EXPECT_EQ(record.usage->count("output"), 1);
}

TEST_F(UpstreamCallTest, RetryAfterHeaderIsTheDelayOfTheNextAttempt) {
  auto call = Unary();
  call->Begin(NewRecord());
  Respond(0, 429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})",
          {{"retry-after", "3"}});
  ASSERT_EQ(transfers_.size(), 2u);
  EXPECT_EQ(transfers_[1].delay, absl::Seconds(3));

  EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::RESOURCE_EXHAUSTED), _)).Times(1);
  Respond(1, 429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})",
          {{"retry-after-ms", "1500"}});
  ASSERT_EQ(transfers_.size(), 3u);
  EXPECT_EQ(transfers_[2].delay, absl::Milliseconds(1500));
  Respond(2, 429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})");
  EXPECT_EQ(transfers_.size(), 3u);  // max_retries 2
}

TEST_F(UpstreamCallTest, ErrorEventAfter200EndsTheStreamAfterTheEventsBeforeIt) {
  auto call = Stream();
  call->Begin(NewRecord());
  ASSERT_EQ(transfers_.size(), 1u);
  TransferSink& sink = *transfers_[0].sink;
  {
    InSequence order;
    EXPECT_CALL(caller_, SendEvent(Property(&v1::MessageStreamEvent::has_message_start, true), NotNull()));
    EXPECT_CALL(caller_, SendEvent(Property(&v1::MessageStreamEvent::has_content_block_start, true), nullptr));
    EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::UNAVAILABLE), _))
        .WillOnce([](const grpc::Status& status, const HttpHeaders&) {
          EXPECT_THAT(status.error_message(), HasSubstr("overloaded_error"));
        });
  }
  sink.OnHead(200, {{"request-id", "req_1"}});
  EXPECT_EQ(sink.OnBody(kMessageStart + kBlockStart + Sse("error", kOverloadedJson) + TextDelta("never")),
            BodyAction::kAbort);
  call->WriteDone(true);
  call->WriteDone(true);
  sink.OnDone(absl::AbortedError("transfer aborted by its reader"));
  EXPECT_EQ(transfers_.size(), 1u);  // events reached the caller: no retry
}

TEST_F(UpstreamCallTest, StreamCutBeforeMessageStopIsUnavailable) {
  auto call = Stream();
  call->Begin(NewRecord());
  EXPECT_CALL(caller_, SendEvent(_, _)).Times(1);
  EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::UNAVAILABLE), _)).Times(1);
  Respond(0, 200, kMessageStart);
  call->WriteDone(true);
}

TEST_F(UpstreamCallTest, CancelBeforeTheCallStartsSendsNothingUpstream) {
  auto call = Stream();
  EXPECT_CALL(transport_, Start).Times(0);
  EXPECT_CALL(transport_, Cancel).Times(0);
  EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::CANCELLED), _)).Times(1);
  call->Cancel();
  call->Begin(NewRecord());
}

TEST_F(UpstreamCallTest, CancelWhileWaitingForTheHeadCancelsTheTransfer) {
  auto call = Unary();
  call->Begin(NewRecord());
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_CALL(transport_, Cancel(transfers_[0].id)).Times(1);
  EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::CANCELLED), _)).Times(1);
  call->Cancel();
  call->Cancel();  // a second cancel (deadline and OnCancel) changes nothing
  transfers_[0].sink->OnDone(absl::CancelledError("cancelled"));
  EXPECT_EQ(transfers_.size(), 1u);
}

TEST_F(UpstreamCallTest, CancelMidBodyCancelsTheTransferAndEndsOnceTheWriteIsDone) {
  auto call = Stream();
  call->Begin(NewRecord());
  TransferSink& sink = *transfers_[0].sink;
  EXPECT_CALL(caller_, SendEvent(_, _)).Times(1);
  sink.OnHead(200, {});
  EXPECT_EQ(sink.OnBody(kMessageStart + kBlockStart), BodyAction::kContinue);
  Mock::VerifyAndClearExpectations(&caller_);

  EXPECT_CALL(transport_, Cancel(transfers_[0].id)).Times(1);
  EXPECT_CALL(caller_, SendStatus(_, _)).Times(0);
  call->Cancel();  // a write is in flight: the status waits for it
  Mock::VerifyAndClearExpectations(&caller_);

  EXPECT_CALL(caller_, SendEvent(_, _)).Times(0);
  EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::CANCELLED), _)).Times(1);
  call->WriteDone(false);
  EXPECT_EQ(sink.OnBody(TextDelta("late")), BodyAction::kAbort);
  sink.OnDone(absl::CancelledError("cancelled"));
}

TEST_F(UpstreamCallTest, CancelDuringABackoffDelayCancelsTheDelayedTransfer) {
  auto call = Unary();
  call->Begin(NewRecord());
  Respond(0, 503, "");
  ASSERT_EQ(transfers_.size(), 2u);
  EXPECT_GT(transfers_[1].delay, absl::ZeroDuration());
  EXPECT_CALL(transport_, Cancel(transfers_[1].id)).Times(1);
  EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::CANCELLED), _)).Times(1);
  call->Cancel();
  transfers_[1].sink->OnDone(absl::CancelledError("cancelled"));
  EXPECT_EQ(transfers_.size(), 2u);
}

TEST_F(UpstreamCallTest, FullRelayPausesTheTransferAndDrainedRelayResumesIt) {
  // Any queued event is above this high watermark; the low one (0) is an empty queue.
  env_.options.stream_buffer_bytes = 1;
  auto call = Stream();
  call->Begin(NewRecord());
  TransferSink& sink = *transfers_[0].sink;
  const Transport::TransferId id = transfers_[0].id;
  EXPECT_CALL(transport_, Resume).Times(0);
  EXPECT_CALL(caller_, SendEvent(_, _)).Times(1);
  sink.OnHead(200, {});
  EXPECT_EQ(sink.OnBody(kMessageStart + kBlockStart + TextDelta("a") + TextDelta("b") + TextDelta("c") +
                        TextDelta("d")),
            BodyAction::kContinue);
  // Five events wait: the next chunk is refused, to come again after Resume.
  EXPECT_EQ(sink.OnBody(kBlockStop), BodyAction::kPause);
  EXPECT_EQ(sink.OnBody(kBlockStop), BodyAction::kPause);
  Mock::VerifyAndClearExpectations(&transport_);
  Mock::VerifyAndClearExpectations(&caller_);

  // The caller reads: each write done starts the next; once the queue is empty (the last event
  // in flight) the transfer resumes, once.
  int writes = 0;
  EXPECT_CALL(caller_, SendEvent(_, _)).WillRepeatedly([&writes](const v1::MessageStreamEvent&, const HttpHeaders*) {
    ++writes;
  });
  EXPECT_CALL(transport_, Resume(id)).Times(1);
  for (int i = 0; i < 5; ++i) call->WriteDone(true);
  EXPECT_EQ(writes, 5);
  Mock::VerifyAndClearExpectations(&transport_);

  // The refused chunk comes again, with the rest of the stream.
  EXPECT_CALL(caller_, SendEvent(_, _)).Times(3);
  EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::OK), _)).Times(1);
  EXPECT_EQ(sink.OnBody(kBlockStop + kMessageDelta + kMessageStop), BodyAction::kContinue);
  sink.OnDone(absl::OkStatus());
  for (int i = 0; i < 4; ++i) call->WriteDone(true);

  ASSERT_EQ(observer_->records.size(), 1u);
  const CallRecord& record = observer_->records[0];
  ASSERT_TRUE(record.usage.has_value());
  // message_start's usage, message_delta's output count overwriting (not adding to) it.
  EXPECT_EQ(record.usage->count("input"), 5);
  EXPECT_EQ(record.usage->count("output"), 7);
  EXPECT_EQ(record.usage->count("cache_read_input"), 2);
}

TEST_F(UpstreamCallTest, DeadlineAlreadyPassedStartsNoAttempt) {
  auto call = Unary(clock_.Now() - absl::Milliseconds(1));
  EXPECT_CALL(transport_, Start).Times(0);
  EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::DEADLINE_EXCEEDED), _)).Times(1);
  call->Begin(NewRecord());
}

TEST_F(UpstreamCallTest, EachAttemptGetsTheTimeLeftBeforeTheDeadline) {
  const absl::Time deadline = clock_.Now() + absl::Seconds(10);
  auto call = Unary(deadline);
  call->Begin(NewRecord());
  EXPECT_EQ(transfers_[0].request.timeout, absl::Seconds(10));
  clock_.Advance(absl::Seconds(2));
  Respond(0, 500, "");
  ASSERT_EQ(transfers_.size(), 2u);
  // What is left after the delay: 10 s - 2 s spent - 0.5 s backoff.
  EXPECT_EQ(transfers_[1].request.timeout, absl::Seconds(10) - absl::Seconds(2) - RetryPolicy::kInitialBackoff);

  // A retry that could only start after the deadline is not made: the upstream's error ends it.
  clock_.Advance(absl::Seconds(7));
  EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::RESOURCE_EXHAUSTED), _)).Times(1);
  Respond(1, 429, "", {{"retry-after", "5"}});
  EXPECT_EQ(transfers_.size(), 2u);
}

TEST_F(UpstreamCallTest, FailedSignatureIsAnUnavailableUpstreamNotTheCallersAuth) {
  // The transport reports a signer's failure as the transfer's status; the call must not map
  // it to UNAUTHENTICATED (the server's credentials failing is not the caller's fault).
  auto call = Unary();
  call->Begin(NewRecord());
  EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::UNAVAILABLE), _)).Times(1);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_LT(i, transfers_.size());
    transfers_[i].sink->OnDone(absl::UnavailableError("no upstream credentials readable"));
  }
}

TEST_F(UpstreamCallTest, RequestTheTransportCouldNotSetUpIsNotRetried) {
  auto call = Unary();
  call->Begin(NewRecord());
  EXPECT_CALL(caller_, SendStatus(HasCode(grpc::StatusCode::INTERNAL), _)).Times(1);
  transfers_[0].sink->OnDone(absl::InternalError("upstream request header x-api-key: value holds CR, LF or NUL"));
  EXPECT_EQ(transfers_.size(), 1u);
}

TEST(CallUsageTest, EveryTokenCountOfUsageByType) {
  v1::Usage usage;
  usage.set_input_tokens(1);
  usage.set_output_tokens(2);
  usage.set_cache_creation_input_tokens(3);
  usage.mutable_cache_creation()->set_ephemeral_1h_input_tokens(9);  // a breakdown, not a type
  using Tokens = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(CallUsageOf(usage).tokens,
            (Tokens{{"input", 1}, {"output", 2}, {"cache_creation_input", 3}, {"cache_read_input", 0}}));
}

}  // namespace
}  // namespace claude::testing
