#include "service/sse/sse_parser.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace claude {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// An SseEvent copied out of the callback.
struct Event {
  std::string event;
  std::string data;

  friend bool operator==(const Event& a, const Event& b) {
    return std::tie(a.event, a.data) == std::tie(b.event, b.data);
  }
  friend std::ostream& operator<<(std::ostream& os, const Event& e) {
    return os << "{event=\"" << e.event << "\", data=\"" << e.data << "\"}";
  }
};

struct Result {
  std::vector<Event> events;
  absl::Status status;  // of the first failing Feed, else OK
  bool partial = false;

  friend bool operator==(const Result& a, const Result& b) {
    return std::tie(a.events, a.status, a.partial) ==
           std::tie(b.events, b.status, b.partial);
  }
  friend std::ostream& operator<<(std::ostream& os, const Result& r) {
    os << "status=" << r.status << " partial=" << r.partial << " events=[";
    for (const Event& e : r.events) os << e << " ";
    return os << "]";
  }
};

// Feeds `chunks` in order to a fresh parser, stopping at the first error. Each
// chunk is copied into its own heap buffer that is scribbled over and freed
// right after its Feed, so a parser that keeps a view into a chunk past Feed
// shows up as wrong data (and as a use-after-free under ASan).
Result FeedChunks(const std::vector<std::string_view>& chunks,
                  size_t max_event_bytes = SseParser::kDefaultMaxEventBytes) {
  SseParser parser(max_event_bytes);
  Result result;
  for (std::string_view chunk : chunks) {
    auto buffer = std::make_unique<char[]>(chunk.size() + 1);
    std::copy(chunk.begin(), chunk.end(), buffer.get());
    result.status = parser.Feed(
        std::string_view(buffer.get(), chunk.size()), [&](const SseEvent& e) {
          result.events.push_back({std::string(e.event), std::string(e.data)});
          return absl::OkStatus();
        });
    std::fill(buffer.get(), buffer.get() + chunk.size(), '#');
    if (!result.status.ok()) break;
  }
  result.partial = parser.HasPartialEvent();
  return result;
}

Result FeedWhole(std::string_view body,
                 size_t max_event_bytes = SseParser::kDefaultMaxEventBytes) {
  return FeedChunks({body}, max_event_bytes);
}

std::vector<std::string_view> SplitBytes(std::string_view body) {
  std::vector<std::string_view> chunks;
  for (size_t i = 0; i < body.size(); ++i) chunks.push_back(body.substr(i, 1));
  return chunks;
}

// Random chunk sizes, empty chunks included. Uses raw mt19937 output (not a
// std distribution) so that a seed gives the same splits on every platform.
std::vector<std::string_view> SplitRandomly(std::string_view body,
                                            uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string_view> chunks;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t n = 0;
    switch (rng() % 4) {
      case 0:
        n = 0;
        break;
      case 1:
        n = 1 + rng() % 3;
        break;
      case 2:
        n = 1 + rng() % 40;
        break;
      default:
        n = rng() % (body.size() + 1);
        break;
    }
    n = std::min(n, body.size() - pos);
    chunks.push_back(body.substr(pos, n));
    pos += n;
  }
  return chunks;
}

// Checks that `body` gives `expected` whole, one byte at a time, split in two
// at every position and in many random splits.
void ExpectSameForEveryChunking(
    std::string_view body, const Result& expected,
    size_t max_event_bytes = SseParser::kDefaultMaxEventBytes) {
  EXPECT_EQ(FeedWhole(body, max_event_bytes), expected) << "whole body";
  EXPECT_EQ(FeedChunks(SplitBytes(body), max_event_bytes), expected)
      << "one byte at a time";
  for (size_t i = 0; i <= body.size(); ++i) {
    ASSERT_EQ(FeedChunks({body.substr(0, i), body.substr(i)}, max_event_bytes),
              expected)
        << "split at " << i;
  }
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    ASSERT_EQ(FeedChunks(SplitRandomly(body, seed), max_event_bytes), expected)
        << "random split, seed " << seed;
  }
}

