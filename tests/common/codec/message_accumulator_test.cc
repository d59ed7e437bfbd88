// The stream accumulator, fed the shared fixtures through the real SSE parser and JSON mapping
// in many chunkings: each must fold to exactly the fixture's Message.
#include "common/codec/message_accumulator.h"

#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/codec/json_mapping.h"
#include "service/sse/sse_parser.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

using ::claude::testing::JsonEqual;
using ::claude::testing::ReadFixture;
using ::testing::HasSubstr;

// Splits `body` into chunks: all at once (chunk 0), fixed sizes, or random sizes (seeded).
std::vector<std::string> Chunk(const std::string& body, size_t size, unsigned seed = 0) {
  std::vector<std::string> chunks;
  if (size == 0) return {body};
  std::mt19937 rng(seed);
  for (size_t at = 0; at < body.size();) {
    size_t n = seed == 0 ? size : 1 + rng() % size;
    chunks.push_back(body.substr(at, n));
    at += n;
  }
  return chunks;
}

// Feeds `chunks` through SseParser -> JsonToMessage -> MessageAccumulator.
absl::StatusOr<v1::Message> Accumulate(const std::vector<std::string>& chunks) {
  SseParser parser;
  MessageAccumulator accumulator;
  for (const std::string& chunk : chunks) {
    absl::Status status = parser.Feed(chunk, [&](const SseEvent& sse) {
      v1::MessageStreamEvent event;
      absl::Status s = JsonToMessage(absl::string_view(sse.data.data(), sse.data.size()), &event);
      if (!s.ok()) return s;
      return accumulator.Apply(event);
    });
    if (!status.ok()) return status;
  }
  if (parser.HasPartialEvent()) return absl::DataLossError("stream ended mid-event");
  return std::move(accumulator).Finish();
}

std::vector<std::vector<std::string>> AllChunkings(const std::string& body) {
  std::vector<std::vector<std::string>> all = {Chunk(body, 0), Chunk(body, 1), Chunk(body, 7),
                                               Chunk(body, 64)};
  for (unsigned seed = 1; seed <= 50; ++seed) all.push_back(Chunk(body, 40, seed));
  return all;
}

class FixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureTest, EveryChunkingAccumulatesToTheFixtureMessage) {
  const std::string body = ReadFixture(GetParam() + ".sse");
  const std::string expected = ReadFixture(GetParam() + ".message.json");
  for (const auto& chunks : AllChunkings(body)) {
    absl::StatusOr<v1::Message> message = Accumulate(chunks);
    ASSERT_TRUE(message.ok()) << message.status() << " with " << chunks.size() << " chunks";
    ASSERT_TRUE(JsonEqual(expected, MessageToJsonString(*message))) << chunks.size() << " chunks";
  }
}

INSTANTIATE_TEST_SUITE_P(SharedFixtures, FixtureTest, ::testing::Values("text_basic", "thinking"));

// The shared tool_use.sse sends the fragments `CA"` then ` ` then `"unit"...`: without the
// comma the API's documentation example has there, the concatenated input is not JSON. A
// correct client must not invent the comma; it must say what is wrong.
TEST(ToolUseFixtureTest, SharedTranscriptWithoutCommaIsReportedNotRepaired) {
  const std::string body = ReadFixture("tool_use.sse");
  ASSERT_THAT(body, HasSubstr(R"("partial_json":" "})"));
  for (const auto& chunks : AllChunkings(body)) {
    absl::StatusOr<v1::Message> message = Accumulate(chunks);
    ASSERT_EQ(message.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(message.status().message()),
                HasSubstr("content_block_stop: index 1: the tool input assembled from "
                          "input_json_delta is not a JSON object"));
  }
}

