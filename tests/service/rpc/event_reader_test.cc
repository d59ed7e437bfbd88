// A streamed 2xx body read through the Messages API's decoder, byte-split anywhere: every event
// in order, and what ends the stream as the status the RPC ends with (an error event through the
// error table, with the HTTP status its type stands for; data that does not decode; a body cut
// short; the caller's side refusing an event).
#include "service/rpc/event_reader.h"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/errors/error_details.h"
#include "service/upstream/messages_dialect.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<EventReader> Reader() {
  absl::StatusOr<std::unique_ptr<MessagesDialect>> dialect = MessagesDialect::Create({});
  EXPECT_TRUE(dialect.ok()) << dialect.status();
  return std::make_unique<EventReader>((*dialect)->NewEventDecoder());
}

// What one read of `body`, fed in `chunks`, hands on and ends with.
struct Read {
  std::vector<v1::MessageStreamEvent::EventCase> events;
  grpc::Status status;
  int error_event_status = 0;
};

Read ReadBody(const std::vector<std::string>& chunks, const HttpHeaders& headers = {},
              int refuse_at = -1) {
  std::unique_ptr<EventReader> reader = Reader();
  Read read;
  const auto on_event = [&](v1::MessageStreamEvent event) {
    read.events.push_back(event.event_case());
    if (static_cast<int>(read.events.size()) == refuse_at) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "the caller went away");
    }
    return grpc::Status::OK;
  };
  for (const std::string& chunk : chunks) {
    read.status = reader->Feed(chunk, headers, on_event);
    if (!read.status.ok()) break;
  }
  if (read.status.ok()) read.status = reader->Finish(headers, on_event);
  read.error_event_status = reader->error_event_status();
  return read;
}

TEST(EventReaderTest, AWholeStreamEndsOkWhateverItsChunking) {
  const std::string body = testing::ReadFixture("text_basic.sse");
  for (const std::vector<std::string>& chunks : testing::Chunkings(body, 20)) {
    const Read read = ReadBody(chunks);
    ASSERT_TRUE(read.status.ok()) << read.status.error_message();
    ASSERT_FALSE(read.events.empty());
    EXPECT_EQ(read.events.front(), v1::MessageStreamEvent::kMessageStart);
    EXPECT_EQ(read.events.back(), v1::MessageStreamEvent::kMessageStop);
    EXPECT_EQ(read.error_event_status, 0);
  }
}

TEST(EventReaderTest, AnErrorEventEndsTheStreamThroughTheErrorTable) {
  const Read read =
      ReadBody({testing::ReadFixture("error_after_200.sse")}, {{"request-id", "req_from_header"}});
  EXPECT_THAT(read.events, ElementsAre(v1::MessageStreamEvent::kMessageStart,
                                       v1::MessageStreamEvent::kContentBlockStart,
                                       v1::MessageStreamEvent::kContentBlockDelta))
      << "the error event itself is not handed on";
  EXPECT_EQ(read.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(read.status.error_message(), HasSubstr("Overloaded"));
  EXPECT_EQ(read.error_event_status, 529) << "overloaded_error stands for HTTP 529";
  const std::optional<ErrorDetails> details = ParseErrorDetails(read.status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, "overloaded_error");
  EXPECT_EQ(details->request_id, "req_from_header");
}

TEST(EventReaderTest, ABodyCutShortIsUnavailable) {
  const std::string body = testing::ReadFixture("text_basic.sse");
  const std::string cut = body.substr(0, body.find("event: message_stop"));
  const Read read = ReadBody({cut});
  EXPECT_EQ(read.status.error_code(), grpc::StatusCode::UNAVAILABLE) << read.status.error_message();
  EXPECT_FALSE(read.events.empty());
  EXPECT_NE(read.events.back(), v1::MessageStreamEvent::kMessageStop);
  EXPECT_EQ(read.error_event_status, 0);
  // Cut inside an event: the half-received event is not handed on.
  const Read half = ReadBody({body.substr(0, body.find("event: content_block_start") + 30)});
  EXPECT_EQ(half.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(half.events, ElementsAre(v1::MessageStreamEvent::kMessageStart));
}

TEST(EventReaderTest, DataThatDoesNotDecodeIsInternal) {
  const Read read = ReadBody({"event: message_start\ndata: {not json\n\n"});
  EXPECT_EQ(read.status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_TRUE(read.events.empty());
}

TEST(EventReaderTest, TheCallersRefusalEndsTheStreamAsItIs) {
  const Read read = ReadBody({testing::ReadFixture("text_basic.sse")}, {}, /*refuse_at=*/2);
  EXPECT_EQ(read.status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(read.status.error_message(), "the caller went away");
  EXPECT_EQ(read.events.size(), 2u) << "no event after the refused one";
}

}  // namespace
}  // namespace claude
