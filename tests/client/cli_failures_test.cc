// claude-grpc-cli, the real binary, against a real server in the test process (ServerHarness)
// whose upstream is the fake Anthropic: its failures (exit 2 for usage errors, 1 for failed calls,
// one line on stderr either way), its exit statuses and --json's error object.
#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/cli/cli_support.h"
#include "tests/client/cli_testing.h"
#include "tests/testing/closed_port.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/scratch_file.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_pki.h"
#include "tests/testing/unparsable_reply_server.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------------------------
// Failures: exit 2 for usage errors, 1 for failed calls; one line on stderr either way.

TEST(CliTest, UsageErrorsExitTwoWithOneLine) {
  ServerHarness h;
  const std::string not_json = WriteScratchFile("not.json", "{\"role\":");
  const std::string not_image = WriteScratchFile("not_image.txt", "hello");
  const std::string bad_message =
      WriteScratchFile("bad_message.json", R"([{"role":"robot","content":"x"}])");
  struct Case {
    std::vector<std::string> args;
    std::string stdin_text;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {{"--bogus_flag", "hi"}, "", "bogus_flag"},
      {{"--max_tokens=lots", "hi"}, "", "max_tokens"},
      {{"--max_tokens=0", "hi"}, "", "max_tokens"},
      {{"--temperature=1.5", "hi"}, "", "temperature"},
      {{"--deadline=soon", "hi"}, "", "deadline"},
      {{"--thinking_budget=-1", "hi"}, "", "thinking_budget"},
      {{"--model"}, "", "model"},
      {{}, "", "prompt"},
      {{}, " \n\t\n", "prompt"},
      {{"--stream"}, "", "prompt"},
      {{"count-tokens"}, "", "prompt"},
      {{"models", "extra"}, "", "models"},
      {{"--events", "--json", "hi"}, "", "--events"},
      {{"--messages=/no/such/file.json", "hi"}, "", "/no/such/file.json"},
      {{"--messages=" + not_json, "hi"}, "", "invalid JSON"},
      {{"--messages=" + bad_message, "hi"}, "", "[0].role"},
      {{"--tools=" + not_json, "hi"}, "", "--tools"},
      {{"--image=/no/such/image.png", "hi"}, "", "/no/such/image.png"},
      {{"--image=" + not_image, "hi"}, "", "not a PNG, JPEG, GIF or WEBP image"},
      {{"caf\xe9"}, "", "UTF-8"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.begin(), TargetFlag(h));
    SCOPED_TRACE(absl::StrJoin(args, " "));
    ProcessResult r = RunCli(args, c.stdin_text);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    ExpectOneErrorLine(r);
    EXPECT_THAT(r.err, HasSubstr(c.mentions));
  }
  EXPECT_EQ(h.upstream().request_count(), 0);
}

TEST(CliTest, UnreachableTargetIsUnavailable) {
  ProcessResult r = RunCli({absl::StrCat("--target=127.0.0.1:", ClosedPort()), "hi"});
  EXPECT_EQ(r.exit_code, 3);  // retry later
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, StartsWith("claude-grpc-cli: UNAVAILABLE: "));
}

// Issue 12, bug 3: a reply that does not parse (nested beyond protobuf's limit) made --events
// print 3 of 8 events and exit 0. Every mode now exits 1 with INTERNAL (streaming modes keep
// what they printed before).
TEST(CliTest, RepliesThatDoNotParseExitOneWithInternal) {
  UnparsableReplyServer server;
  for (const char* mode : {"", "--stream", "--events", "--json"}) {
    SCOPED_TRACE(mode);
    std::vector<std::string> args = {"--target=" + server.target(), "hi"};
    if (*mode != '\0') args.push_back(mode);
    ProcessResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(OutputLines(r.err).size(), 1u) << r.err;
    EXPECT_THAT(r.err, StartsWith("claude-grpc-cli: INTERNAL: "));
    EXPECT_THAT(r.err, HasSubstr("does not parse as claude.v1."));
  }
  ProcessResult events = RunCli({"--target=" + server.target(), "--events", "hi"});
  EXPECT_EQ(std::count(events.out.begin(), events.out.end(), '\n'),
            UnparsableReplyServer::kEventsBeforeUnparsable);
}

