// The SSE parser's field and line rules, its byte order mark and line endings, and the same
// events for every chunking of a body. Its bounds and failures: sse_parser_limits_test.cc.
#include "service/sse/sse_parser.h"

#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/service/sse/sse_feeding.h"

// In the namespace of the feeding helpers (Event, Result, FeedWhole...), which every test uses.
namespace claude::sse_testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A body that makes exactly one event, and that event.
struct BodyAndEvent {
  std::string_view body;
  Event event;
};

// Each body, fed whole, makes its one event and no other.
void ExpectOneEventEach(std::initializer_list<BodyAndEvent> cases) {
  for (const BodyAndEvent& c : cases) {
    EXPECT_THAT(FeedWhole(c.body).events, ElementsAre(c.event)) << c.body;
  }
}

// --- Field and line rules ----------------------------------------------------

TEST(SseParserTest, DispatchesEventAndData) {
  Result r = FeedWhole("event: message_start\ndata: {\"a\":1}\n\n");
  EXPECT_TRUE(r.status.ok());
  EXPECT_THAT(r.events, ElementsAre(Event{"message_start", "{\"a\":1}"}));
  EXPECT_FALSE(r.partial);
}

TEST(SseParserTest, EventTypeIsEmptyWhenNotGiven) {
  EXPECT_THAT(FeedWhole("data: x\n\n").events, ElementsAre(Event{"", "x"}));
}

TEST(SseParserTest, NothingIsDispatchedBeforeTheBlankLine) {
  Result r = FeedWhole("event: e\ndata: x\n");
  EXPECT_THAT(r.events, IsEmpty());
  EXPECT_TRUE(r.partial);
}

TEST(SseParserTest, EventTypeAndDataResetAfterDispatch) {
  EXPECT_THAT(FeedWhole("event: a\ndata: 1\n\ndata: 2\n\n").events,
              ElementsAre(Event{"a", "1"}, Event{"", "2"}));
}

TEST(SseParserTest, LastEventFieldWins) {
  EXPECT_THAT(FeedWhole("event: a\nevent: b\ndata: x\n\n").events,
              ElementsAre(Event{"b", "x"}));
}

TEST(SseParserTest, MultiLineDataIsJoinedWithNewlines) {
  EXPECT_THAT(FeedWhole("data: one\ndata: two\ndata: three\n\n").events,
              ElementsAre(Event{"", "one\ntwo\nthree"}));
}

TEST(SseParserTest, DataLinesMayBeInterleavedWithOtherFields) {
  EXPECT_THAT(
      FeedWhole("data: a\n: comment\nid: 3\ndata: b\nevent: e\ndata: c\n\n")
          .events,
      ElementsAre(Event{"e", "a\nb\nc"}));
}

TEST(SseParserTest, EmptyDataValueContributesAnEmptyLine) {
  ExpectOneEventEach({
      {"data:\n\n", {"", ""}},
      {"data: \n\n", {"", ""}},
      {"data:\ndata:\n\n", {"", "\n"}},
      {"data: a\ndata:\ndata: b\ndata:\n\n", {"", "a\n\nb\n"}},
  });
}

TEST(SseParserTest, BlankLineWithoutDataDispatchesNothingAndResetsEventType) {
  Result r = FeedWhole("event: dropped\n\ndata: x\n\n");
  EXPECT_THAT(r.events, ElementsAre(Event{"", "x"}));
  EXPECT_THAT(FeedWhole("\n\n\n").events, IsEmpty());
  EXPECT_THAT(FeedWhole("event: e\nid: 1\nretry: 5\n\n").events, IsEmpty());
}

// Lines the parser reads and drops: comments, id and retry (nothing here reconnects by them),
// and fields it does not know (field names are exact and case-sensitive).
constexpr std::string_view kIgnoredLines[] = {
    ":",
    ": keep-alive",
    ":data: not data",
    ":event: not an event",
    "id: 42",
    "id",
    "retry: 3000",
    "foo: bar",
    "foo",
    "Data: field names are case-sensitive",
    "EVENT: nope",
    "data : a space makes another field",
    "dat: prefix",
    "datas: longer",
};

TEST(SseParserTest, CommentsIdRetryAndUnknownFieldsAreIgnored) {
  std::string ignored;
  for (std::string_view line : kIgnoredLines) {
    // Alone, even ended by a blank line, each makes no event.
    EXPECT_THAT(FeedWhole(std::string(line) + "\n\n").events, IsEmpty()) << line;
    ignored.append(line).append("\n");
  }
  EXPECT_THAT(FeedWhole(ignored + "\n").events, IsEmpty());
  // Before and after a data line they leave its event as it is.
  EXPECT_THAT(FeedWhole(ignored + "data: x\n" + ignored + "\n").events,
              ElementsAre(Event{"", "x"}));
  // A comment is not a blank line: it dispatches nothing.
  EXPECT_THAT(FeedWhole("data: x\n:\n").events, IsEmpty());
}

