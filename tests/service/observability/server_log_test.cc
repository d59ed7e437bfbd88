// The server's own log lines: one JSON object per line with severity, time and message first,
// hostile text kept inside its JSON strings, every line to the sink (a capture here), and gRPC's
// own lines routed into the same form.
#include "service/observability/server_log.h"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <grpc/grpc.h>
#include <grpc/support/log.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "tests/testing/captured_lines.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

using ::claude::testing::JsonField;
using ::claude::testing::ParsedLogLine;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::SizeIs;
using ::testing::StartsWith;

const absl::Time kTime = absl::FromUnixMillis(1'764'417'600'123);  // 2025-11-29T12:00:00.123Z

TEST(ServerLogTest, ALineIsSeverityTimeMessageThenTheFields) {
  const std::string line = FormatLogLine(Severity::kInfo, kTime, "listening on port 50051",
                                         {{"port", 50051}, {"address", "[::]"}});
  EXPECT_EQ(line,
            "{\"severity\":\"INFO\",\"time\":\"2025-11-29T12:00:00.123Z\",\"message\":\"listening "
            "on port "
            "50051\",\"port\":50051,\"address\":\"[::]\"}");
}

TEST(ServerLogTest, SeverityNames) {
  EXPECT_STREQ(SeverityName(Severity::kInfo), "INFO");
  EXPECT_STREQ(SeverityName(Severity::kWarning), "WARNING");
  EXPECT_STREQ(SeverityName(Severity::kError), "ERROR");
  EXPECT_THAT(FormatLogLine(Severity::kWarning, kTime, "m"),
              StartsWith("{\"severity\":\"WARNING\","));
}

TEST(ServerLogTest, HostileTextStaysInsideItsStrings) {
  const std::string hostile = "a\"b\\c\nd\re\tf\x01g</script>\x7f\xc3\xa9";
  const std::string line = FormatLogLine(Severity::kError, kTime, hostile,
                                         {{hostile, hostile}, {"int64", int64_t{-9'000'000'000}}});
  const google::protobuf::Struct parsed = ParsedLogLine(line);
  ASSERT_THAT(parsed.fields(), SizeIs(5)) << line;
  EXPECT_EQ(JsonField(parsed, "message").string_value(), hostile);
  EXPECT_EQ(JsonField(parsed, hostile).string_value(), hostile);
  EXPECT_EQ(JsonField(parsed, "int64").number_value(), -9e9);
  EXPECT_EQ(JsonField(parsed, "severity").string_value(), "ERROR");
}

TEST(ServerLogTest, LogEventWritesOneLineNowToTheSink) {
  auto captured = std::make_shared<testing::CapturedLines>();
  SetServerLogSinkForTesting(captured);
  LogEvent(Severity::kInfo, "drain started", {{"event", "drain"}});
  LogEvent(Severity::kError, "reload failed");
  SetServerLogSinkForTesting(nullptr);
  const std::vector<std::string> lines = captured->lines();
  ASSERT_THAT(lines, SizeIs(2));
  const google::protobuf::Struct first = ParsedLogLine(lines[0]);
  EXPECT_EQ(JsonField(first, "severity").string_value(), "INFO");
  EXPECT_EQ(JsonField(first, "message").string_value(), "drain started");
  EXPECT_EQ(JsonField(first, "event").string_value(), "drain");
  EXPECT_THAT(JsonField(first, "time").string_value(), MatchesRegex("....-..-..T..:..:..\\....Z"));
  EXPECT_EQ(JsonField(ParsedLogLine(lines[1]), "severity").string_value(), "ERROR");
}

TEST(ServerLogTest, GrpcsOwnLinesBecomeServerLogLines) {
  grpc_init();  // gRPC prints nothing before its verbosity is read (GRPC_VERBOSITY, ERROR by
                // default)
  auto captured = std::make_shared<testing::CapturedLines>();
  SetServerLogSinkForTesting(captured);
  RouteGrpcLogsToServerLog();
  gpr_log(GPR_ERROR, "handshake failed: %s", "bad certificate");
  gpr_set_log_function(nullptr);
  SetServerLogSinkForTesting(nullptr);
  grpc_shutdown();
  // gRPC may log lines of its own meanwhile (with a higher GRPC_VERBOSITY): find ours.
  std::vector<std::string> ours;
  for (const std::string& line : captured->lines()) {
    if (absl::StrContains(line, "handshake failed")) ours.push_back(line);
  }
  ASSERT_THAT(ours, SizeIs(1));
  const google::protobuf::Struct error = ParsedLogLine(ours[0]);
  EXPECT_EQ(JsonField(error, "severity").string_value(), "ERROR");
  EXPECT_EQ(JsonField(error, "message").string_value(), "handshake failed: bad certificate");
  EXPECT_EQ(JsonField(error, "logger").string_value(), "grpc");
  EXPECT_THAT(JsonField(error, "source").string_value(), HasSubstr("server_log_test.cc:"));
}

}  // namespace
}  // namespace claude
