// The FakeReply builders of fake_anthropic.h: canned SSE, JSON and hung replies, and the lazily
// generated SSE stream.
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/fake_upstream/fake_anthropic.h"
#include "tests/fake_upstream/fake_messages_echo.h"

namespace claude {
namespace testing {

FakeReply SseReply(std::string sse_body, size_t chunk_size, absl::Duration between) {
  FakeReply reply;
  reply.headers = {{"content-type", "text/event-stream"}};
  if (chunk_size == 0 || sse_body.size() <= chunk_size) {
    reply.chunks.push_back(std::move(sse_body));
  } else {
    for (size_t at = 0; at < sse_body.size(); at += chunk_size) {
      reply.chunks.push_back(sse_body.substr(at, chunk_size));
    }
  }
  reply.delay_between_chunks = between;
  return reply;
}

FakeReply GeneratedSseReply(int64_t deltas, size_t delta_bytes, absl::Duration between) {
  FakeReply reply;
  reply.headers = {{"content-type", "text/event-stream"}};
  reply.delay_between_chunks = between;
  // Words of five letters and a space, cut to delta_bytes: plain ASCII, so no JSON escaping.
  std::string text;
  for (size_t i = 0; i < delta_bytes; ++i)
    text += (i % 6 == 5) ? ' ' : static_cast<char>('a' + i % 6);
  std::string delta;
  AppendSseEvent("content_block_delta",
                 absl::StrCat(R"({"type":"content_block_delta","index":0,)",
                              R"("delta":{"type":"text_delta","text":")", text, R"("}})"),
                 &delta);
  // Shared by the copies of the generator a default reply makes for each request.
  auto delta_event = std::make_shared<const std::string>(std::move(delta));
  int64_t next = 0;  // 0, 1: the head events; 2 .. deltas+1: deltas; then three closing events
  reply.generator = [deltas, delta_event, next](std::string* piece) mutable {
    const int64_t i = next++;
    if (i == 0) {
      std::string data = R"({"type":"message_start","message":)";
      AppendMessageJson(1, kFakeModelId, nullptr, 1, 1, &data);
      data += "}";
      AppendSseEvent("message_start", data, piece);
    } else if (i == 1) {
      AppendSseEvent("content_block_start",
                     R"({"type":"content_block_start","index":0,)"
                     R"("content_block":{"type":"text","text":""}})",
                     piece);
    } else if (i < deltas + 2) {
      *piece = *delta_event;
    } else if (i == deltas + 2) {
      AppendSseEvent("content_block_stop", R"({"type":"content_block_stop","index":0})", piece);
    } else if (i == deltas + 3) {
      AppendSseEvent(
          "message_delta",
          absl::StrCat(R"({"type":"message_delta","delta":{"stop_reason":"end_turn",)",
                       R"("stop_sequence":null},"usage":{"output_tokens":)", deltas, "}}"),
          piece);
    } else if (i == deltas + 4) {
      AppendSseEvent("message_stop", R"({"type":"message_stop"})", piece);
    } else {
      return false;
    }
    return true;
  };
  return reply;
}

FakeReply HungReply() {
  FakeReply reply;
  reply.never_reply = true;
  return reply;
}

FakeReply JsonReply(int status, std::string json, HttpHeaders extra_headers) {
  FakeReply reply;
  reply.status = status;
  reply.headers = {{"content-type", "application/json"}};
  for (auto& header : extra_headers) reply.headers.push_back(std::move(header));
  reply.chunks.push_back(std::move(json));
  return reply;
}

}  // namespace testing
}  // namespace claude
