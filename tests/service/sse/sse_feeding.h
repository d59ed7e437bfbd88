// Feeding an SseParser in tests: events copied out of the callback, and the same body fed
// whole, byte by byte, split at every position and in random chunks.
#ifndef TESTS_SERVICE_SSE_SSE_FEEDING_H_
#define TESTS_SERVICE_SSE_SSE_FEEDING_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "service/sse/sse_parser.h"

namespace claude::sse_testing {

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
    return std::tie(a.events, a.status, a.partial) == std::tie(b.events, b.status, b.partial);
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
inline Result FeedChunks(const std::vector<std::string_view>& chunks,
                         size_t max_event_bytes = SseParser::kDefaultMaxEventBytes) {
  SseParser parser(max_event_bytes);
  Result result;
  for (std::string_view chunk : chunks) {
    auto buffer = std::make_unique<char[]>(chunk.size() + 1);
    std::copy(chunk.begin(), chunk.end(), buffer.get());
    result.status =
        parser.Feed(std::string_view(buffer.get(), chunk.size()), [&](const SseEvent& e) {
          result.events.push_back({std::string(e.event), std::string(e.data)});
          return absl::OkStatus();
        });
    std::fill(buffer.get(), buffer.get() + chunk.size(), '#');
    if (!result.status.ok()) break;
  }
  result.partial = parser.HasPartialEvent();
  return result;
}

inline Result FeedWhole(std::string_view body,
                        size_t max_event_bytes = SseParser::kDefaultMaxEventBytes) {
  return FeedChunks({body}, max_event_bytes);
}

inline std::vector<std::string_view> SplitBytes(std::string_view body) {
  std::vector<std::string_view> chunks;
  for (size_t i = 0; i < body.size(); ++i) chunks.push_back(body.substr(i, 1));
  return chunks;
}

// Random chunk sizes, empty chunks included. Uses raw mt19937 output (not a
// std distribution) so that a seed gives the same splits on every platform.
inline std::vector<std::string_view> SplitRandomly(std::string_view body, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string_view> chunks;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t n = 0;
    switch (rng() % 4) {
      case 0: n = 0; break;
      case 1: n = 1 + rng() % 3; break;
      case 2: n = 1 + rng() % 40; break;
      default: n = rng() % (body.size() + 1); break;
    }
    n = std::min(n, body.size() - pos);
    chunks.push_back(body.substr(pos, n));
    pos += n;
  }
  return chunks;
}

// Checks that `body` gives `expected` whole, one byte at a time, split in two
// at every position and in many random splits.
inline void ExpectSameForEveryChunking(std::string_view body, const Result& expected,
                                       size_t max_event_bytes = SseParser::kDefaultMaxEventBytes) {
  EXPECT_EQ(FeedWhole(body, max_event_bytes), expected) << "whole body";
  EXPECT_EQ(FeedChunks(SplitBytes(body), max_event_bytes), expected) << "one byte at a time";
  for (size_t i = 0; i <= body.size(); ++i) {
    ASSERT_EQ(FeedChunks({body.substr(0, i), body.substr(i)}, max_event_bytes), expected)
        << "split at " << i;
  }
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    ASSERT_EQ(FeedChunks(SplitRandomly(body, seed), max_event_bytes), expected)
        << "random split, seed " << seed;
  }
}

inline absl::Status Ok(const SseEvent&) { return absl::OkStatus(); }
}  // namespace claude::sse_testing

#endif  // TESTS_SERVICE_SSE_SSE_FEEDING_H_
