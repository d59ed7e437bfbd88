// Throughput of the codec on the hot paths, each beside a baseline measured in the same run so
// that the ratio, not the absolute figure, is what a reader compares across machines:
// - request bodies (a >= 1 MB conversation, a 5 MB image) vs protobuf's binary serialization
//   of the same request;
// - stream events, JSON -> MessageStreamEvent vs parsing the same JSON with simdjson alone;
// - a whole transcript through SSE parser -> codec -> accumulator.
#include <string>

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "claude/v1/messages.pb.h"
#include "common/codec/json_mapping.h"
#include "common/codec/message_accumulator.h"
#include "service/sse/sse_parser.h"

namespace claude {
namespace {

v1::CreateMessageRequest LongConversation() {
  v1::CreateMessageRequest request;
  request.set_model("claude-sonnet-4-5");
  request.set_max_tokens(1024);
  request.set_system_text("You are a helpful assistant.");
  const std::string turn(5000, 'x');  // 200 turns of 5 KB: 1 MB of text
  for (int i = 0; i < 200; ++i) {
    auto* m = request.add_messages();
    m->set_role(i % 2 == 0 ? v1::ROLE_USER : v1::ROLE_ASSISTANT);
    if (i % 4 == 0) {
      m->set_content_text(turn);
    } else {
      m->mutable_content_blocks()->add_blocks()->mutable_text()->set_text(turn);
    }
  }
  return request;
}

v1::CreateMessageRequest ImageRequest() {
  v1::CreateMessageRequest request;
  request.set_model("claude-sonnet-4-5");
  request.set_max_tokens(1024);
  auto* blocks = request.add_messages()->mutable_content_blocks();
  auto* image = blocks->add_blocks()->mutable_image()->mutable_source()->mutable_base64();
  image->set_media_type("image/png");
  std::string bytes(5 << 20, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 + 7);
  image->set_data(std::move(bytes));
  blocks->add_blocks()->mutable_text()->set_text("What is in this image?");
  request.mutable_messages(0)->set_role(v1::ROLE_USER);
  return request;
}

void EncodeJson(benchmark::State& state, const v1::CreateMessageRequest& request) {
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = CreateMessageBody(request, /*stream=*/true);
    bytes = body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void EncodeProtoBaseline(benchmark::State& state, const v1::CreateMessageRequest& request) {
  size_t bytes = 0;
  for (auto _ : state) {
    std::string wire = request.SerializeAsString();
    bytes = wire.size();
    benchmark::DoNotOptimize(wire.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void BM_EncodeConversation1MB(benchmark::State& state) { EncodeJson(state, LongConversation()); }
void BM_EncodeConversation1MB_BaselineProtoSerialize(benchmark::State& state) {
  EncodeProtoBaseline(state, LongConversation());
}
void BM_EncodeImage5MB(benchmark::State& state) { EncodeJson(state, ImageRequest()); }
void BM_EncodeImage5MB_BaselineProtoSerialize(benchmark::State& state) {
  EncodeProtoBaseline(state, ImageRequest());
}
BENCHMARK(BM_EncodeConversation1MB);
BENCHMARK(BM_EncodeConversation1MB_BaselineProtoSerialize);
BENCHMARK(BM_EncodeImage5MB);
BENCHMARK(BM_EncodeImage5MB_BaselineProtoSerialize);

constexpr char kTextDelta[] =
    R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" Claude. How can I help you today?"}})";
constexpr char kMessageDelta[] =
    R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}})";

void DecodeEvent(benchmark::State& state, const char* json) {
  v1::MessageStreamEvent event;
  for (auto _ : state) {
    absl::Status status = JsonToMessage(json, &event);
    if (!status.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(event);
  }
  state.SetItemsProcessed(state.iterations());
}

void ParseOnlyBaseline(benchmark::State& state, const char* json) {
  simdjson::dom::parser parser;
  const size_t n = std::char_traits<char>::length(json);
  for (auto _ : state) {
    simdjson::dom::element root;
    if (parser.parse(json, n).get(root) != simdjson::SUCCESS) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(root);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DecodeTextDeltaEvent(benchmark::State& state) { DecodeEvent(state, kTextDelta); }
void BM_DecodeTextDeltaEvent_BaselineSimdjsonParse(benchmark::State& state) {
  ParseOnlyBaseline(state, kTextDelta);
}
void BM_DecodeMessageDeltaEvent(benchmark::State& state) { DecodeEvent(state, kMessageDelta); }
void BM_DecodeMessageDeltaEvent_BaselineSimdjsonParse(benchmark::State& state) {
  ParseOnlyBaseline(state, kMessageDelta);
}
BENCHMARK(BM_DecodeTextDeltaEvent);
BENCHMARK(BM_DecodeTextDeltaEvent_BaselineSimdjsonParse);
BENCHMARK(BM_DecodeMessageDeltaEvent);
BENCHMARK(BM_DecodeMessageDeltaEvent_BaselineSimdjsonParse);

// A stream of 100 text deltas, parsed, decoded, re-encoded (as the CLI's --events does) and
// accumulated: events per second through the whole codec.
std::string HundredDeltaStream() {
  std::string body =
      "event: message_start\ndata: "
      R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"m","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}})"
      "\n\nevent: content_block_start\ndata: "
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
      "\n\n";
  for (int i = 0; i < 100; ++i) body += std::string("event: content_block_delta\ndata: ") + kTextDelta + "\n\n";
  body += "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n";
  body += std::string("event: message_delta\ndata: ") + kMessageDelta + "\n\n";
  body += "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  return body;
}

void BM_StreamThroughParserCodecAccumulator(benchmark::State& state) {
  const std::string body = HundredDeltaStream();
  int64_t events = 0;
  for (auto _ : state) {
    SseParser parser;
    MessageAccumulator accumulator;
    v1::MessageStreamEvent event;
    std::string reencoded;
    absl::Status status = parser.Feed(body, [&](const SseEvent& sse) {
      absl::Status s = JsonToMessage(absl::string_view(sse.data.data(), sse.data.size()), &event);
      if (!s.ok()) return s;
      reencoded.clear();
      MessageToJson(event, &reencoded);
      ++events;
      return accumulator.Apply(event);
    });
    if (!status.ok() || !accumulator.done()) state.SkipWithError("stream failed");
  }
  state.SetItemsProcessed(events);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_StreamThroughParserCodecAccumulator);

}  // namespace
}  // namespace claude

BENCHMARK_MAIN();