absl::Status Ok(const SseEvent&) { return absl::OkStatus(); }

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
  EXPECT_THAT(FeedWhole("data:\n\n").events, ElementsAre(Event{"", ""}));
  EXPECT_THAT(FeedWhole("data: \n\n").events, ElementsAre(Event{"", ""}));
  EXPECT_THAT(FeedWhole("data:\ndata:\n\n").events,
              ElementsAre(Event{"", "\n"}));
  EXPECT_THAT(FeedWhole("data: a\ndata:\ndata: b\ndata:\n\n").events,
              ElementsAre(Event{"", "a\n\nb\n"}));
}

TEST(SseParserTest, BlankLineWithoutDataDispatchesNothingAndResetsEventType) {
  Result r = FeedWhole("event: dropped\n\ndata: x\n\n");
  EXPECT_THAT(r.events, ElementsAre(Event{"", "x"}));
  EXPECT_THAT(FeedWhole("\n\n\n").events, IsEmpty());
  EXPECT_THAT(FeedWhole("event: e\nid: 1\nretry: 5\n\n").events, IsEmpty());
}

TEST(SseParserTest, CommentsAreIgnored) {
  Result r = FeedWhole(
      ":\n"
      ": keep-alive\n"
      ":data: not data\n"
      "data: x\n"
      ":event: not an event\n"
      "\n");
  EXPECT_THAT(r.events, ElementsAre(Event{"", "x"}));
  // A comment is not a blank line: it dispatches nothing.
  EXPECT_THAT(FeedWhole("data: x\n:\n").events, IsEmpty());
}

TEST(SseParserTest, OnlyOneSpaceAfterTheColonIsRemoved) {
  EXPECT_THAT(FeedWhole("data:x\n\n").events, ElementsAre(Event{"", "x"}));
  EXPECT_THAT(FeedWhole("data: x\n\n").events, ElementsAre(Event{"", "x"}));
  EXPECT_THAT(FeedWhole("data:  x\n\n").events, ElementsAre(Event{"", " x"}));
  EXPECT_THAT(FeedWhole("data:\tx\n\n").events, ElementsAre(Event{"", "\tx"}));
  EXPECT_THAT(FeedWhole("data: x \n\n").events, ElementsAre(Event{"", "x "}));
  EXPECT_THAT(FeedWhole("event:  e\ndata: x\n\n").events,
              ElementsAre(Event{" e", "x"}));
}

TEST(SseParserTest, ValueKeepsColonsAfterTheFirst) {
  EXPECT_THAT(FeedWhole("data: a:b: c\n\n").events,
              ElementsAre(Event{"", "a:b: c"}));
  EXPECT_THAT(FeedWhole("event:a:b\ndata::\n\n").events,
              ElementsAre(Event{"a:b", ":"}));
}

TEST(SseParserTest, LineWithoutColonIsAFieldWithEmptyValue) {
  EXPECT_THAT(FeedWhole("data\n\n").events, ElementsAre(Event{"", ""}));
  EXPECT_THAT(FeedWhole("data: a\ndata\ndata: b\n\n").events,
              ElementsAre(Event{"", "a\n\nb"}));
  // "event" alone sets the event type to empty.
  EXPECT_THAT(FeedWhole("event: e\nevent\ndata: x\n\n").events,
              ElementsAre(Event{"", "x"}));
}