TEST(CliTest, UpstreamRateLimitIsResourceExhausted) {
  HarnessOptions options;
  options.max_retries = 0;
  ServerHarness h(options);
  for (const char* mode : {"", "--stream", "--events", "--json"}) {
    SCOPED_TRACE(mode);
    h.upstream().Enqueue(JsonReply(429, ReadFixture("error_429_anthropic.json")));
    std::vector<std::string> args = {TargetFlag(h), "hi"};
    if (*mode != '\0') args.push_back(mode);
    ProcessResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 3);            // retry later
    if (std::string(mode) == "--json") {  // the error object on stdout as well
      EXPECT_THAT(r.out, StartsWith(R"({"error":{"code":"RESOURCE_EXHAUSTED",)"));
      r.out.clear();
    }
    ExpectOneErrorLine(r);
    EXPECT_THAT(
        r.err,
        StartsWith("claude-grpc-cli: RESOURCE_EXHAUSTED: upstream HTTP 429 rate_limit_error: "));
    EXPECT_THAT(r.err,
                HasSubstr("Number of request tokens has exceeded your per-minute rate limit"));
  }
}

TEST(CliTest, AFailureMidStreamKeepsWhatWasPrintedAndSaysRetryLater) {
  ServerHarness h;
  h.upstream().Enqueue(SseReply(ReadFixture("error_after_200.sse")));
  ProcessResult r = RunCli({TargetFlag(h), "--events", "hi"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(OutputLines(r.out).size(), 3u) << "the events before the failure" << r.out;
  EXPECT_EQ(OutputLines(r.err).size(), 1u);
  EXPECT_THAT(r.err, StartsWith("claude-grpc-cli: UNAVAILABLE: "));
}

TEST(CliTest, DeadlineFlag) {
  ServerHarness h;
  h.upstream().Enqueue(HungReply());
  const absl::Time start = absl::Now();
  ProcessResult r = RunCli({TargetFlag(h), "--deadline=300ms", "hi"});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, StartsWith("claude-grpc-cli: DEADLINE_EXCEEDED: "));
  EXPECT_LT(absl::Now() - start, Scaled(absl::Seconds(5)));
}

TEST(CliTest, BetaFlagBecomesTheAnthropicBetaHeader) {
  ServerHarness h;
  ProcessResult r =
      RunCli({TargetFlag(h), "--beta=context-1m-2025-08-07,files-api-2025-04-14", "hi"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RecordedRequest sent = h.upstream().requests().back();
  const std::string* beta = FindHeader(sent.headers, "anthropic-beta");
  ASSERT_NE(beta, nullptr);
  EXPECT_EQ(*beta, "context-1m-2025-08-07,files-api-2025-04-14");
}

TEST(CliTest, HashTokenPrintsTheCallersFileDigest) {
  // printf %s abc | sha256sum
  ProcessResult r = RunCli({"hash-token"}, "abc\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");
  r = RunCli({"hash-token", "abc"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r);
}

TEST(CliTest, TlsFlagsReachAMutualTlsServer) {
  const TestPki& pki = TestPki::Get();
  HarnessOptions options;
  options.configure = [&pki](ServerConfig& config) {
    config.tls.cert_file = pki.Path("server.pem");
    config.tls.key_file = pki.Path("server.key");
    config.tls.client_ca_file = pki.Path("ca.pem");
  };
  ServerHarness h(options);
  const std::vector<std::string> tls = {
      "--tls_ca=" + pki.Path("ca.pem"), "--tls_server_name=localhost",
      "--tls_cert=" + pki.Path("client.pem"), "--tls_key=" + pki.Path("client.key")};
  std::vector<std::string> args = {TargetFlag(h)};
  args.insert(args.end(), tls.begin(), tls.end());
  args.push_back("health");
  ProcessResult r = RunCli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "SERVING\n");
  args.back() = "hi";
  r = RunCli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;

  r = RunCli({TargetFlag(h), "health"});  // plaintext
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, StartsWith("claude-grpc-cli: UNAVAILABLE: "));
  r = RunCli({TargetFlag(h), "--tls_ca=" + pki.Path("missing.pem"), "health"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("missing.pem"));
}

// ---------------------------------------------------------------------------------------------
// Exit statuses and --json errors.

TEST(CliTest, HelpExitsZeroWithTheExitStatusesAndNoBuildPaths) {
  for (const char* flag : {"-h", "--help"}) {
    ProcessResult r = RunCli({flag});
    EXPECT_EQ(r.exit_code, 0) << flag;
    EXPECT_THAT(r.out, HasSubstr("Exit status:"));
    EXPECT_THAT(r.out, HasSubstr("3  retry later"));
    EXPECT_THAT(r.out, HasSubstr("--target"));
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr(".cc")));
    EXPECT_EQ(r.err, "");
  }
  ProcessResult version = RunCli({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, StartsWith("claude-grpc-cli "));
}

// With --json, a failure is also a JSON object on stdout: code, message, exit status, details.
google::protobuf::Struct ErrorObject(const ProcessResult& r) {
  google::protobuf::Struct parsed;
  EXPECT_EQ(OutputLines(r.out).size(), 1u) << r.out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &parsed).ok()) << r.out;
  EXPECT_EQ(OutputLines(r.err).size(), 1u) << r.err;
  return parsed.fields().at("error").struct_value();
}

