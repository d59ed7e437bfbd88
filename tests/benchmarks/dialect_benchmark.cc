// The server's work per reply in each dialect, with the Messages dialect as the same-run
// baseline: the stream decoder (SSE bytes -> claude.v1 events) over equivalent 100-delta replies,
// and the unary path (request body out, reply body in). No network: what differs between the
// dialects is here; the transport and gRPC are the same code for both.
#include <string>

#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"
#include "service/upstream/chat_completions_dialect.h"
#include "service/upstream/messages_dialect.h"

namespace claude {
namespace {

constexpr int kDeltas = 100;
constexpr char kPiece[] = "word ";

// A Messages API stream: message_start, a text block of kDeltas deltas, message_delta, stop.
std::string MessagesStream() {
  std::string body =
      "event: message_start\ndata: "
      R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"m","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}})"
      "\n\nevent: content_block_start\ndata: "
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
      "\n\n";
  for (int i = 0; i < kDeltas; ++i) {
    absl::StrAppend(&body, "event: content_block_delta\ndata: ",
                    R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")",
                    kPiece, "\"}}\n\n");
  }
  body += "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n";
  body += "event: message_delta\ndata: "
          R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":100}})"
          "\n\n";
  body += "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  return body;
}

// The same reply as chat.completion.chunk events, as the gateway sends them.
std::string ChatStream() {
  const std::string head =
      R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1768619445,"model":"m","choices":[{"index":0,"delta":)";
  std::string body = head + R"({"role":"assistant","content":""},"finish_reason":null}],"usage":null})" "\n\n";
  for (int i = 0; i < kDeltas; ++i) {
    absl::StrAppend(&body, head, R"({"content":")", kPiece,
                    R"("},"finish_reason":null}],"usage":null})", "\n\n");
  }
  body += head + R"({},"finish_reason":"stop"}],"usage":null})" "\n\n";
  body += R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1768619445,"model":"m","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":100,"total_tokens":112,"prompt_tokens_details":{"cached_tokens":0},"claude_cache_creation_5_m_tokens":0,"claude_cache_creation_1_h_tokens":0}})"
          "\n\ndata: [DONE]\n\n";
  return body;
}

void DecodeStream(benchmark::State& state, const Dialect& dialect, const std::string& body) {
  int64_t events = 0;
  for (auto _ : state) {
    std::unique_ptr<EventDecoder> decoder = dialect.NewEventDecoder();
    auto count = [&](v1::MessageStreamEvent event) {
      benchmark::DoNotOptimize(event);
      ++events;
      return absl::OkStatus();
    };
    // In 1 KiB pieces, as the transport hands them over.
    for (size_t at = 0; at < body.size(); at += 1024) {
      if (!decoder->Feed(absl::string_view(body).substr(at, 1024), count).ok()) {
        state.SkipWithError("decode failed");
      }
    }
    if (!decoder->Finish(count).ok()) state.SkipWithError("stream incomplete");
  }
  state.SetItemsProcessed(events);
}

void BM_StreamDecode_Messages(benchmark::State& state) {
  static const std::unique_ptr<MessagesDialect> dialect = *MessagesDialect::Create({});
  DecodeStream(state, *dialect, MessagesStream());
}
void BM_StreamDecode_ChatCompletions(benchmark::State& state) {
  const ChatCompletionsDialect dialect;
  DecodeStream(state, dialect, ChatStream());
}
BENCHMARK(BM_StreamDecode_Messages);
BENCHMARK(BM_StreamDecode_ChatCompletions);

v1::CreateMessageRequest Request() {
  v1::CreateMessageRequest request;
  request.set_model("claude-bench-1");
  request.set_max_tokens(1024);
  v1::MessageParam* message = request.add_messages();
  message->set_role(v1::ROLE_USER);
  message->set_content_text("Hello! Please answer in one short sentence: what is a load generator for?");
  return request;
}

// The unary path's dialect work: the request built, the reply decoded.
void Unary(benchmark::State& state, const Dialect& dialect, const std::string& reply) {
  const v1::CreateMessageRequest request = Request();
  for (auto _ : state) {
    absl::StatusOr<HttpRequest> http = dialect.CreateMessage(request, false, {});
    v1::Message message;
    if (!http.ok() || !dialect.DecodeReply(reply, &message).ok()) state.SkipWithError("failed");
    benchmark::DoNotOptimize(message);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Unary_Messages(benchmark::State& state) {
  static const std::unique_ptr<MessagesDialect> dialect = *MessagesDialect::Create({});
  Unary(state, *dialect,
        R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-bench-1","content":[{"type":"text","text":"Echo: Hello! Please answer in one short sentence: what is a load generator for?"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":14,"output_tokens":15}})");
}
void BM_Unary_ChatCompletions(benchmark::State& state) {
  const ChatCompletionsDialect dialect;
  Unary(state, dialect,
        R"({"id":"chatcmpl-1","object":"chat.completion","created":1768619365,"model":"claude-bench-1","choices":[{"index":0,"message":{"role":"assistant","content":"Echo: Hello! Please answer in one short sentence: what is a load generator for?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":14,"completion_tokens":15,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0},"claude_cache_creation_5_m_tokens":0,"claude_cache_creation_1_h_tokens":0}})");
}
BENCHMARK(BM_Unary_Messages);
BENCHMARK(BM_Unary_ChatCompletions);

}  // namespace
}  // namespace claude

BENCHMARK_MAIN();
