// The per-RPC JSON log line, from a CallRecord built by hand: one parseable line, every field
// README.md's "Observability" lists, severities by who caused a failure, bodies only on request,
// and hostile strings kept inside their JSON strings.
#include "service/observability/rpc_log.h"

#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "tests/testing/captured_lines.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

using ::claude::testing::JsonField;
using ::claude::testing::ParsedLogLine;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::testing::HasSubstr;
using ::testing::Not;

bool Has(const Struct& line, const std::string& name) { return line.fields().contains(name); }

// A streamed call that succeeded on its second attempt at the "primary" upstream.
CallRecord StreamedRecord() {
  CallRecord record;
  record.method = kStreamMessageMethod;
  record.caller = "alice";
  record.model = "claude-sonnet-4-5";
  record.peer = "ipv4:10.0.0.7:51234";
  record.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  record.span_id = "00f067aa0ba902b7";
  record.start_time = absl::FromUnixMillis(1'790'000'000'123);
  record.started = CallRecord::Clock::now();
  record.upstream_started = record.started + std::chrono::milliseconds(1);
  record.first_token = record.started + std::chrono::milliseconds(40);
  record.upstream_ended = record.started + std::chrono::milliseconds(90);
  record.ended = record.started + std::chrono::milliseconds(100);
  record.attempt_statuses = {529, 200};
  record.attempt_upstreams = {"primary", "primary"};
  record.retries = 1;
  record.request_id = "req_011";
  record.message_id = "msg_013";
  record.stop_reason = "end_turn";
  record.usage = CallUsage{{{"input", 12}, {"output", 34}, {"cache_read_input", 5}}};
  return record;
}

TEST(RpcLogTest, ASuccessfulStreamHasEveryField) {
  const Struct line = ParsedLogLine(FormatRpcLogLine(StreamedRecord()));
  EXPECT_EQ(JsonField(line, "severity").string_value(), "INFO");
  EXPECT_EQ(JsonField(line, "time").string_value(), "2026-09-21T14:13:20.123Z");
  EXPECT_EQ(JsonField(line, "message").string_value(), "rpc");
  EXPECT_EQ(JsonField(line, "method").string_value(), kStreamMessageMethod);
  EXPECT_EQ(JsonField(line, "caller").string_value(), "alice");
  EXPECT_EQ(JsonField(line, "peer").string_value(), "ipv4:10.0.0.7:51234");
  EXPECT_EQ(JsonField(line, "trace_id").string_value(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(JsonField(line, "span_id").string_value(), "00f067aa0ba902b7");
  EXPECT_EQ(JsonField(line, "model").string_value(), "claude-sonnet-4-5");
  EXPECT_EQ(JsonField(line, "grpc_code").string_value(), "OK");
  EXPECT_FALSE(Has(line, "grpc_message"));
  EXPECT_EQ(JsonField(line, "upstream_status").number_value(), 200) << "the last attempt's";
  EXPECT_EQ(JsonField(line, "request_id").string_value(), "req_011");
  EXPECT_EQ(JsonField(line, "message_id").string_value(), "msg_013");
  EXPECT_EQ(JsonField(line, "stop_reason").string_value(), "end_turn");
  EXPECT_DOUBLE_EQ(JsonField(line, "latency_ms").number_value(), 100);
  EXPECT_DOUBLE_EQ(JsonField(line, "ttft_ms").number_value(), 40);
  EXPECT_DOUBLE_EQ(JsonField(line, "upstream_ms").number_value(), 89);
  EXPECT_EQ(JsonField(line, "retries").number_value(), 1);
  ASSERT_EQ(JsonField(line, "upstreams").list_value().values_size(), 2);
  EXPECT_EQ(JsonField(line, "upstreams").list_value().values(0).string_value(), "primary");
  // Every token type of the usage, by its name.
  EXPECT_EQ(JsonField(line, "input_tokens").number_value(), 12);
  EXPECT_EQ(JsonField(line, "output_tokens").number_value(), 34);
  EXPECT_EQ(JsonField(line, "cache_read_input_tokens").number_value(), 5);
  EXPECT_FALSE(Has(line, "request_body"));
  EXPECT_FALSE(Has(line, "response_text"));
}

TEST(RpcLogTest, ACallRefusedBeforeAnyAttemptHasNullTimesAndNoUsage) {
  CallRecord record;
  record.method = kCreateMessageMethod;
  record.started = CallRecord::Clock::now();
  record.Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "messages: must not be empty"));
  const Struct line = ParsedLogLine(FormatRpcLogLine(record));
  EXPECT_EQ(JsonField(line, "severity").string_value(), "WARNING") << "the caller's mistake";
  EXPECT_EQ(JsonField(line, "grpc_code").string_value(), "INVALID_ARGUMENT");
  EXPECT_EQ(JsonField(line, "grpc_message").string_value(), "messages: must not be empty");
  EXPECT_EQ(JsonField(line, "upstream_status").number_value(), 0);
  EXPECT_EQ(JsonField(line, "ttft_ms").kind_case(), Value::kNullValue);
  EXPECT_EQ(JsonField(line, "upstream_ms").kind_case(), Value::kNullValue);
  EXPECT_FALSE(Has(line, "upstreams")) << "no attempt, no upstream";
  EXPECT_FALSE(Has(line, "input_tokens"));
  EXPECT_FALSE(Has(line, "message_id"));
}

