// claude-grpc-server, the real binary: --help and --version, refused flags, a port already
// taken, JSON log lines from start to drain, and readiness without a key on the plaintext
// health port.
#include <signal.h>

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/claude_client.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/subprocess.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kServer[] = CLAUDE_GRPC_SERVER_BINARY;

// Every line (an empty one too) is one JSON object with severity and time; returns them parsed.
std::vector<google::protobuf::Struct> JsonLines(const std::string& text) {
  std::vector<google::protobuf::Struct> parsed;
  for (const std::string& line : OutputLines(text)) {
    google::protobuf::Struct object;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &object).ok()) << "not JSON: " << line;
    EXPECT_TRUE(object.fields().contains("severity")) << line;
    EXPECT_TRUE(object.fields().contains("time")) << line;
    parsed.push_back(std::move(object));
  }
  return parsed;
}

// The "port" member of the "started" line.
int StartedPort(const std::string& out, const char* member = "port") {
  for (const google::protobuf::Struct& line : JsonLines(out)) {
    auto event = line.fields().find("event");
    if (event != line.fields().end() && event->second.string_value() == "started") {
      return static_cast<int>(line.fields().at(member).number_value());
    }
  }
  return 0;
}

TEST(ServerBinaryTest, HelpExitsZeroAndListsTheFlagsWithoutBuildPaths) {
  for (const char* flag : {"--help", "-h", "--helpfull"}) {
    ProcessResult r = RunProcess(kServer, {flag});
    EXPECT_EQ(r.exit_code, 0) << flag;
    for (const char* listed : {"--api_key_file", "--connect_timeout", "--health_listen", "--listen", "--max_retries",
                               "--upstream=", "--upstream_auth", "--version"}) {
      EXPECT_THAT(r.out, HasSubstr(listed)) << flag;
    }
    EXPECT_THAT(r.out, Not(HasSubstr(".cc"))) << flag;
    EXPECT_THAT(r.out, Not(HasSubstr(PROJECT_SOURCE_DIR))) << flag;
    EXPECT_EQ(r.err, "") << flag;
  }
}

TEST(ServerBinaryTest, VersionPrintsTheVersionAndTheRevision) {
  ProcessResult r = RunProcess(kServer, {"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, ::testing::MatchesRegex("claude-grpc-server [0-9]+\\.[0-9]+\\.[0-9]+ \\(revision [0-9a-f]+\\)\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("Debug build")));
}

TEST(ServerBinaryTest, AnUpstreamThatIsNotAnHttpUrlIsAUsageError) {
  ProcessResult r = RunProcess(kServer, {"--listen=127.0.0.1:0", "--upstream=ftp://example.com"});
  EXPECT_EQ(r.exit_code, 2);
  ASSERT_EQ(JsonLines(r.err).size(), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--upstream must be an http:// or https:// URL"));
  EXPECT_THAT(r.err, HasSubstr(R"("severity":"ERROR")"));
}

TEST(ServerBinaryTest, ASecondServerOnAPortInUseFailsAtStartAndEveryLineIsJson) {
  const std::vector<std::string> common = {"--upstream=http://127.0.0.1:9", "--metrics_listen=127.0.0.1:0",
                                           "--health_listen=127.0.0.1:0"};
  std::vector<std::string> args = {"--listen=127.0.0.1:0"};
  args.insert(args.end(), common.begin(), common.end());
  Subprocess first(kServer, args);
  ASSERT_TRUE(first.WaitForOutput("listening on port ", absl::Seconds(20))) << first.err();
  const int port = StartedPort(first.out());
  ASSERT_NE(port, 0) << first.out();
  EXPECT_NE(StartedPort(first.out(), "health_port"), 0);
  EXPECT_NE(StartedPort(first.out(), "metrics_port"), 0);

  args = {absl::StrCat("--listen=127.0.0.1:", port)};
  args.insert(args.end(), common.begin(), common.end());
  ProcessResult second = RunProcess(kServer, args);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr(absl::StrCat("cannot listen on 127.0.0.1:", port, ": the port is in use")));
  JsonLines(second.err);  // gRPC's own complaint included
  EXPECT_EQ(second.out, "");

  ProcessResult stopped = first.Stop(SIGTERM, absl::Seconds(20));
  EXPECT_EQ(stopped.exit_code, 0);
  const std::vector<google::protobuf::Struct> lines = JsonLines(stopped.out);
  std::vector<std::string> events;
  for (const auto& line : lines) {
    if (line.fields().contains("event")) events.push_back(line.fields().at("event").string_value());
  }
  EXPECT_THAT(events, ::testing::IsSupersetOf({"started", "drain_started", "drained"}));
  JsonLines(stopped.err);
}

TEST(ServerBinaryTest, WithoutAKeyHealthIsNotServingOnThePlaintextHealthPort) {
  Subprocess server(kServer, {"--listen=127.0.0.1:0", "--health_listen=127.0.0.1:0", "--upstream=http://127.0.0.1:9",
                              "--api_key_file=/nonexistent/claude-grpc-key"});
  ASSERT_TRUE(server.WaitForOutput("listening on port ", absl::Seconds(20))) << server.err();
  const int health_port = StartedPort(server.out(), "health_port");
  ASSERT_NE(health_port, 0);
  Client probe(absl::StrCat("127.0.0.1:", health_port));
  EXPECT_EQ(probe.CheckHealth().value_or("error"), "NOT_SERVING");
  ASSERT_TRUE(server.WaitForOutput("no_api_key", absl::Seconds(5), /*on_stderr=*/true));
  EXPECT_THAT(server.err(), HasSubstr("--api_key_file /nonexistent/claude-grpc-key is missing or empty"));
  JsonLines(server.err());
}

}  // namespace
}  // namespace claude::testing
