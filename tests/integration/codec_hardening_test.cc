// Issue 12's codec-side bugs through the real server: the fake upstream sends what a real one
// could, and the caller gets a clear status or the right events.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <grpcpp/impl/client_unary_call.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/claude_client.h"
#include "common/codec/json_mapping.h"
#include "service/errors/error_table.h"
#include "service/observability/line_sink.h"
#include "tests/testing/captured_lines.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using v1::MessageStreamEvent;

std::string Target(const ServerHarness& h) { return absl::StrCat("127.0.0.1:", h.port()); }

std::string SseEvent(const std::string& type, const std::string& json) {
  return absl::StrCat("event: ", type, "\ndata: ", json, "\n\n");
}

const char kMessageStart[] =
    R"({"type":"message_start","message":{"id":"msg_h","type":"message","role":"assistant","content":[],)"
    R"("model":"m","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}})";

std::string TextStream(const std::vector<std::string>& escaped_texts) {
  std::string body = SseEvent("message_start", kMessageStart) +
                     SseEvent("content_block_start",
                              R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
  for (const std::string& text : escaped_texts) {
    body += SseEvent("content_block_delta", absl::StrCat(R"({"type":"content_block_delta","index":0,)",
                                                         R"("delta":{"type":"text_delta","text":")", text, R"("}})"));
  }
  return body + SseEvent("content_block_stop", R"({"type":"content_block_stop","index":0})") +
         SseEvent("message_delta",
                  R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}})") +
         SseEvent("message_stop", R"({"type":"message_stop"})");
}

// `levels` JSON objects nested: {"a":{"a":...1...}}.
std::string Nested(int levels) {
  std::string json;
  for (int i = 0; i < levels; ++i) json += R"({"a":)";
  return json + "1" + std::string(levels, '}');
}

// ---------------------------------------------------------------------------------------------
// Bug 3: JSON nested past protobuf's parse limit. The server used to log OK and send bytes its
// callers could not parse (Python: INTERNAL "Exception deserializing response"; the C++ CLI
// printed 3 of 8 events and exited 0; unary calls got UNIMPLEMENTED).

TEST(CodecHardeningTest, DeepStructInAStreamEndsItWithInternalNamingThePath) {
  ServerHarness h;
  const std::string body =
      SseEvent("message_start", kMessageStart) +
      SseEvent("content_block_start",
               absl::StrCat(R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"n","input":)",
                            Nested(40), "}}")) +
      SseEvent("message_stop", R"({"type":"message_stop"})");
  h.upstream().Enqueue(SseReply(body));
  Client client(Target(h));
  std::vector<MessageStreamEvent> events;
  absl::StatusOr<v1::Message> message =
      client.StreamMessage(Hello(), [&](const MessageStreamEvent& event) { events.push_back(event); });
  EXPECT_EQ(message.status().code(), absl::StatusCode::kInternal) << message.status();
  EXPECT_THAT(std::string(message.status().message()),
              HasSubstr("upstream sent malformed data: content_block.input.a.a.a.a"));
  EXPECT_THAT(std::string(message.status().message()), HasSubstr("nested too deeply"));
  ASSERT_EQ(events.size(), 1u);  // message_start reached the caller before
  EXPECT_TRUE(events[0].has_message_start());
}

TEST(CodecHardeningTest, DeepStructInAUnaryReplyIsInternalNamingThePath) {
  ServerHarness h;
  h.upstream().Enqueue(JsonReply(
      200, absl::StrCat(R"({"id":"msg_h","type":"message","role":"assistant","content":[],"model":"m",)",
                        R"("stop_reason":"refusal","stop_details":)", Nested(40), "}")));
  Client client(Target(h));
  absl::StatusOr<v1::Message> message = client.CreateMessage(Hello());
  EXPECT_EQ(message.status().code(), absl::StatusCode::kInternal) << message.status();
  EXPECT_THAT(std::string(message.status().message()), HasSubstr("stop_details.a.a.a"));

  // 30 levels fit, and the reply parses at the caller.
  h.upstream().Enqueue(JsonReply(
      200, absl::StrCat(R"({"id":"msg_h","type":"message","role":"assistant","content":[],"model":"m",)",
                        R"("stop_reason":"refusal","stop_details":)", Nested(30), "}")));
  message = client.CreateMessage(Hello());
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_TRUE(message->has_stop_details());
}

