// Protobuf's own log messages, routed to the server's sink as JSON lines and remembered per
// thread (so the code whose parse failed can say why), and protobuf's handler put back when the
// route goes.
#include "service/observability/protobuf_log.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include "absl/time/time.h"
#include "tests/testing/captured_lines.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

using ::claude::testing::JsonField;
using ::claude::testing::ParsedLogLine;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// google.protobuf.Value whose string_value (field 3) holds bytes that are not UTF-8: protobuf
// refuses it and logs why.
bool ParseNonUtf8String() {
  google::protobuf::Value value;
  return value.ParseFromString(std::string("\x1a\x02\xff\xfe", 4));
}

TEST(ProtobufLogTest, ARefusedStringIsLoggedAsAJsonLineAndRememberedByItsThread) {
  auto captured = std::make_shared<testing::CapturedLines>();
  {
    ProtobufLogRoute route(captured);
    (void)TakeProtobufLogOfThisThread();
    EXPECT_FALSE(ParseNonUtf8String());
    const std::string why = TakeProtobufLogOfThisThread();
    EXPECT_THAT(why, HasSubstr("google.protobuf.Value.string_value"));
    EXPECT_THAT(why, HasSubstr("UTF-8"));
    EXPECT_EQ(TakeProtobufLogOfThisThread(), "") << "taken once";
  }
  const std::vector<std::string> lines = captured->lines();
  ASSERT_THAT(lines, SizeIs(1));
  const google::protobuf::Struct line = ParsedLogLine(lines[0]);
  EXPECT_EQ(JsonField(line, "severity").string_value(), "ERROR");
  EXPECT_EQ(JsonField(line, "log").string_value(), "protobuf");
  EXPECT_EQ(JsonField(line, "level").string_value(), "ERROR");
  EXPECT_THAT(JsonField(line, "message").string_value(),
              HasSubstr("google.protobuf.Value.string_value"));
}

TEST(ProtobufLogTest, AnotherThreadsMessageIsNotThisThreads) {
  auto captured = std::make_shared<testing::CapturedLines>();
  ProtobufLogRoute route(captured);
  (void)TakeProtobufLogOfThisThread();
  std::string other_thread_saw;
  std::thread other([&] {
    ParseNonUtf8String();
    other_thread_saw = TakeProtobufLogOfThisThread();
  });
  other.join();
  EXPECT_THAT(other_thread_saw, HasSubstr("UTF-8"));
  EXPECT_EQ(TakeProtobufLogOfThisThread(), "");
  EXPECT_THAT(captured->lines(), SizeIs(1)) << "every thread's messages reach the sink";
}

TEST(ProtobufLogTest, TheRouteInstalledLastWinsAndLeavingRestoresProtobufsHandler) {
  auto first = std::make_shared<testing::CapturedLines>();
  auto second = std::make_shared<testing::CapturedLines>();
  {
    ProtobufLogRoute outer(first);
    {
      ProtobufLogRoute inner(second);
      ParseNonUtf8String();
    }
    // The inner route put protobuf's own handler back: the outer one no longer gets lines.
    ParseNonUtf8String();
  }
  EXPECT_THAT(first->lines(), IsEmpty());
  EXPECT_THAT(second->lines(), SizeIs(1));
}

TEST(ProtobufLogTest, TheLineFormat) {
  const absl::Time time = absl::FromUnixMillis(1'764'417'600'123);
  EXPECT_EQ(FormatProtobufLogLine(time, google::protobuf::LOGLEVEL_WARNING, "a \"quoted\"\nfield"),
            "{\"severity\":\"WARNING\",\"time\":\"2025-11-29T12:00:00.123Z\",\"log\":\"protobuf\","
            "\"level\":"
            "\"WARNING\",\"message\":\"a \\\"quoted\\\"\\nfield\"}");
  EXPECT_THAT(FormatProtobufLogLine(time, google::protobuf::LOGLEVEL_FATAL, "m"),
              HasSubstr("{\"severity\":\"ERROR\",\"time\""))
      << "FATAL is ERROR among the server's severities";
  EXPECT_THAT(FormatProtobufLogLine(time, google::protobuf::LOGLEVEL_FATAL, "m"),
              HasSubstr("\"level\":\"FATAL\""));
}

}  // namespace
}  // namespace claude