TEST(SseParserTest, OnlyOneSpaceAfterTheColonIsRemoved) {
  ExpectOneEventEach({
      {"data:x\n\n", {"", "x"}},
      {"data: x\n\n", {"", "x"}},
      {"data:  x\n\n", {"", " x"}},
      {"data:\tx\n\n", {"", "\tx"}},
      {"data: x \n\n", {"", "x "}},
      {"event:  e\ndata: x\n\n", {" e", "x"}},
  });
}

TEST(SseParserTest, ValueKeepsColonsAfterTheFirst) {
  ExpectOneEventEach({
      {"data: a:b: c\n\n", {"", "a:b: c"}},
      {"event:a:b\ndata::\n\n", {"a:b", ":"}},
  });
}

TEST(SseParserTest, LineWithoutColonIsAFieldWithEmptyValue) {
  ExpectOneEventEach({
      {"data\n\n", {"", ""}},
      {"data: a\ndata\ndata: b\n\n", {"", "a\n\nb"}},
      // "event" alone sets the event type to empty.
      {"event: e\nevent\ndata: x\n\n", {"", "x"}},
  });
}

TEST(SseParserTest, DataMayContainAnyBytesButLineEndings) {
  const std::string data =
      std::string("a\0b\xFF\x7F", 5) + "\t{\"k\":\"\xC2\xB0\"}";
  EXPECT_THAT(FeedWhole("data: " + data + "\n\n").events,
              ElementsAre(Event{"", data}));
}

// --- Byte order mark ---------------------------------------------------------

TEST(SseParserTest, LeadingBomIsSkipped) {
  EXPECT_THAT(FeedWhole("\xEF\xBB\xBF"
                        "data: x\n\n")
                  .events,
              ElementsAre(Event{"", "x"}));
  EXPECT_THAT(FeedWhole("\xEF\xBB\xBF"
                        "event: e\ndata: x\n\n")
                  .events,
              ElementsAre(Event{"e", "x"}));
  // BOM then a blank line: the blank line dispatches nothing.
  EXPECT_THAT(FeedWhole("\xEF\xBB\xBF\ndata: x\n\n").events,
              ElementsAre(Event{"", "x"}));
}

TEST(SseParserTest, BomSplitAcrossChunksIsSkipped) {
  const std::string body =
      "\xEF\xBB\xBF"
      "data: x\n\n";
  ExpectSameForEveryChunking(body,
                             Result{{{"", "x"}}, absl::OkStatus(), false});
}

TEST(SseParserTest, OnlyTheFirstBomOfTheStreamIsSkipped) {
  // A second BOM becomes part of the field name, which is then unknown.
  EXPECT_THAT(FeedWhole("\xEF\xBB\xBF\xEF\xBB\xBF"
                        "data: x\n\n")
                  .events,
              IsEmpty());
  // A BOM that does not start the stream is not skipped either.
  EXPECT_THAT(FeedWhole("\n\xEF\xBB\xBF"
                        "data: x\n\n")
                  .events,
              IsEmpty());
  EXPECT_THAT(FeedWhole(": c\n\xEF\xBB\xBF"
                        "data: x\n\n")
                  .events,
              IsEmpty());
  // Inside a value it is data.
  EXPECT_THAT(FeedWhole("data: \xEF\xBB\xBF\n\n").events,
              ElementsAre(Event{"", "\xEF\xBB\xBF"}));
}

TEST(SseParserTest, BomPrefixThatIsNotABomIsKept) {
  // The bytes start like a BOM but are not one: nothing may be dropped.
  EXPECT_THAT(FeedWhole("\xEF\xBB"
                        "data: x\n\n")
                  .events,
              IsEmpty());
  Result r = FeedChunks({"\xEF", "\xBB", "x\ndata: y\n\n"});
  EXPECT_THAT(r.events, ElementsAre(Event{"", "y"}));
  EXPECT_FALSE(r.partial);
}

// --- Line endings ------------------------------------------------------------

class SseLineEndingTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SseLineEndingTest, EveryEndingWorks) {
  const std::string& eol = GetParam();
  const std::string body = ": c" + eol + "event: e" + eol + "data: a" + eol +
                           "data: b" + eol + eol + "data: c" + eol + eol;
  ExpectSameForEveryChunking(
      body, Result{{{"e", "a\nb"}, {"", "c"}}, absl::OkStatus(), false});
}

std::string EndingName(const ::testing::TestParamInfo<std::string>& param) {
  if (param.param == "\n") return "LF";
  if (param.param == "\r\n") return "CRLF";
  return "CR";
}

INSTANTIATE_TEST_SUITE_P(Endings, SseLineEndingTest,
                         ::testing::Values("\n", "\r\n", "\r"), EndingName);

TEST(SseParserTest, MixedLineEndings) {
  const std::string body =
      "event: e\r\n"
      "data: a\r"
      "data: b\n"
      "\r\n"
      "data: c\n"
      "\r"
      "data: d\r"
      "\n"  // with the CR above, one CRLF
      "\r";
  ExpectSameForEveryChunking(
      body,
      Result{{{"e", "a\nb"}, {"", "c"}, {"", "d"}}, absl::OkStatus(), false});
}