// ---------------------------------------------------------------------------------------------
// Bug 10: a character split across two deltas ended the stream with INTERNAL "invalid JSON:
// Problem while parsing a string"; the official SDK yields "Rocket: 🚀!".

TEST(CodecHardeningTest, CharacterSplitAcrossTwoDeltasIsJoined) {
  ServerHarness h;
  const std::string body = TextStream({R"(Rocket: \ud83d)", R"(\ude80!)"});
  Client client(Target(h));
  for (size_t chunk : {size_t{0}, size_t{1}}) {  // whole, and one byte at a time
    h.upstream().Enqueue(SseReply(body, chunk));
    std::vector<std::string> texts;
    absl::StatusOr<v1::Message> message = client.StreamText(Hello(), [&](absl::string_view text) {
      texts.emplace_back(text);
    });
    ASSERT_TRUE(message.ok()) << message.status();
    EXPECT_THAT(texts, ElementsAre("Rocket: ", "\xF0\x9F\x9A\x80!"));
    EXPECT_EQ(message->content(0).text().text(), "Rocket: \xF0\x9F\x9A\x80!");
  }
  // The server's own accumulation (a unary call over an upstream stream) joins it too.
  h.upstream().Enqueue(SseReply(body, 7));
  absl::StatusOr<v1::Message> unary = client.CreateMessage(Hello(64000));
  ASSERT_TRUE(unary.ok()) << unary.status();
  EXPECT_EQ(unary->content(0).text().text(), "Rocket: \xF0\x9F\x9A\x80!");
}

TEST(CodecHardeningTest, UnpairedHalfBecomesReplacementCharacter) {
  ServerHarness h;
  h.upstream().Enqueue(SseReply(TextStream({R"(end\ud83d)"})));
  Client client(Target(h));
  absl::StatusOr<v1::Message> message = client.StreamMessage(Hello(), nullptr);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->content(0).text().text(), "end\xEF\xBF\xBD");
}

// ---------------------------------------------------------------------------------------------
// Bug 12: error.details reached neither the message nor the status details.

TEST(CodecHardeningTest, ErrorDetailsReachTheCaller) {
  HarnessOptions options;
  options.max_retries = 0;
  ServerHarness h(options);
  h.upstream().Enqueue(JsonReply(
      400,
      R"({"type":"error","error":{"type":"invalid_request_error","message":"Too many tools",)"
      R"("details":{"error_code":"available_tools_limit_exceeded","limit":128}},"request_id":"req_tools"})"));
  Client client(Target(h));
  absl::StatusOr<v1::Message> message = client.CreateMessage(Hello());
  EXPECT_EQ(message.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(message.status().message()), HasSubstr("(error_code available_tools_limit_exceeded)"));
  std::optional<ErrorDetails> details = ErrorDetailsOf(message.status());
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->error_code, "available_tools_limit_exceeded");
  EXPECT_EQ(details->metadata["details_limit"], "128");
  ASSERT_TRUE(details->upstream_details.has_value());
  EXPECT_TRUE(JsonEqual(R"({"error_code":"available_tools_limit_exceeded","limit":128})",
                        MessageToJsonString(*details->upstream_details)));
}

// ---------------------------------------------------------------------------------------------
// Bug 7: requests that do not parse got UNIMPLEMENTED with an empty message, no RPC record,
// and a plain-text libprotobuf line on stderr.

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

size_t VarintSize(uint64_t value) {
  std::string scratch;
  AppendVarint(value, &scratch);
  return scratch.size();
}

// A length-delimited field's tag.
void AppendTag(int field, std::string* out) { AppendVarint(static_cast<uint64_t>(field) << 3 | 2, out); }

