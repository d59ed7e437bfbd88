// libFuzzer target: the SSE parser gives the same events and the same outcome whether the body
// comes whole, in chunks of sizes the input picks, or one byte at a time.
//
// Input: one byte of chunking seed, then the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "service/sse/sse_parser.h"

namespace {

struct Outcome {
  std::vector<std::string> events;  // "event\ndata"
  absl::StatusCode code = absl::StatusCode::kOk;
  bool partial = false;
};

// Feeds `body` in pieces of the sizes `next_size` gives (>= 1).
template <typename NextSize>
Outcome Parse(std::string_view body, NextSize next_size) {
  // Small enough that the fuzzer reaches the limit.
  claude::SseParser parser(/*max_event_bytes=*/1024);
  Outcome out;
  size_t at = 0;
  while (at < body.size()) {
    const size_t n = std::min(next_size(), body.size() - at);
    absl::Status status = parser.Feed(body.substr(at, n), [&](const claude::SseEvent& event) {
      out.events.push_back(std::string(event.event) + "\n" + std::string(event.data));
      return absl::OkStatus();
    });
    at += n;
    if (!status.ok()) {
      out.code = status.code();
      return out;
    }
  }
  out.partial = parser.HasPartialEvent();
  return out;
}

void Check(const Outcome& expected, const Outcome& actual) {
  if (expected.events != actual.events || expected.code != actual.code || expected.partial != actual.partial) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint32_t seed = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const Outcome whole = Parse(body, [&] { return body.size() + 1; });
  Check(whole, Parse(body, [] { return size_t{1}; }));
  Check(whole, Parse(body, [&] {
          seed = seed * 1103515245u + 12345u;  // a small LCG: chunk sizes 1..16 from the seed
          return size_t{1} + (seed >> 16) % 16;
        }));
  return 0;
}