TEST(RpcLogTest, FailuresOfTheServerOrItsUpstreamAreErrors) {
  for (grpc::StatusCode code : {grpc::StatusCode::INTERNAL, grpc::StatusCode::UNAVAILABLE,
                                grpc::StatusCode::UNKNOWN, grpc::StatusCode::DATA_LOSS}) {
    CallRecord record;
    record.Finish(grpc::Status(code, "upstream failed"));
    EXPECT_EQ(JsonField(ParsedLogLine(FormatRpcLogLine(record)), "severity").string_value(),
              "ERROR")
        << code;
  }
  for (grpc::StatusCode code : {grpc::StatusCode::CANCELLED, grpc::StatusCode::UNAUTHENTICATED,
                                grpc::StatusCode::RESOURCE_EXHAUSTED}) {
    CallRecord record;
    record.Finish(grpc::Status(code, "the caller's doing"));
    EXPECT_EQ(JsonField(ParsedLogLine(FormatRpcLogLine(record)), "severity").string_value(),
              "WARNING")
        << code;
  }
}

TEST(RpcLogTest, BodiesAppearOnlyWhenRecorded) {
  CallRecord record = StreamedRecord();
  record.request_body = std::make_shared<const std::string>(R"({"model":"claude-sonnet-4-5"})");
  record.response_text = "Hello!";
  const Struct line = ParsedLogLine(FormatRpcLogLine(record));
  EXPECT_EQ(JsonField(line, "request_body").string_value(), R"({"model":"claude-sonnet-4-5"})");
  EXPECT_EQ(JsonField(line, "response_text").string_value(), "Hello!");
}

TEST(RpcLogTest, HostileStringsStayInsideTheirFields) {
  CallRecord record = StreamedRecord();
  record.caller = "mallory\",\"severity\":\"INFO";
  record.model = "line\nbreak\r\x01\x1f tab\t back\\slash";
  record.Finish(grpc::Status(grpc::StatusCode::INTERNAL, "quote \" and newline \n"));
  const std::string text = FormatRpcLogLine(record);
  const Struct line = ParsedLogLine(text);
  EXPECT_EQ(JsonField(line, "caller").string_value(), record.caller);
  EXPECT_EQ(JsonField(line, "model").string_value(), record.model);
  EXPECT_EQ(JsonField(line, "grpc_message").string_value(), "quote \" and newline \n");
  EXPECT_EQ(JsonField(line, "severity").string_value(), "ERROR");
}

TEST(RpcLoggerTest, WritesOneLinePerCallToItsSink) {
  auto sink = std::make_shared<testing::CapturedLines>();
  RpcLogger logger(sink);
  logger.OnCallEnd(StreamedRecord());
  CallRecord refused;
  refused.Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing caller token"));
  logger.OnCallEnd(refused);
  ASSERT_EQ(sink->lines().size(), 2u);
  EXPECT_THAT(sink->lines()[0], HasSubstr("\"caller\":\"alice\""));
  EXPECT_THAT(sink->lines()[1], HasSubstr("\"grpc_code\":\"UNAUTHENTICATED\""));
  EXPECT_THAT(sink->lines()[1], Not(HasSubstr("alice")));
}

}  // namespace
}  // namespace claude
