// The per-RPC JSON log through the real server: one line per RPC, refused ones included, the
// expected fields, and no secret or prompt text unless bodies are asked for; the caller's trace
// to the upstream and the log, and the OTLP spans to a collector. The units behind them have
// their own tests (tests/service/observability/: rpc_log, trace_context, otlp_exporter,
// stderr_line_writer).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include "tests/testing/captured_lines.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using v1::MessageStreamEvent;

constexpr char kApiKey[] = "sk-ant-test-key-never-logged";
constexpr char kCallerToken[] = "caller-token-never-logged";
constexpr char kPrompt[] = "Hello there, Claude";  // Hello()'s text

HarnessOptions Logging(std::shared_ptr<CapturedLines> sink, bool bodies) {
  HarnessOptions options;
  options.api_key = kApiKey;
  options.configure = [sink, bodies](ServerConfig& config) {
    config.log_rpcs = true;
    config.log_sink = sink;
    config.log_bodies = bodies;
  };
  return options;
}

void AddSecrets(grpc::ClientContext& context) {
  context.AddMetadata("authorization", std::string("Bearer ") + kCallerToken);
}

// Five RPCs: a stream, a CreateMessage, a CountTokens, an upstream 429 and a validation error.
void SendTraffic(ServerHarness& h) {
  h.upstream().Enqueue(SseReply(ReadFixture("text_basic.sse"), 50));
  {
    grpc::ClientContext context;
    AddSecrets(context);
    auto reader = h.messages().StreamMessage(&context, Hello());
    MessageStreamEvent event;
    while (reader->Read(&event)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  h.upstream().Enqueue(JsonReply(200, ReadFixture("text_basic.message.json"), {{"request-id", "req_unary"}}));
  {
    grpc::ClientContext context;
    AddSecrets(context);
    v1::Message message;
    ASSERT_TRUE(h.messages().CreateMessage(&context, Hello(), &message).ok());
  }
  h.upstream().Enqueue(JsonReply(200, R"({"input_tokens":9})"));
  {
    grpc::ClientContext context;
    AddSecrets(context);
    v1::CountTokensRequest request;
    request.set_model("claude-sonnet-4-5");
    *request.add_messages() = Hello().messages(0);
    v1::CountTokensResponse response;
    ASSERT_TRUE(h.messages().CountTokens(&context, request, &response).ok());
  }
  h.upstream().Enqueue(JsonReply(429, ReadFixture("error_429_anthropic.json"),
                                 {{"x-should-retry", "false"}, {"request-id", "req_limited"}}));
  {
    grpc::ClientContext context;
    AddSecrets(context);
    v1::Message message;
    ASSERT_EQ(h.messages().CreateMessage(&context, Hello(), &message).error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  {
    grpc::ClientContext context;
    AddSecrets(context);
    v1::CreateMessageRequest invalid = Hello();
    invalid.clear_model();
    auto reader = h.messages().StreamMessage(&context, invalid);
    MessageStreamEvent event;
    EXPECT_FALSE(reader->Read(&event));
    ASSERT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST(LoggingTest, OneJsonLinePerRpcWithoutSecretsOrPrompts) {
  auto sink = std::make_shared<CapturedLines>();
  ServerHarness h(Logging(sink, /*bodies=*/false));
  SendTraffic(h);
  // Each record is logged before its RPC's status is sent: every line is here already.
  const std::vector<std::string> lines = sink->lines();
  ASSERT_EQ(lines.size(), 5u);

  std::vector<google::protobuf::Struct> parsed;
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_THAT(line, Not(HasSubstr(kApiKey)));
    EXPECT_THAT(line, Not(HasSubstr(kCallerToken)));
    EXPECT_THAT(line, Not(HasSubstr(kPrompt)));
    EXPECT_THAT(line, Not(HasSubstr("Hi! My name is Claude")));  // the reply's text
    EXPECT_THAT(line, Not(HasSubstr("request_body")));
    parsed.push_back(ParsedLogLine(line));
    for (const char* field : {"severity", "time", "method", "caller", "peer", "trace_id", "span_id", "model",
                              "grpc_code", "upstream_status", "request_id", "latency_ms", "ttft_ms", "upstream_ms",
                              "retries"}) {
      EXPECT_TRUE(parsed.back().fields().contains(field)) << field << " missing: " << line;
    }
  }

  const google::protobuf::Struct& stream = parsed[0];
  EXPECT_EQ(JsonField(stream, "method").string_value(), "claude.v1.Messages/StreamMessage");
  EXPECT_EQ(JsonField(stream, "caller").string_value(), "");
  EXPECT_EQ(JsonField(stream, "model").string_value(), "claude-sonnet-4-5");
  EXPECT_EQ(JsonField(stream, "grpc_code").string_value(), "OK");
  EXPECT_EQ(JsonField(stream, "upstream_status").number_value(), 200);
  EXPECT_EQ(JsonField(stream, "retries").number_value(), 0);
  EXPECT_EQ(JsonField(stream, "input_tokens").number_value(), 12);
  EXPECT_EQ(JsonField(stream, "output_tokens").number_value(), 15);
  EXPECT_EQ(JsonField(stream, "cache_read_input_tokens").number_value(), 0);
  EXPECT_EQ(JsonField(stream, "cache_creation_input_tokens").number_value(), 0);
  EXPECT_TRUE(JsonField(stream, "ttft_ms").has_number_value());
  EXPECT_GE(JsonField(stream, "latency_ms").number_value(),
            JsonField(stream, "ttft_ms").number_value());
  EXPECT_EQ(JsonField(stream, "severity").string_value(), "INFO");
  EXPECT_EQ(JsonField(stream, "message_id").string_value(), "msg_01XFDUDYJgAACzvnptvVoYEL");
  EXPECT_EQ(JsonField(stream, "stop_reason").string_value(), "end_turn");
  EXPECT_THAT(JsonField(stream, "peer").string_value(), HasSubstr("127.0.0.1:"));
  EXPECT_THAT(JsonField(stream, "trace_id").string_value(),
              ::testing::MatchesRegex("[0-9a-f]{32}"));
  EXPECT_THAT(JsonField(stream, "span_id").string_value(), ::testing::MatchesRegex("[0-9a-f]{16}"));

  const google::protobuf::Struct& unary = parsed[1];
  EXPECT_EQ(JsonField(unary, "method").string_value(), "claude.v1.Messages/CreateMessage");
  EXPECT_EQ(JsonField(unary, "request_id").string_value(), "req_unary");
  EXPECT_EQ(JsonField(unary, "input_tokens").number_value(), 12);
  EXPECT_EQ(JsonField(unary, "output_tokens").number_value(), 15);
  EXPECT_TRUE(JsonField(unary, "ttft_ms").has_null_value());
  EXPECT_EQ(JsonField(unary, "stop_reason").string_value(), "end_turn");
  EXPECT_FALSE(JsonField(unary, "message_id").string_value().empty());
  // Calls without a caller's trace start their own: each a trace of its own.
  EXPECT_NE(JsonField(unary, "trace_id").string_value(),
            JsonField(stream, "trace_id").string_value());

  // count_tokens' input_tokens is a count, not usage.
  const google::protobuf::Struct& count = parsed[2];
  EXPECT_EQ(JsonField(count, "method").string_value(), "claude.v1.Messages/CountTokens");
  EXPECT_EQ(JsonField(count, "grpc_code").string_value(), "OK");
  EXPECT_FALSE(count.fields().contains("input_tokens"));

  const google::protobuf::Struct& limited = parsed[3];
  EXPECT_EQ(JsonField(limited, "grpc_code").string_value(), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(JsonField(limited, "upstream_status").number_value(), 429);
  EXPECT_EQ(JsonField(limited, "request_id").string_value(), "req_limited");
  EXPECT_THAT(JsonField(limited, "grpc_message").string_value(), HasSubstr("rate limit"));
  EXPECT_EQ(JsonField(limited, "severity").string_value(), "WARNING");

  const google::protobuf::Struct& refused = parsed[4];
  EXPECT_EQ(JsonField(refused, "method").string_value(), "claude.v1.Messages/StreamMessage");
  EXPECT_EQ(JsonField(refused, "grpc_code").string_value(), "INVALID_ARGUMENT");
  EXPECT_EQ(JsonField(refused, "upstream_status").number_value(), 0);
  EXPECT_TRUE(JsonField(refused, "upstream_ms").has_null_value());
  EXPECT_EQ(h.upstream().request_count(), 4);
}

TEST(LoggingTest, LogBodiesAddsThePromptAndTheReply) {
  auto sink = std::make_shared<CapturedLines>();
  ServerHarness h(Logging(sink, /*bodies=*/true));
  SendTraffic(h);
  const std::vector<std::string> lines = sink->lines();
  ASSERT_EQ(lines.size(), 5u);
  for (const std::string& line : lines) {
    EXPECT_THAT(line, Not(HasSubstr(kApiKey)));
    EXPECT_THAT(line, Not(HasSubstr(kCallerToken)));
  }
  const google::protobuf::Struct stream = ParsedLogLine(lines[0]);
  EXPECT_THAT(JsonField(stream, "request_body").string_value(), HasSubstr(kPrompt));
  EXPECT_EQ(JsonField(stream, "response_text").string_value(),
            "Hi! My name is Claude. How can I help you today?");
  const google::protobuf::Struct unary = ParsedLogLine(lines[1]);
  EXPECT_THAT(JsonField(unary, "request_body").string_value(), HasSubstr(kPrompt));
  EXPECT_EQ(JsonField(unary, "response_text").string_value(),
            "Hi! My name is Claude. How can I help you today?");
}

// W3C trace context: the caller's trace continues through the RPC's own span to the upstream
// request's traceparent, and the log line names both.
TEST(LoggingTest, TheCallersTraceReachesTheUpstreamAndTheLog) {
  auto sink = std::make_shared<CapturedLines>();
  ServerHarness h(Logging(sink, /*bodies=*/false));
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string caller_span = "00f067aa0ba902b7";
  auto call = [&h](const std::vector<std::pair<std::string, std::string>>& metadata) {
    grpc::ClientContext context;
    for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
    v1::Message message;
    EXPECT_TRUE(h.messages().CreateMessage(&context, Hello(), &message).ok());
    const std::vector<RecordedRequest> requests = h.upstream().requests();
    const std::string* traceparent = FindHeader(requests.back().headers, "traceparent");
    const std::string* tracestate = FindHeader(requests.back().headers, "tracestate");
    return std::make_pair(traceparent == nullptr ? "" : *traceparent, tracestate == nullptr ? "" : *tracestate);
  };

  // W3C metadata: same trace, our span as the upstream's parent, tracestate passed on.
  auto [sent, state] = call({{"traceparent", "00-" + trace_id + "-" + caller_span + "-01"},
                             {"tracestate", "vendor=abc,other=xyz"}});
  google::protobuf::Struct line = ParsedLogLine(sink->lines().back());
  const std::string span = JsonField(line, "span_id").string_value();
  EXPECT_EQ(JsonField(line, "trace_id").string_value(), trace_id);
  EXPECT_NE(span, caller_span);
  EXPECT_EQ(sent, "00-" + trace_id + "-" + span + "-01");
  EXPECT_EQ(state, "vendor=abc,other=xyz");

  // Malformed: a new trace, nothing of the bad value echoed, no tracestate passed on.
  std::tie(sent, state) = call({{"traceparent", "00-" + std::string(32, '0') + "-" + caller_span + "-01"},
                                {"tracestate", "vendor=abc"}});
  line = ParsedLogLine(sink->lines().back());
  EXPECT_THAT(JsonField(line, "trace_id").string_value(), ::testing::MatchesRegex("[0-9a-f]{32}"));
  EXPECT_NE(JsonField(line, "trace_id").string_value(), std::string(32, '0'));
  EXPECT_EQ(sent, "00-" + JsonField(line, "trace_id").string_value() + "-" +
                      JsonField(line, "span_id").string_value() + "-01");
  EXPECT_EQ(state, "");
}

// --otlp_endpoint: one span per RPC, posted as OTLP/HTTP JSON to a loopback collector (a second
// fake, which records what it receives), in the caller's trace.
TEST(LoggingTest, OneSpanPerRpcGoesToTheOtlpCollector) {
  auto collector = FakeAnthropic::Start();
  ASSERT_TRUE(collector.ok()) << collector.status();
  (*collector)->SetDefaultReply(JsonReply(200, "{}"));
  int64_t input_tokens = -1;
  {
    HarnessOptions options;
    options.configure = [&collector](ServerConfig& config) { config.otlp_endpoint = (*collector)->base_url(); };
    ServerHarness h(options);
    grpc::ClientContext context;
    context.AddMetadata("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    v1::Message message;
    ASSERT_TRUE(h.messages().CreateMessage(&context, Hello(), &message).ok());
    input_tokens = message.usage().input_tokens();
    grpc::ClientContext refused_context;
    v1::CreateMessageRequest invalid = Hello();
    invalid.clear_model();
    EXPECT_EQ(h.messages().CreateMessage(&refused_context, invalid, &message).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }  // the server's shutdown sends what is queued
  ASSERT_TRUE((*collector)->WaitForRequests(1, Scaled(absl::Seconds(10))));
  const RecordedRequest sent = (*collector)->requests().front();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.path, "/v1/traces");
  EXPECT_THAT(FindHeader(sent.headers, "content-type"), ::testing::Pointee(std::string("application/json")));
  EXPECT_EQ(FindHeader(sent.headers, "x-api-key"), nullptr);
  const google::protobuf::Struct payload = ParsedLogLine(sent.body);
  const auto& resource_spans = JsonField(payload, "resourceSpans").list_value().values();
  ASSERT_EQ(resource_spans.size(), 1);
  const auto& scope_spans =
      JsonField(resource_spans[0].struct_value(), "scopeSpans").list_value().values();
  ASSERT_EQ(scope_spans.size(), 1);
  const auto& spans = JsonField(scope_spans[0].struct_value(), "spans").list_value().values();
  ASSERT_EQ(spans.size(), 2);
  const google::protobuf::Struct& ok = spans[0].struct_value();
  EXPECT_EQ(JsonField(ok, "traceId").string_value(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(JsonField(ok, "parentSpanId").string_value(), "00f067aa0ba902b7");
  EXPECT_THAT(JsonField(ok, "spanId").string_value(), ::testing::MatchesRegex("[0-9a-f]{16}"));
  EXPECT_EQ(JsonField(ok, "name").string_value(), "claude.v1.Messages/CreateMessage");
  EXPECT_EQ(JsonField(ok, "kind").number_value(), 2);
  EXPECT_EQ(JsonField(JsonField(ok, "status").struct_value(), "code").number_value(), 1);
  std::map<std::string, std::string> attributes;
  for (const auto& a : JsonField(ok, "attributes").list_value().values()) {
    const google::protobuf::Struct& value = JsonField(a.struct_value(), "value").struct_value();
    const auto& fields = value.fields();
    attributes[JsonField(a.struct_value(), "key").string_value()] =
        fields.contains("stringValue") ? fields.at("stringValue").string_value()
                                       : fields.at("intValue").string_value();
  }
  EXPECT_EQ(attributes["rpc.system"], "grpc");
  EXPECT_EQ(attributes["rpc.method"], "CreateMessage");
  EXPECT_EQ(attributes["gen_ai.operation.name"], "chat");
  EXPECT_EQ(attributes["gen_ai.request.model"], "claude-sonnet-4-5");
  EXPECT_EQ(attributes["gen_ai.usage.input_tokens"], std::to_string(input_tokens));
  const google::protobuf::Struct& refused = spans[1].struct_value();
  EXPECT_EQ(JsonField(JsonField(refused, "status").struct_value(), "code").number_value(), 2);
  EXPECT_THAT(JsonField(JsonField(refused, "status").struct_value(), "message").string_value(),
              HasSubstr("model: required"));
  EXPECT_FALSE(refused.fields().contains("parentSpanId"));  // a trace of its own
}

}  // namespace
}  // namespace claude::testing