TEST(SseParserTest, IdRetryAndUnknownFieldsAreIgnored) {
  Result r = FeedWhole(
      "id: 42\n"
      "retry: 3000\n"
      "foo: bar\n"
      "Data: field names are case-sensitive\n"
      "EVENT: nope\n"
      "data : a space makes another field\n"
      "dat: prefix\n"
      "datas: longer\n"
      "id\n"
      "data: x\n"
      "\n");
  EXPECT_THAT(r.events, ElementsAre(Event{"", "x"}));
  // Ignored fields alone make no event.
  EXPECT_THAT(FeedWhole("id: 1\nretry: 1\nfoo\n\n").events, IsEmpty());
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

// --- Size limit --------------------------------------------------------------

TEST(SseParserTest, LimitCountsTheRawLineIndependentlyOfChunking) {
  constexpr size_t kLimit = 64;
  // "data: " + 58 bytes is a 64-byte line: exactly at the limit.
  const std::string fits = "data: " + std::string(58, 'x') + "\n\n";
  ExpectSameForEveryChunking(
      fits, Result{{{"", std::string(58, 'x')}}, absl::OkStatus(), false},
      kLimit);
  const std::string too_big = "data: " + std::string(59, 'x') + "\n\n";
  const Result whole = FeedWhole(too_big, kLimit);
  EXPECT_EQ(whole.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(whole.status.message()), HasSubstr("64"));
  EXPECT_THAT(whole.events, IsEmpty());
  ExpectSameForEveryChunking(too_big, whole, kLimit);
}

TEST(SseParserTest, LimitCountsAllLinesOfOneEvent) {
  constexpr size_t kLimit = 100;
  const std::string line = "data: " + std::string(40, 'x') + "\n";  // 46 bytes
  // data 40, then 40 + 46 <= 100 still fits; then 81 + 46 does not.
  const Result two = FeedWhole(line + line + "\n", kLimit);
  EXPECT_TRUE(two.status.ok());
  EXPECT_EQ(two.events.size(), 1u);
  const Result three = FeedWhole(line + line + line + "\n", kLimit);
  EXPECT_EQ(three.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(three.events, IsEmpty());
  // The event type counts too.
  const std::string event = "event: " + std::string(50, 'e') + "\n";
  EXPECT_TRUE(FeedWhole(event + line + "\n", kLimit).status.ok());
  EXPECT_EQ(FeedWhole(event + line + line + "\n", kLimit).status.code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(SseParserTest, LimitIsPerEvent) {
  constexpr size_t kLimit = 100;
  std::string body;
  for (int i = 0; i < 1000; ++i) {
    body += "event: e\ndata: " + std::string(40, 'x') + "\ndata: y\n\n";
  }
  const Result r = FeedWhole(body, kLimit);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.events.size(), 1000u);
}

TEST(SseParserTest, LimitAppliesToAnyLongLine) {
  // Comments and ignored fields are held while incomplete, so they count too.
  const std::string comment = ":" + std::string(200, 'c') + "\n";
  EXPECT_EQ(FeedWhole(comment, 100).status.code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(FeedChunks(SplitBytes(comment), 100).status.code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(FeedWhole("id: " + std::string(200, '1') + "\n", 100).status.code(),
            absl::StatusCode::kResourceExhausted);
}

// Feeds an endless event made of `pattern` repeated, in chunks of `chunk_size`,
// until the parser fails or `total` bytes went in. Returns the status and the
// number of bytes fed, including the failing chunk.
std::pair<absl::Status, size_t> FeedEndlessEvent(SseParser& parser,
                                                 std::string_view head,
                                                 std::string_view pattern,
                                                 size_t chunk_size,
                                                 size_t total) {
  std::string repeated;
  while (repeated.size() < chunk_size + pattern.size()) repeated += pattern;
  int calls = 0;
  auto count = [&](const SseEvent&) {
    ++calls;
    return absl::OkStatus();
  };
  absl::Status status = parser.Feed(head, count);
  size_t fed = head.size();
  while (status.ok() && fed < total) {
    const size_t offset = (fed - head.size()) % pattern.size();
    status = parser.Feed(std::string_view(repeated).substr(offset, chunk_size),
                         count);
    fed += chunk_size;
  }
  EXPECT_EQ(calls, 0);
  return {status, fed};
}

constexpr size_t kHugeLimit = 1 << 20;
constexpr size_t kHugeChunk = 64 << 10;
constexpr size_t kHugeTotal = size_t{100} << 20;

TEST(SseParserTest, HugeSingleLineEventIsRejectedNearTheLimit) {
  SseParser parser(kHugeLimit);
  auto [status, fed] = FeedEndlessEvent(parser, "event: big\ndata: ", "x",
                                        kHugeChunk, kHugeTotal);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat(kHugeLimit)));
  EXPECT_GT(fed, kHugeLimit);
  EXPECT_LE(fed, kHugeLimit + kHugeChunk);
  EXPECT_EQ(parser.Feed("\n\n", Ok).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SseParserTest, HugeMultiLineEventIsRejectedNearTheLimit) {
  SseParser parser(kHugeLimit);
  // 1000-byte lines of which 994 count as data (993 bytes plus the '\n' that
  // joins them), so the limit is reached after a little more than it in bytes.
  const std::string line = "data: " + std::string(993, 'x') + "\n";
  auto [status, fed] =
      FeedEndlessEvent(parser, "", line, kHugeChunk, kHugeTotal);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat(kHugeLimit)));
  EXPECT_GT(fed, kHugeLimit);
  EXPECT_LE(fed, kHugeLimit + kHugeLimit / 100 + kHugeChunk);
  EXPECT_EQ(parser.Feed("\n", Ok).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SseParserTest, ManySmallEventsInHugeChunksPass) {
  SseParser parser(kHugeLimit);
  const std::string event = "event: e\ndata: " + std::string(990, 'x') + "\n\n";
  std::string chunk;
  while (chunk.size() < 4 * kHugeLimit) chunk += event;
  size_t events = 0;
  auto count = [&](const SseEvent& e) {
    EXPECT_EQ(e.data.size(), 990u);
    ++events;
    return absl::OkStatus();
  };
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(parser.Feed(chunk, count).ok());
  EXPECT_EQ(events, 4 * (chunk.size() / event.size()));
  EXPECT_FALSE(parser.HasPartialEvent());
}

TEST(SseParserTest, DefaultLimit) {
  EXPECT_EQ(SseParser::kDefaultMaxEventBytes, size_t{16} << 20);
  SseParser parser;
  const std::string line =
      "data: " + std::string(SseParser::kDefaultMaxEventBytes, 'x');
  EXPECT_EQ(parser.Feed(line, Ok).code(), absl::StatusCode::kResourceExhausted);
}

// --- Errors ------------------------------------------------------------------

TEST(SseParserTest, CallbackErrorStopsParsingAndIsReturned) {
  SseParser parser;
  std::vector<std::string> seen;
  auto stop_at_b = [&](const SseEvent& e) {
    seen.emplace_back(e.data);
    if (e.data == "b") return absl::CancelledError("stop at b");
    return absl::OkStatus();
  };
  const absl::Status status =
      parser.Feed("data: a\n\ndata: b\n\ndata: c\n\n", stop_at_b);
  EXPECT_EQ(status, absl::CancelledError("stop at b"));
  EXPECT_THAT(seen, ElementsAre("a", "b"));
  EXPECT_EQ(parser.Feed("data: d\n\n", stop_at_b).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(seen, ElementsAre("a", "b"));
}

TEST(SseParserTest, CallbackErrorInALaterChunk) {
  SseParser parser;
  int calls = 0;
  auto fail_second = [&](const SseEvent&) {
    return ++calls == 2 ? absl::InternalError("boom") : absl::OkStatus();
  };
  EXPECT_TRUE(parser.Feed("data: a\n\ndata: b\n", fail_second).ok());
  EXPECT_EQ(parser.Feed("\ndata: c\n\n", fail_second),
            absl::InternalError("boom"));
  EXPECT_EQ(calls, 2);
}

TEST(SseParserTest, FailedStateIsSticky) {
  SseParser parser(16);
  int calls = 0;
  auto count = [&](const SseEvent&) {
    ++calls;
    return absl::OkStatus();
  };
  EXPECT_EQ(parser.Feed("data: " + std::string(100, 'x'), count).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(parser.HasPartialEvent());
  for (std::string_view chunk : {"", "\n\n", "data: ok\n\n", "data: ok\n\n"}) {
    EXPECT_EQ(parser.Feed(chunk, count).code(),
              absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(calls, 0);
}

// --- HasPartialEvent ---------------------------------------------------------

TEST(SseParserTest, HasPartialEvent) {
  struct Case {
    std::string body;
    bool partial;
  };
  const Case cases[] = {
      {"", false},
      {"data: x\n\n", false},
      {"data: x\r\n\r\n", false},
      {"data: x\r\r", false},
      {"data: x", true},    // unterminated line
      {"data: x\n", true},  // no blank line yet
      {"data: x\r", true},
      {"data:\n", true},       // an empty data line is still data
      {"event: e\n", true},    // event type set, no data yet
      {"ev", true},            // unterminated field name
      {":", true},             // unterminated comment
      {"\xEF\xBB", true},      // the start of a BOM
      {"\xEF\xBB\xBF", true},  // a whole BOM but no line yet
      {": comment\n", false},
      {"id: 1\nretry: 2\n", false},
      {"event: e\n\n", false},  // the blank line reset the event type
      {"data: x\n\n: bye\n", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FeedWhole(c.body).partial, c.partial) << "body: " << c.body;
    EXPECT_EQ(FeedChunks(SplitBytes(c.body)).partial, c.partial)
        << "body: " << c.body;
  }
}

TEST(SseParserTest, FreshParserHasNoPartialEvent) {
  SseParser parser;
  EXPECT_FALSE(parser.HasPartialEvent());
  EXPECT_TRUE(parser.Feed("", Ok).ok());
  EXPECT_FALSE(parser.HasPartialEvent());
}

// --- Recorded transcripts ----------------------------------------------------

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The event names of every recorded transcript we know, in order.
const std::map<std::string, std::vector<std::string>>& KnownFixtures() {
  static const auto* const kFixtures =
      new std::map<std::string, std::vector<std::string>>{
          {"text_basic.sse",
           {"message_start", "content_block_start", "content_block_delta",
            "content_block_delta", "content_block_delta", "content_block_stop",
            "message_delta", "message_stop"}},
          {"thinking.sse",
           {"message_start", "content_block_start", "content_block_delta",
            "content_block_delta", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_stop",
            "message_delta", "message_stop"}},
          {"tool_use.sse",
           {"message_start",       "content_block_start", "ping",
            "content_block_delta", "content_block_delta", "content_block_delta",
            "content_block_stop",  "content_block_start", "content_block_delta",
            "content_block_delta", "content_block_delta", "content_block_delta",
            "content_block_delta", "content_block_delta", "content_block_delta",
            "content_block_delta", "content_block_delta", "content_block_stop",
            "message_delta",       "message_stop"}},
          {"error_after_200.sse",
           {"message_start", "content_block_start", "content_block_delta",
            "error"}},
      };
  return *kFixtures;
}

void CheckTranscript(const std::string& name, const std::string& body) {
  SCOPED_TRACE(name);
  const Result whole = FeedWhole(body);
  ASSERT_TRUE(whole.status.ok()) << whole.status;
  EXPECT_FALSE(whole.partial);
  ASSERT_FALSE(whole.events.empty());
  for (const Event& e : whole.events) {
    EXPECT_TRUE(absl::StartsWith(e.data, "{\"type\":\"" + e.event + "\"")) << e;
  }
  auto known = KnownFixtures().find(name);
  if (known != KnownFixtures().end()) {
    std::vector<std::string> names;
    for (const Event& e : whole.events) names.push_back(e.event);
    EXPECT_EQ(names, known->second);
  }
  ExpectSameForEveryChunking(body, whole);
}

TEST(SseParserTest, RecordedTranscripts) {
  const std::filesystem::path dir = CLAUDE_FIXTURES_DIR;
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".sse") continue;
    const std::string name = entry.path().filename().string();
    found.push_back(name);
    CheckTranscript(name, ReadFile(entry.path()));
  }
  for (const auto& [name, events] : KnownFixtures()) {
    EXPECT_NE(std::find(found.begin(), found.end(), name), found.end())
        << name << " is missing from " << dir;
  }
}

TEST(SseParserTest, TruncatedTranscriptHasPartialEvent) {
  const std::string body =
      ReadFile(std::filesystem::path(CLAUDE_FIXTURES_DIR) / "text_basic.sse");
  ASSERT_FALSE(body.empty());
  // Every cut short of the final blank line leaves an unfinished event.
  for (size_t cut = body.size() - 1; cut > body.size() - 40; --cut) {
    const Result r = FeedWhole(std::string_view(body).substr(0, cut));
    EXPECT_TRUE(r.partial) << "cut at " << cut;
    EXPECT_EQ(r.events.size(), 7u) << "cut at " << cut;
  }
  EXPECT_FALSE(FeedWhole(body).partial);
}

}  // namespace
}  // namespace claude
