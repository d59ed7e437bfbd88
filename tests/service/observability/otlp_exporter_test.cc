// One OTLP span per RPC: the span's JSON from a CallRecord, and the exporter over a mock
// Transport the test answers by hand: full batches posted to <endpoint>/v1/traces without
// credentials, one export in flight at a time, a bounded queue whose overflow is counted, the
// outcome of each export counted, and Shutdown sending what is queued. The collector over real
// HTTP is covered end to end (tests/integration/logging_test.cc).
#include "service/observability/otlp_exporter.h"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "common/program_info/build_info.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/mock_transport.h"
#include "tests/testing/wait_until.h"

namespace claude {
namespace {

using ::claude::testing::JsonField;
using ::claude::testing::MockTransport;
using ::claude::testing::ParsedJson;
using ::claude::testing::WaitUntil;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::testing::_;
using ::testing::Contains;
using ::testing::Pair;

// Bounds only how long a failing test waits for the exporter's thread.
constexpr absl::Duration kPatience = absl::Seconds(30);

// The span's attributes, key -> stringValue or intValue (OTLP JSON writes 64-bit integers as
// strings).
std::map<std::string, std::string> Attributes(const Struct& span) {
  std::map<std::string, std::string> attributes;
  for (const Value& attribute : JsonField(span, "attributes").list_value().values()) {
    const Struct& value = JsonField(attribute.struct_value(), "value").struct_value();
    const std::string key = JsonField(attribute.struct_value(), "key").string_value();
    attributes[key] = value.fields().contains("stringValue")
                          ? JsonField(value, "stringValue").string_value()
                          : "int:" + JsonField(value, "intValue").string_value();
  }
  return attributes;
}

CallRecord StreamRecord() {
  CallRecord record;
  record.method = kStreamMessageMethod;
  record.caller = "alice";
  record.model = "claude-sonnet-4-5";
  record.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  record.span_id = "00f067aa0ba902b7";
  record.parent_span_id = "1111111111111111";
  record.start_time = absl::FromUnixNanos(1'790'000'000'000'000'123);
  record.started = CallRecord::Clock::time_point{} + std::chrono::hours(1);
  record.ended = record.started + std::chrono::milliseconds(250);
  record.attempt_statuses = {529, 200};
  record.message_id = "msg_1";
  record.stop_reason = "end_turn";
  record.usage = CallUsage{{{"input", 12}, {"output", 34}}};
  return record;
}

TEST(FormatOtlpSpanTest, ASuccessfulCallsSpan) {
  const Struct span = ParsedJson(FormatOtlpSpan(StreamRecord()));
  EXPECT_EQ(JsonField(span, "traceId").string_value(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(JsonField(span, "spanId").string_value(), "00f067aa0ba902b7");
  EXPECT_EQ(JsonField(span, "parentSpanId").string_value(), "1111111111111111");
  EXPECT_EQ(JsonField(span, "name").string_value(), kStreamMessageMethod);
  EXPECT_EQ(JsonField(span, "kind").number_value(), 2) << "SPAN_KIND_SERVER";
  EXPECT_EQ(JsonField(span, "startTimeUnixNano").string_value(), "1790000000000000123");
  EXPECT_EQ(JsonField(span, "endTimeUnixNano").string_value(), "1790000000250000123");
  EXPECT_EQ(JsonField(JsonField(span, "status").struct_value(), "code").number_value(), 1)
      << "STATUS_CODE_OK";
  EXPECT_EQ(Attributes(span), (std::map<std::string, std::string>{
                                  {"rpc.system", "grpc"},
                                  {"rpc.service", "claude.v1.Messages"},
                                  {"rpc.method", "StreamMessage"},
                                  {"rpc.grpc.status_code", "int:0"},
                                  {"gen_ai.operation.name", "chat"},
                                  {"gen_ai.provider.name", "anthropic"},
                                  {"gen_ai.request.model", "claude-sonnet-4-5"},
                                  {"gen_ai.response.id", "msg_1"},
                                  {"gen_ai.response.finish_reasons", "end_turn"},
                                  {"gen_ai.usage.input_tokens", "int:12"},
                                  {"gen_ai.usage.output_tokens", "int:34"},
                                  {"claude_grpc.caller", "alice"},
                                  {"http.response.status_code", "int:200"},
                              }));
}

TEST(FormatOtlpSpanTest, AFailedCallWithoutUpstreamOrParent) {
  CallRecord record;
  record.method = kCountTokensMethod;
  record.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  record.span_id = "00f067aa0ba902b7";
  record.code = grpc::StatusCode::INVALID_ARGUMENT;
  record.message = "model: required \"quoted\"\nand a newline";
  const Struct span = ParsedJson(FormatOtlpSpan(record));
  EXPECT_FALSE(span.fields().contains("parentSpanId")) << "a trace of its own";
  const Struct& status = JsonField(span, "status").struct_value();
  EXPECT_EQ(JsonField(status, "code").number_value(), 2) << "STATUS_CODE_ERROR";
  EXPECT_EQ(JsonField(status, "message").string_value(), record.message);
  const std::map<std::string, std::string> attributes = Attributes(span);
  EXPECT_THAT(attributes, Contains(Pair("rpc.grpc.status_code", "int:3")));
  EXPECT_THAT(attributes, Contains(Pair("gen_ai.operation.name", "count_tokens")));
  for (const char* absent :
       {"gen_ai.request.model", "gen_ai.usage.input_tokens", "claude_grpc.caller",
        "http.response.status_code", "gen_ai.response.id"}) {
    EXPECT_EQ(attributes.count(absent), 0u) << absent;
  }
}

// The transfers the exporter started, answered by the test.
class RecordingTransport {
 public:
  RecordingTransport() {
    ON_CALL(mock, Start(_, _, _))
        .WillByDefault(
            [this](HttpRequest request, std::shared_ptr<TransferSink> sink, absl::Duration delay) {
              std::lock_guard<std::mutex> lock(mu_);
              EXPECT_EQ(delay, absl::ZeroDuration());
              started_.push_back({std::move(request), std::move(sink)});
              return started_.size();
            });
    EXPECT_CALL(mock, Start(_, _, _)).Times(::testing::AnyNumber());
  }
  size_t started() {
    std::lock_guard<std::mutex> lock(mu_);
    return started_.size();
  }
  // Waits for the n-th (1-based) transfer to start and returns its request.
  HttpRequest Request(size_t n) {
    EXPECT_TRUE(WaitUntil([&] { return started() >= n; }, kPatience))
        << "transfer " << n << " never started";
    std::lock_guard<std::mutex> lock(mu_);
    return n <= started_.size() ? started_[n - 1].first : HttpRequest{};
  }
  // Ends the n-th transfer as the transport would.
  void Answer(size_t n, int http_status, const absl::Status& status = absl::OkStatus()) {
    std::shared_ptr<TransferSink> sink;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ASSERT_LE(n, started_.size());
      sink = started_[n - 1].second;
    }
    if (http_status != 0) sink->OnHead(http_status, {});
    sink->OnDone(status);
  }

  ::testing::NiceMock<MockTransport> mock;

 private:
  std::mutex mu_;
  std::vector<std::pair<HttpRequest, std::shared_ptr<TransferSink>>> started_;
};

OtlpExporterOptions Options(const std::string& endpoint = "http://collector:4318") {
  OtlpExporterOptions options;
  options.endpoint = endpoint;
  options.max_batch_spans = 2;
  options.max_queued_spans = 4;
  options.flush_interval = absl::Hours(1);  // only full batches go out while the test runs
  options.shutdown_wait = absl::Milliseconds(200);
  return options;
}

// The spans of one posted body.
std::vector<Struct> SpansOf(const HttpRequest& request) {
  const Struct body = ParsedJson(request.body == nullptr ? "" : *request.body);
  const auto& resource_spans = JsonField(body, "resourceSpans").list_value().values();
  EXPECT_EQ(resource_spans.size(), 1);
  if (resource_spans.empty()) return {};
  const Struct& resource = JsonField(resource_spans[0].struct_value(), "resource").struct_value();
  std::map<std::string, std::string> service = Attributes(resource);
  EXPECT_EQ(service["service.name"], "claude-grpc");
  EXPECT_EQ(service["service.version"], BuildVersion());
  const auto& scope_spans =
      JsonField(resource_spans[0].struct_value(), "scopeSpans").list_value().values();
  EXPECT_EQ(scope_spans.size(), 1);
  std::vector<Struct> spans;
  if (scope_spans.empty()) return spans;
  for (const Value& span :
       JsonField(scope_spans[0].struct_value(), "spans").list_value().values()) {
    spans.push_back(span.struct_value());
  }
  return spans;
}

TEST(OtlpExporterTest, AFullBatchIsPostedToTheTracesPathWithoutCredentials) {
  RecordingTransport transport;
  OtlpExporterOptions options = Options("http://collector:4318/");
  options.export_timeout = absl::Seconds(7);
  OtlpExporter exporter(&transport.mock, options);
  CallRecord first = StreamRecord();
  CallRecord second = StreamRecord();
  second.span_id = "2222222222222222";
  exporter.OnCallEnd(first);
  exporter.OnCallEnd(second);

  const HttpRequest request = transport.Request(1);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://collector:4318/v1/traces");
  EXPECT_EQ(request.headers, (HttpHeaders{{"content-type", "application/json"}}));
  EXPECT_EQ(request.signer, nullptr) << "the collector never gets the upstream's credentials";
  EXPECT_EQ(request.timeout, absl::Seconds(7));
  const std::vector<Struct> spans = SpansOf(request);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(JsonField(spans[0], "spanId").string_value(), "00f067aa0ba902b7");
  EXPECT_EQ(JsonField(spans[1], "spanId").string_value(), "2222222222222222");

  transport.Answer(1, 200);
  EXPECT_EQ(exporter.exported_spans(), 2);
  EXPECT_EQ(exporter.failed_exports(), 0);
}

TEST(OtlpExporterTest, AFullTracesUrlIsKept) {
  RecordingTransport transport;
  OtlpExporter exporter(&transport.mock, Options("https://collector.example/otlp/v1/traces"));
  exporter.OnCallEnd(StreamRecord());
  exporter.OnCallEnd(StreamRecord());
  EXPECT_EQ(transport.Request(1).url, "https://collector.example/otlp/v1/traces");
  transport.Answer(1, 200);
}

TEST(OtlpExporterTest, OneExportIsInFlightAtATime) {
  RecordingTransport transport;
  OtlpExporter exporter(&transport.mock, Options());
  for (int i = 0; i < 4; ++i) exporter.OnCallEnd(StreamRecord());  // two full batches
  transport.Request(1);
  EXPECT_EQ(transport.started(), 1u) << "the second batch waits for the first's answer";
  transport.Answer(1, 200);
  EXPECT_EQ(SpansOf(transport.Request(2)).size(), 2u);
  transport.Answer(2, 204);
  EXPECT_EQ(exporter.exported_spans(), 4);
}

TEST(OtlpExporterTest, FailedExportsAreCountedAndTheirSpansNotExported) {
  RecordingTransport transport;
  OtlpExporter exporter(&transport.mock, Options());
  for (int i = 0; i < 2; ++i) exporter.OnCallEnd(StreamRecord());
  transport.Request(1);
  transport.Answer(1, 503);  // an answer, but not a success
  for (int i = 0; i < 2; ++i) exporter.OnCallEnd(StreamRecord());
  transport.Request(2);
  transport.Answer(2, 0, absl::UnavailableError("connection refused"));
  EXPECT_EQ(exporter.failed_exports(), 2);
  EXPECT_EQ(exporter.exported_spans(), 0);
}

TEST(OtlpExporterTest, SpansPastTheQueueBoundAreDroppedAndCounted) {
  RecordingTransport transport;
  OtlpExporter exporter(&transport.mock, Options());  // at most 4 queued
  for (int i = 0; i < 2; ++i) exporter.OnCallEnd(StreamRecord());
  transport.Request(1);  // in flight, never answered
  for (int i = 0; i < 7; ++i) exporter.OnCallEnd(StreamRecord());
  EXPECT_EQ(exporter.dropped_spans(), 3);
  exporter.Shutdown();  // the first batch is still in flight: nothing more is sent
  EXPECT_EQ(transport.started(), 1u);
}

TEST(OtlpExporterTest, ShutdownSendsWhatIsQueuedAndThenDropsSpans) {
  RecordingTransport transport;
  OtlpExporter exporter(&transport.mock, Options());
  exporter.OnCallEnd(StreamRecord());  // half a batch: waits for the (hour-long) flush
  EXPECT_EQ(transport.started(), 0u);
  exporter.Shutdown();
  ASSERT_EQ(transport.started(), 1u) << "sent by Shutdown itself";
  EXPECT_EQ(SpansOf(transport.Request(1)).size(), 1u);
  exporter.OnCallEnd(StreamRecord());
  EXPECT_EQ(exporter.dropped_spans(), 1) << "after Shutdown";
  transport.Answer(1, 200);  // an answer after Shutdown gave up waiting is still counted
  EXPECT_EQ(exporter.exported_spans(), 1);
}

}  // namespace
}  // namespace claude
