// The SSE parser's bounds and failures: the per-event size limit, callback errors, partial
// events at the end of a body, and the recorded transcripts (tests/fixtures/*.sse).
#include "service/sse/sse_parser.h"

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/service/sse/sse_feeding.h"

// In the namespace of the feeding helpers (Event, Result, FeedWhole...), which every test uses.
namespace claude::sse_testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// --- Size limit --------------------------------------------------------------

TEST(SseParserTest, LimitCountsTheRawLineIndependentlyOfChunking) {
  constexpr size_t kLimit = 64;
  // "data: " + 58 bytes is a 64-byte line: exactly at the limit.
  const std::string fits = "data: " + std::string(58, 'x') + "\n\n";
  ExpectSameForEveryChunking(fits, Result{{{"", std::string(58, 'x')}}, absl::OkStatus(), false},
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
  EXPECT_EQ(FeedWhole(comment, 100).status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(FeedChunks(SplitBytes(comment), 100).status.code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(FeedWhole("id: " + std::string(200, '1') + "\n", 100).status.code(),
            absl::StatusCode::kResourceExhausted);
}

// Feeds an endless event made of `pattern` repeated, in chunks of `chunk_size`,
// until the parser fails or `total` bytes went in. Returns the status and the
// number of bytes fed, including the failing chunk.
std::pair<absl::Status, size_t> FeedEndlessEvent(SseParser& parser, std::string_view head,
                                                 std::string_view pattern, size_t chunk_size,
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
    status = parser.Feed(std::string_view(repeated).substr(offset, chunk_size), count);
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
  auto [status, fed] = FeedEndlessEvent(parser, "event: big\ndata: ", "x", kHugeChunk, kHugeTotal);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()), HasSubstr(absl::StrCat(kHugeLimit)));
  EXPECT_GT(fed, kHugeLimit);
  EXPECT_LE(fed, kHugeLimit + kHugeChunk);
  EXPECT_EQ(parser.Feed("\n\n", Ok).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SseParserTest, HugeMultiLineEventIsRejectedNearTheLimit) {
  SseParser parser(kHugeLimit);
  // 1000-byte lines of which 994 count as data (993 bytes plus the '\n' that
  // joins them), so the limit is reached after a little more than it in bytes.
  const std::string line = "data: " + std::string(993, 'x') + "\n";
  auto [status, fed] = FeedEndlessEvent(parser, "", line, kHugeChunk, kHugeTotal);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()), HasSubstr(absl::StrCat(kHugeLimit)));
  EXPECT_GT(fed, kHugeLimit);
  EXPECT_LE(fed, kHugeLimit + kHugeLimit / 100 + kHugeChunk);
  EXPECT_EQ(parser.Feed("\n", Ok).code(), absl::StatusCode::kFailedPrecondition);
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
  const std::string line = "data: " + std::string(SseParser::kDefaultMaxEventBytes, 'x');
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
  const absl::Status status = parser.Feed("data: a\n\ndata: b\n\ndata: c\n\n", stop_at_b);
  EXPECT_EQ(status, absl::CancelledError("stop at b"));
  EXPECT_THAT(seen, ElementsAre("a", "b"));
  EXPECT_EQ(parser.Feed("data: d\n\n", stop_at_b).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(seen, ElementsAre("a", "b"));
}

TEST(SseParserTest, CallbackErrorInALaterChunk) {
  SseParser parser;
  int calls = 0;
  auto fail_second = [&](const SseEvent&) {
    return ++calls == 2 ? absl::InternalError("boom") : absl::OkStatus();
  };
  EXPECT_TRUE(parser.Feed("data: a\n\ndata: b\n", fail_second).ok());
  EXPECT_EQ(parser.Feed("\ndata: c\n\n", fail_second), absl::InternalError("boom"));
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
    EXPECT_EQ(parser.Feed(chunk, count).code(), absl::StatusCode::kFailedPrecondition);
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
    EXPECT_EQ(FeedChunks(SplitBytes(c.body)).partial, c.partial) << "body: " << c.body;
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
  static const auto* const kFixtures = new std::map<std::string, std::vector<std::string>>{
      {"text_basic.sse",
       {"message_start", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_delta", "content_block_stop", "message_delta", "message_stop"}},
      {"thinking.sse",
       {"message_start", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_delta", "content_block_stop", "content_block_start", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop"}},
      {"tool_use.sse", {"message_start",       "content_block_start", "ping",
                        "content_block_delta", "content_block_delta", "content_block_delta",
                        "content_block_stop",  "content_block_start", "content_block_delta",
                        "content_block_delta", "content_block_delta", "content_block_delta",
                        "content_block_delta", "content_block_delta", "content_block_delta",
                        "content_block_delta", "content_block_delta", "content_block_stop",
                        "message_delta",       "message_stop"}},
      {"error_after_200.sse",
       {"message_start", "content_block_start", "content_block_delta", "error"}},
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
  const std::string body = ReadFile(std::filesystem::path(CLAUDE_FIXTURES_DIR) / "text_basic.sse");
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
}  // namespace claude::sse_testing