TEST(SseParserTest, LfThenCrIsTwoLineEndings) {
  EXPECT_THAT(FeedWhole("data: a\n\rdata: b\n\n").events,
              ElementsAre(Event{"", "a"}, Event{"", "b"}));
}

TEST(SseParserTest, CrCrLfIsTwoLineEndings) {
  EXPECT_THAT(FeedWhole("data: a\r\r\ndata: b\n\n").events,
              ElementsAre(Event{"", "a"}, Event{"", "b"}));
}

TEST(SseParserTest, CrLfSplitAcrossChunksIsOneLineEnding) {
  // Were the LF a second line ending, "a" would be dispatched alone.
  Result r = FeedChunks({"data: a\r", "\ndata: b\r", "\n\r", "\n"});
  EXPECT_TRUE(r.status.ok());
  EXPECT_THAT(r.events, ElementsAre(Event{"", "a\nb"}));
  EXPECT_FALSE(r.partial);
}

TEST(SseParserTest, CrAtChunkEndEndsTheLineAtOnce) {
  // The lone CR ends the blank line right away: the event is dispatched
  // without waiting to see whether an LF follows.
  SseParser parser;
  int calls = 0;
  auto count = [&](const SseEvent&) {
    ++calls;
    return absl::OkStatus();
  };
  ASSERT_TRUE(parser.Feed("data: a\r\r", count).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(parser.HasPartialEvent());
  ASSERT_TRUE(parser.Feed("\n", count).ok());  // pairs with the CR: no-op
  EXPECT_EQ(calls, 1);
}

TEST(SseParserTest, CrAtChunkEndFollowedByOtherBytes) {
  EXPECT_THAT(FeedChunks({"data: a\r", "data: b\r", "\r"}).events,
              ElementsAre(Event{"", "a\nb"}));
}

TEST(SseParserTest, EmptyChunksBetweenCrAndLfAreHarmless) {
  EXPECT_THAT(
      FeedChunks({"data: a\r", "", "", "\n", "", "data: b\n", "\n"}).events,
      ElementsAre(Event{"", "a\nb"}));
}

TEST(SseParserTest, Utf8SequenceSplitAcrossChunks) {
  // U+00B0 (2 bytes), U+221A (3 bytes) and U+1F600 (4 bytes), each cut inside.
  Result r = FeedChunks({"data: 30\xC2", "\xB0 \xE2\x88", "\x9A", "3 \xF0",
                         "\x9F\x98", "\x80\n\n"});
  EXPECT_THAT(r.events, ElementsAre(Event{"",
                                          "30\xC2\xB0 \xE2\x88\x9A"
                                          "3 \xF0\x9F\x98\x80"}));
}

// --- Chunking independence ---------------------------------------------------

TEST(SseParserTest, EveryChunkingOfAMixedBodyGivesTheSameEvents) {
  const std::string body =
      "\xEF\xBB\xBF"
      ": comment at the top\r\n"
      "event: first\r\n"
      "data: one\r\n"
      "\r\n"
      "data:no space\n"
      "data:  two spaces\n"
      "data\n"
      "data:\n"
      "data: a:b: c\n"
      "\n"
      "event: dropped\n"
      "id: 7\n"
      "retry: 1000\n"
      "\n"
      "data: after reset\r"
      "\r"
      "event: utf8\r"
      "data: sin(30\xC2\xB0) = \xC2\xBD \xE2\x88\x9A"
      "3 \xF0\x9F\x98\x80\r\n"
      "unknown: x\n"
      "Data: case matters\n"
      "data : space in name\n"
      ":\n"
      "data: second\n"
      "\n"
      "\n"
      "\r\n"
      "event: last\n"
      "data: {\"type\":\"last\"}\n"
      "\n"
      "event: cut\n"
      "data: truncated";
  const Result expected{{
                            {"first", "one"},
                            {"", "no space\n two spaces\n\n\na:b: c"},
                            {"", "after reset"},
                            {"utf8",
                             "sin(30\xC2\xB0) = \xC2\xBD \xE2\x88\x9A"
                             "3 \xF0\x9F\x98\x80\nsecond"},
                            {"last", "{\"type\":\"last\"}"},
                        },
                        absl::OkStatus(),
                        /*partial=*/true};
  ExpectSameForEveryChunking(body, expected);
}

TEST(SseParserTest, EventsSpanningChunksSurviveTheChunkBeingFreed) {
  // FeedChunks frees each chunk after its Feed, so data that the parser took
  // from an earlier chunk must have been copied.
  EXPECT_THAT(FeedChunks({"data: a\n", "\n"}).events,
              ElementsAre(Event{"", "a"}));
  EXPECT_THAT(FeedChunks({"data: a\n", "data: b\n\n"}).events,
              ElementsAre(Event{"", "a\nb"}));
  EXPECT_THAT(
      FeedChunks({"event: e\ndata: a\ndata: b\n", "data: c\n", "\n"}).events,
      ElementsAre(Event{"e", "a\nb\nc"}));
  EXPECT_THAT(FeedChunks({"data: a", "b\n", "data: c\n", "\n"}).events,
              ElementsAre(Event{"", "ab\nc"}));
}

}  // namespace
}  // namespace claude::sse_testing
