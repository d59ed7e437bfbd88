// Calls through a real server, shared by its end-to-end tests: a unary call, a stream read to
// its end with its metadata, events folded into a Message, SSE pieces for scripted replies, and
// a server of its own in front of any base URL.
#ifndef TESTS_INTEGRATION_SERVER_CALLS_H_
#define TESTS_INTEGRATION_SERVER_CALLS_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "claude/v1/messages.grpc.pb.h"
#include "common/codec/message_accumulator.h"
#include "service/server/claude_server.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {

using v1::CreateMessageRequest;
using v1::MessageStreamEvent;

struct StreamResult {
  std::vector<MessageStreamEvent> events;
  grpc::Status status;
  std::multimap<std::string, std::string> initial_metadata;
  std::multimap<std::string, std::string> trailing_metadata;
};

inline std::multimap<std::string, std::string> Copy(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  std::multimap<std::string, std::string> out;
  for (const auto& [k, v] : metadata)
    out.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
  return out;
}

using CallMetadata = std::vector<std::pair<std::string, std::string>>;

// A call's deadline, `deadline` from now, and the metadata it sends.
inline void SetUpContext(grpc::ClientContext& context, absl::Duration deadline,
                         const CallMetadata& metadata) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  for (const auto& [k, v] : metadata) context.AddMetadata(k, v);
}

inline StreamResult Stream(ServerHarness& h, const CreateMessageRequest& request,
                           absl::Duration deadline = absl::Seconds(30),
                           const CallMetadata& metadata = {}) {
  grpc::ClientContext context;
  SetUpContext(context, deadline, metadata);
  StreamResult result;
  auto reader = h.messages().StreamMessage(&context, request);
  MessageStreamEvent event;
  while (reader->Read(&event)) result.events.push_back(event);
  result.status = reader->Finish();
  result.initial_metadata = Copy(context.GetServerInitialMetadata());
  result.trailing_metadata = Copy(context.GetServerTrailingMetadata());
  return result;
}

// A CreateMessage call's outcome; `const auto [status, reply] = CreateMessage(h);` names both.
struct UnaryResult {
  grpc::Status status;
  v1::Message reply;
};

inline UnaryResult CreateMessage(ServerHarness& h, const CreateMessageRequest& request = Hello(),
                                 absl::Duration deadline = absl::Seconds(30),
                                 const CallMetadata& metadata = {}) {
  grpc::ClientContext context;
  SetUpContext(context, deadline, metadata);
  UnaryResult result;
  result.status = h.messages().CreateMessage(&context, request, &result.reply);
  return result;
}

inline absl::StatusOr<v1::Message> Fold(const std::vector<MessageStreamEvent>& events) {
  MessageAccumulator accumulator;
  for (const auto& e : events) {
    if (absl::Status s = accumulator.Apply(e); !s.ok()) return s;
  }
  return std::move(accumulator).Finish();
}

inline std::string TextDeltaEvent(const std::string& text) {
  return "event: content_block_delta\ndata: "
         "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
         "\"text\":\"" +
         text + "\"}}\n\n";
}

// An SSE error event, as the API sends one mid-stream after its 200.
inline std::string ErrorEvent(const std::string& type, const std::string& message) {
  return absl::StrCat("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"", type,
                      "\",\"message\":\"", message, "\"}}\n\n");
}

inline constexpr char kStreamHead[] =
    "event: message_start\ndata: "
    "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_g\",\"type\":\"message\",\"role\":"
    "\"assistant\",\"content\":[],\"model\":\"m\",\"stop_reason\":null,\"stop_sequence\":null,"
    "\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"
    "event: content_block_start\ndata: "
    "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":"
    "\"\"}}\n\n";

// An upstream stream that drips text deltas, one every 5 ms, for a long time (until the client
// goes away): a stream to cancel mid-way.
inline FakeReply Drip() {
  auto sent = std::make_shared<int>(0);
  FakeReply drip;
  drip.headers = {{"content-type", "text/event-stream"}};
  drip.generator = [sent](std::string* piece) {
    *piece = *sent == 0 ? std::string(kStreamHead) : TextDeltaEvent("drip");
    return ++*sent < 100000;
  };
  drip.delay_between_chunks = absl::Milliseconds(5);
  return drip;
}

// A stream the test reads, cancels or abandons itself, event by event.
struct OpenedStream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<MessageStreamEvent>> reader;
};

// Queues `reply` at the harness's fake upstream and opens `stream`, a Hello(), towards it.
inline void OpenStream(ServerHarness& h, FakeReply reply, OpenedStream& stream) {
  h.upstream().Enqueue(std::move(reply));
  stream.reader = h.messages().StreamMessage(&stream.context, Hello());
}

// Opens `stream` as the harness's first request, which the fake upstream holds unanswered
// (HungReply): the RPC stays in flight until the test cancels it, drains the server or lets its
// deadline pass. A fatal failure (ASSERT_NO_FATAL_FAILURE) when the request never reaches the
// upstream.
inline void OpenHangingStream(ServerHarness& h, OpenedStream& stream) {
  OpenStream(h, HungReply(), stream);
  ASSERT_TRUE(h.upstream().WaitForRequests(1, Scaled(absl::Seconds(5))));
}

// A server of its own, without retries, in front of `base_url` instead of the fake upstream.
class StandaloneServer {
 public:
  explicit StandaloneServer(const std::string& base_url) {
    ServerConfig config;
    config.listen = "127.0.0.1:0";
    config.upstream.base_url = base_url;
    config.max_retries = 0;
    auto server = ClaudeServer::Start(std::move(config));
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::Messages::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                      grpc::InsecureChannelCredentials()));
  }
  v1::Messages::Stub& stub() { return *stub_; }
  CurlEventLoop& loop() { return server_->loop(); }

 private:
  std::unique_ptr<ClaudeServer> server_;
  std::unique_ptr<v1::Messages::Stub> stub_;
};

}  // namespace claude::testing

#endif  // TESTS_INTEGRATION_SERVER_CALLS_H_