// CreateMessageRequest bytes whose extra_fields Struct nests `levels` deep: {"a":{"a":...}}.
// Every level is a prefix (Struct.fields entry, key "a", Value.struct_value), so the lengths are
// worked out from the inside and the prefixes written from the outside.
std::string DeeplyNestedRequest(int levels) {
  std::vector<size_t> struct_size(levels + 1, 0), value_size(levels + 1), entry_size(levels + 1);
  for (int i = 1; i <= levels; ++i) {
    value_size[i] = 1 + VarintSize(struct_size[i - 1]) + struct_size[i - 1];
    entry_size[i] = 3 + 1 + VarintSize(value_size[i]) + value_size[i];
    struct_size[i] = 1 + VarintSize(entry_size[i]) + entry_size[i];
  }
  std::string out;
  AppendTag(v1::CreateMessageRequest::descriptor()->FindFieldByName("extra_fields")->number(), &out);
  AppendVarint(struct_size[levels], &out);
  for (int i = levels; i >= 1; --i) {
    AppendTag(1, &out);  // Struct.fields
    AppendVarint(entry_size[i], &out);
    AppendTag(1, &out);  // the entry's key
    out += std::string("\x01" "a", 2);
    AppendTag(2, &out);  // the entry's value
    AppendVarint(value_size[i], &out);
    AppendTag(5, &out);  // Value.struct_value
    AppendVarint(struct_size[i - 1], &out);
  }
  return out;
}

// CreateMessageRequest bytes whose model is not UTF-8.
std::string NonUtf8Request() {
  std::string out;
  AppendTag(v1::CreateMessageRequest::descriptor()->FindFieldByName("model")->number(), &out);
  AppendVarint(2, &out);
  return out + "\xff\xfe";
}

grpc::Status RawUnary(ServerHarness& h, const std::string& method, const std::string& bytes) {
  grpc::ClientContext context;
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer reply;
  const grpc::internal::RpcMethod rpc(method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC, h.channel());
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(h.channel().get(), rpc, &context,
                                                                                request, &reply);
}

grpc::Status RawStream(ServerHarness& h, const std::string& bytes) {
  grpc::ClientContext context;
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  const grpc::internal::RpcMethod rpc("/claude.v1.Messages/StreamMessage", grpc::internal::RpcMethod::SERVER_STREAMING,
                                      h.channel());
  std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
      grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(h.channel().get(), rpc, &context, request));
  grpc::ByteBuffer event;
  while (reader->Read(&event)) {
  }
  return reader->Finish();
}

TEST(CodecHardeningTest, RequestsThatDoNotParseAreInvalidArgumentAndRecorded) {
  auto sink = std::make_shared<CapturedLines>();
  HarnessOptions options;
  options.configure = [sink](ServerConfig& config) {
    config.log_rpcs = true;
    config.log_sink = sink;
  };
  ServerHarness h(options);

  grpc::Status status = RawUnary(h, "/claude.v1.Messages/CreateMessage", NonUtf8Request());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("request does not parse as claude.v1.CreateMessageRequest: "));
  EXPECT_THAT(status.error_message(), HasSubstr("claude.v1.CreateMessageRequest.model"));
  EXPECT_THAT(status.error_message(), HasSubstr("invalid UTF-8"));

  status = RawUnary(h, "/claude.v1.Messages/CountTokens", DeeplyNestedRequest(10000));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("request does not parse as claude.v1.CountTokensRequest"));

  status = RawUnary(h, "/claude.v1.Models/GetModel", "\xff\xff\xff\xff\xff\xff");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("request does not parse as claude.v1.GetModelRequest"));

  status = RawStream(h, "\xff\xff\xff\xff\xff\xff");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();

  EXPECT_EQ(h.upstream().request_count(), 0);
  // One record per refused RPC, in the JSON log, and protobuf's own reason as a JSON line too.
  int records = 0;
  bool protobuf_line = false;
  for (const std::string& line : sink->lines()) {
    google::protobuf::Struct parsed;
    ASSERT_TRUE(JsonToMessage(line, &parsed).ok()) << "not JSON: " << line;
    if (line.find("\"grpc_code\":\"INVALID_ARGUMENT\"") != std::string::npos &&
        line.find("request does not parse") != std::string::npos) {
      ++records;
    }
    if (line.find("\"log\":\"protobuf\"") != std::string::npos && line.find("invalid UTF-8") != std::string::npos) {
      protobuf_line = true;
    }
  }
  EXPECT_EQ(records, 4);
  EXPECT_TRUE(protobuf_line);
}

}  // namespace
}  // namespace claude::testing