TEST(ToolUseFixtureTest, DocumentedTranscriptAccumulatesToTheFixtureMessage) {
  // The transcript as the API documents it: the separator fragment is ", ".
  const std::string body = claude::testing::DocumentedTranscript("tool_use");
  const std::string expected = ReadFixture("tool_use.message.json");
  for (const auto& chunks : AllChunkings(body)) {
    absl::StatusOr<v1::Message> message = Accumulate(chunks);
    ASSERT_TRUE(message.ok()) << message.status();
    ASSERT_TRUE(JsonEqual(expected, MessageToJsonString(*message)));
    EXPECT_EQ(message->content(1).tool_use().input().fields().at("unit").string_value(),
              "fahrenheit");
  }
}

TEST(ErrorFixtureTest, ErrorAfter200IsAbortedWithTheApiError) {
  absl::StatusOr<v1::Message> message = Accumulate({ReadFixture("error_after_200.sse")});
  EXPECT_EQ(message.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(message.status().message()), HasSubstr("overloaded_error: Overloaded"));
}

// Builds an SSE body from event JSON lines.
std::string Sse(const std::vector<std::string>& events) {
  std::string body;
  for (const std::string& e : events) body += "event: x\ndata: " + e + "\n\n";
  return body;
}

const char kStart[] =
    R"({"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"model":"c","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1,"cache_read_input_tokens":3}}})";
const char kStop[] = R"({"type":"message_stop"})";

absl::Status AccumulateError(const std::vector<std::string>& events) {
  return Accumulate({Sse(events)}).status();
}

TEST(AccumulatorTest, MalformedStreamsGiveClearErrors) {
  struct Case {
    std::vector<std::string> events;
    const char* message;
  };
  const std::string text_start =
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})";
  for (
      const Case& c : std::vector<Case>{
          {{R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
           "content_block_start: event before message_start"},
          {{kStart,
            R"({"type":"content_block_delta","index":4,"delta":{"type":"text_delta","text":"x"}})"},
           "content_block_delta: index 4 names no content block"},
          {{kStart,
            R"({"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}})"},
           "content_block_start: index 2, expected 0"},
          {{kStart, text_start,
            R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{"}})"},
           "index 0: input_json_delta does not apply to a text block"},
          {{kStart, text_start, R"({"type":"content_block_stop","index":0})",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}})"},
           "content block 0 is already stopped"},
          {{kStart, kStart}, "duplicate message_start"},
          {{kStart, kStop, kStop}, "event after message_stop"},
          {{kStart,
            R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"n","input":{}}})",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"[1,2]"}})",
            R"({"type":"content_block_stop","index":0})"},
           "is not a JSON object"},
          {{kStart,
            R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}})"},
           "delta.text: expected string, got number"},
          {{kStart,
            R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":"many"}})"},
           "usage.output_tokens: expected integer, got string"},
          {{kStart,
            "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
            "\"text\":\"\"}"},
           "invalid JSON"},
      }) {
    absl::Status status = AccumulateError(c.events);
    EXPECT_FALSE(status.ok()) << c.message;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message));
  }
}