TEST(CliTest, ExitStatusesTellRetryFromFixFromAuthAndJsonSaysWhy) {
  {  // retry later: the upstream's rate limit, with its retry delay
    ServerHarness h;
    h.upstream().Enqueue(JsonReply(429, ReadFixture("error_429_anthropic.json"),
                                   {{"x-should-retry", "false"}, {"retry-after", "7"}}));
    ProcessResult r = RunCli({TargetFlag(h), "--json", "hi"});
    EXPECT_EQ(r.exit_code, 3);
    const google::protobuf::Struct error = ErrorObject(r);
    EXPECT_EQ(error.fields().at("code").string_value(), "RESOURCE_EXHAUSTED");
    EXPECT_EQ(error.fields().at("exit_code").number_value(), 3);
    const google::protobuf::Struct& details = error.fields().at("details").struct_value();
    EXPECT_EQ(details.fields().at("reason").string_value(), "rate_limit_error");
    EXPECT_EQ(details.fields().at("http_status").number_value(), 429);
    EXPECT_EQ(details.fields().at("retry_delay_seconds").number_value(), 7);
  }
  {  // fix the request: every problem, as field violations
    ServerHarness h;
    ProcessResult r =
        RunCli({TargetFlag(h), "--json", "--model=", "--max_tokens=1", "--temperature=0.5", "hi"});
    EXPECT_EQ(r.exit_code, 2) << "an empty --model is the command line's problem";
    r = RunCli({TargetFlag(h), "--json", "--beta=x", "--thinking_budget=5", "hi"});
    EXPECT_EQ(r.exit_code, 4) << r.err;
    const google::protobuf::Struct error = ErrorObject(r);
    EXPECT_EQ(error.fields().at("code").string_value(), "INVALID_ARGUMENT");
    const auto& violations = error.fields()
                                 .at("details")
                                 .struct_value()
                                 .fields()
                                 .at("field_violations")
                                 .list_value()
                                 .values();
    ASSERT_EQ(violations.size(), 1);
    EXPECT_EQ(violations[0].struct_value().fields().at("field").string_value(),
              "thinking.budget_tokens");
  }
  {  // auth: the server wants a caller token and got none
    const std::string callers =
        WriteScratchFile("callers_exit", "sha256:" + std::string(64, 'a') + " someone\n");
    HarnessOptions options;
    options.configure = [callers](ServerConfig& config) { config.callers.callers_file = callers; };
    ServerHarness h(options);
    ProcessResult r = RunCli({TargetFlag(h), "--json", "hi"});
    EXPECT_EQ(r.exit_code, 5);
    EXPECT_EQ(ErrorObject(r).fields().at("code").string_value(), "UNAUTHENTICATED");
  }
  // Without --json: nothing on stdout.
  ProcessResult r = RunCli({absl::StrCat("--target=127.0.0.1:", ClosedPort()), "hi"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
}

TEST(CliTest, ExitCodeForEveryStatusCode) {
  using cli::ExitCodeFor;
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kOk), 0);
  for (absl::StatusCode code :
       {absl::StatusCode::kUnavailable, absl::StatusCode::kResourceExhausted,
        absl::StatusCode::kDeadlineExceeded, absl::StatusCode::kAborted}) {
    EXPECT_EQ(ExitCodeFor(code), cli::kExitRetryLater) << code;
  }
  for (absl::StatusCode code :
       {absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
        absl::StatusCode::kFailedPrecondition, absl::StatusCode::kOutOfRange,
        absl::StatusCode::kAlreadyExists, absl::StatusCode::kUnimplemented}) {
    EXPECT_EQ(ExitCodeFor(code), cli::kExitFixRequest) << code;
  }
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kUnauthenticated), cli::kExitAuth);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kPermissionDenied), cli::kExitAuth);
  for (absl::StatusCode code : {absl::StatusCode::kInternal, absl::StatusCode::kUnknown,
                                absl::StatusCode::kCancelled, absl::StatusCode::kDataLoss}) {
    EXPECT_EQ(ExitCodeFor(code), cli::kExitFailed) << code;
  }
}

}  // namespace
}  // namespace claude::testing
