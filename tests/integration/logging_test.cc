// The per-RPC JSON log through the real server: one line per RPC, refused ones included, the
// expected fields, and no secret or prompt text unless bodies are asked for.
#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "service/observability/rpc_log.h"
#include "service/observability/stderr_line_writer.h"
#include "tests/testing/captured_lines.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/captured_lines.h"
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

google::protobuf::Struct ParseLine(const std::string& line) {
  google::protobuf::Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(line, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << ": " << line;
  return parsed;
}

const google::protobuf::Value& Field(const google::protobuf::Struct& s, const std::string& name) {
  static const google::protobuf::Value* const kMissing = new google::protobuf::Value();
  auto it = s.fields().find(name);
  EXPECT_NE(it, s.fields().end()) << "no field " << name;
  return it == s.fields().end() ? *kMissing : it->second;
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
    parsed.push_back(ParseLine(line));
    for (const char* field : {"time", "method", "caller", "model", "grpc_code", "upstream_status",
                              "request_id", "latency_ms", "ttft_ms", "upstream_ms", "retries"}) {
      EXPECT_TRUE(parsed.back().fields().contains(field)) << field << " missing: " << line;
    }
  }

  const google::protobuf::Struct& stream = parsed[0];
  EXPECT_EQ(Field(stream, "method").string_value(), "claude.v1.Messages/StreamMessage");
  EXPECT_EQ(Field(stream, "caller").string_value(), "");
  EXPECT_EQ(Field(stream, "model").string_value(), "claude-sonnet-4-5");
  EXPECT_EQ(Field(stream, "grpc_code").string_value(), "OK");
  EXPECT_EQ(Field(stream, "upstream_status").number_value(), 200);
  EXPECT_EQ(Field(stream, "retries").number_value(), 0);
  EXPECT_EQ(Field(stream, "input_tokens").number_value(), 12);
  EXPECT_EQ(Field(stream, "output_tokens").number_value(), 15);
  EXPECT_EQ(Field(stream, "cache_read_input_tokens").number_value(), 0);
  EXPECT_EQ(Field(stream, "cache_creation_input_tokens").number_value(), 0);
  EXPECT_TRUE(Field(stream, "ttft_ms").has_number_value());
  EXPECT_GE(Field(stream, "latency_ms").number_value(), Field(stream, "ttft_ms").number_value());

  const google::protobuf::Struct& unary = parsed[1];
  EXPECT_EQ(Field(unary, "method").string_value(), "claude.v1.Messages/CreateMessage");
  EXPECT_EQ(Field(unary, "request_id").string_value(), "req_unary");
  EXPECT_EQ(Field(unary, "input_tokens").number_value(), 12);
  EXPECT_EQ(Field(unary, "output_tokens").number_value(), 15);
  EXPECT_TRUE(Field(unary, "ttft_ms").has_null_value());

  // count_tokens' input_tokens is a count, not usage.
  const google::protobuf::Struct& count = parsed[2];
  EXPECT_EQ(Field(count, "method").string_value(), "claude.v1.Messages/CountTokens");
  EXPECT_EQ(Field(count, "grpc_code").string_value(), "OK");
  EXPECT_FALSE(count.fields().contains("input_tokens"));

  const google::protobuf::Struct& limited = parsed[3];
  EXPECT_EQ(Field(limited, "grpc_code").string_value(), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(Field(limited, "upstream_status").number_value(), 429);
  EXPECT_EQ(Field(limited, "request_id").string_value(), "req_limited");
  EXPECT_THAT(Field(limited, "grpc_message").string_value(), HasSubstr("rate limit"));

  const google::protobuf::Struct& refused = parsed[4];
  EXPECT_EQ(Field(refused, "method").string_value(), "claude.v1.Messages/StreamMessage");
  EXPECT_EQ(Field(refused, "grpc_code").string_value(), "INVALID_ARGUMENT");
  EXPECT_EQ(Field(refused, "upstream_status").number_value(), 0);
  EXPECT_TRUE(Field(refused, "upstream_ms").has_null_value());
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
  const google::protobuf::Struct stream = ParseLine(lines[0]);
  EXPECT_THAT(Field(stream, "request_body").string_value(), HasSubstr(kPrompt));
  EXPECT_EQ(Field(stream, "response_text").string_value(), "Hi! My name is Claude. How can I help you today?");
  const google::protobuf::Struct unary = ParseLine(lines[1]);
  EXPECT_THAT(Field(unary, "request_body").string_value(), HasSubstr(kPrompt));
  EXPECT_EQ(Field(unary, "response_text").string_value(), "Hi! My name is Claude. How can I help you today?");
}

// Whatever callers put in the fields they control stays one line of valid JSON.
TEST(LoggingTest, CallerControlledTextIsEscaped) {
  CallRecord record;
  record.method = "claude.v1.Models/GetModel";
  record.model = "a\"b\\c\nd\x01\xc3\xa9";
  record.code = grpc::StatusCode::NOT_FOUND;
  record.message = "model \"a\" not found\r\n";
  const std::string line = FormatRpcLogLine(record);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const google::protobuf::Struct parsed = ParseLine(line);
  EXPECT_EQ(Field(parsed, "model").string_value(), record.model);
  EXPECT_EQ(Field(parsed, "grpc_message").string_value(), record.message);
  EXPECT_EQ(Field(parsed, "grpc_code").string_value(), "NOT_FOUND");
  EXPECT_FALSE(parsed.fields().contains("input_tokens"));  // no usage reported
}

// The production sink: lines are written by its own thread, each with its newline, and what is
// queued is written before it goes away.
TEST(LoggingTest, StderrLineWriterWritesEveryLineInOrder) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    StderrLineWriter writer(/*max_backlog_lines=*/100, fds[1]);
    writer.Write(R"({"n":1})");
    writer.Write(R"({"n":2})");
    writer.Write(R"({"n":3})");
  }
  close(fds[1]);
  std::string text;
  char buffer[256];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, n);
  close(fds[0]);
  EXPECT_EQ(text, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
}

}  // namespace
}  // namespace claude::testing