TEST(AccumulatorTest, TruncatedStreamNeverEndsOk) {
  const std::string body = ReadFixture("text_basic.sse");
  const size_t stop_at = body.find("event: message_stop");
  ASSERT_NE(stop_at, std::string::npos);
  absl::StatusOr<v1::Message> message = Accumulate({body.substr(0, stop_at)});
  EXPECT_EQ(message.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(message.status().message()), HasSubstr("before message_stop"));
  // Cut inside an event: the parser holds a partial event.
  EXPECT_EQ(Accumulate({body.substr(0, stop_at + 25)}).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(Accumulate({""}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(AccumulatorTest, UsageIsOverwrittenNeverAdded) {
  absl::StatusOr<v1::Message> message = Accumulate({Sse(
      {kStart,
       R"({"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":10,"input_tokens":5,"server_tool_use":{"web_search_requests":1}}})",
       R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":12,"cache_creation_input_tokens":2}})",
       kStop})});
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->usage().input_tokens(), 5);
  EXPECT_EQ(message->usage().output_tokens(), 12);
  EXPECT_EQ(message->usage().cache_read_input_tokens(), 3);
  EXPECT_EQ(message->usage().cache_creation_input_tokens(), 2);
  EXPECT_EQ(message->usage().server_tool_use().web_search_requests(), 1);
  EXPECT_EQ(message->stop_reason(), v1::STOP_REASON_END_TURN);
  EXPECT_TRUE(JsonEqual(
      R"({"id":"m","type":"message","role":"assistant","content":[],"model":"c","stop_reason":"end_turn","stop_sequence":null,
          "usage":{"input_tokens":5,"output_tokens":12,"cache_read_input_tokens":3,"cache_creation_input_tokens":2,"server_tool_use":{"web_search_requests":1}}})",
      MessageToJsonString(*message)));
}

TEST(AccumulatorTest, SignatureIsReplacedCitationsAppendedAndEmptyToolInputIsAnObject) {
  absl::StatusOr<v1::Message> message = Accumulate({Sse(
      {kStart,
       R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"first"}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"second"}})",
       R"({"type":"content_block_stop","index":0})",
       R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":"","citations":[]}})",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"citations_delta","citation":{"type":"web_search_result_location","cited_text":"c","encrypted_index":"e","title":"t","url":"https://u"}}})",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"cited"}})",
       R"({"type":"content_block_stop","index":1})",
       R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t","name":"now","input":{}}})",
       R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}})",
       R"({"type":"content_block_stop","index":2})",
       R"({"type":"content_block_start","index":3,"content_block":{"type":"server_tool_use","id":"s","name":"web_search","input":{}}})",
       R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"query\": \"cats\"}"}})",
       R"({"type":"content_block_stop","index":3})",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"sparkle_delta","x":1}})",
       R"({"type":"mystery_event"})", kStop})});
  ASSERT_FALSE(message.ok()) << "a delta after content_block_stop must be rejected";
  // Without the late delta the same stream succeeds:
  message = Accumulate({Sse(
      {kStart,
       R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"first"}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"second"}})",
       R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":"","citations":[]}})",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"citations_delta","citation":{"type":"web_search_result_location","cited_text":"c","encrypted_index":"e","title":"t","url":"https://u"}}})",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"cited"}})",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"sparkle_delta","x":1}})",
       R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t","name":"now","input":{}}})",
       R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}})",
       R"({"type":"content_block_start","index":3,"content_block":{"type":"server_tool_use","id":"s","name":"web_search","input":{}}})",
       R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"query\": \"cats\"}"}})",
       R"({"type":"mystery_event"})", kStop})});
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->content(0).thinking().signature(), "second");
  EXPECT_EQ(message->content(1).text().citations_size(), 1);
  EXPECT_TRUE(message->content(2).tool_use().has_input());
  EXPECT_EQ(message->content(2).tool_use().input().fields_size(), 0);
  EXPECT_EQ(message->content(3).server_tool_use().input().fields().at("query").string_value(),
            "cats");
  EXPECT_THAT(MessageToJsonString(*message), HasSubstr(R"("input":{})"));
}

TEST(AccumulatorTest, UnknownEventsAndDeltasAreCountedNotFatal) {
  MessageAccumulator accumulator;
  v1::MessageStreamEvent event;
  ASSERT_TRUE(JsonToMessage(kStart, &event).ok());
  ASSERT_TRUE(accumulator.Apply(event).ok());
  ASSERT_TRUE(JsonToMessage(R"({"type":"mystery_event","n":1})", &event).ok());
  ASSERT_TRUE(accumulator.Apply(event).ok());
  ASSERT_TRUE(
      JsonToMessage(
          R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
          &event)
          .ok());
  ASSERT_TRUE(accumulator.Apply(event).ok());
  ASSERT_TRUE(
      JsonToMessage(R"({"type":"content_block_delta","index":0,"delta":{"type":"sparkle_delta"}})",
                    &event)
          .ok());
  ASSERT_TRUE(accumulator.Apply(event).ok());
  EXPECT_EQ(accumulator.ignored_events(), 2);
  EXPECT_FALSE(accumulator.done());
}

}  // namespace
}  // namespace claude
