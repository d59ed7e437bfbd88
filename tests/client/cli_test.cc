// claude-grpc-cli, the real binary, against a real server in the test process (ServerHarness)
// whose upstream is the fake Anthropic.
#include <algorithm>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/cli/cli_support.h"
#include "common/codec/json_mapping.h"
#include "service/sse/sse_parser.h"
#include "service/upstream/chat_completions_dialect.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_pki.h"
#include "tests/testing/unparsable_reply_server.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using CliResult = ProcessResult;

std::string WriteTemp(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/cli_test_" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

// Runs the binary with `args`, `stdin_text` on its stdin; stdout and stderr are captured.
CliResult RunCli(const std::vector<std::string>& args, const std::string& stdin_text = "") {
  return RunProcess(CLAUDE_GRPC_CLI_BINARY, args, stdin_text);
}

std::string TargetFlag(const ServerHarness& h) { return absl::StrCat("--target=127.0.0.1:", h.port()); }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// Usage and call errors: exactly one line on stderr, nothing on stdout.
void ExpectOneErrorLine(const CliResult& r) {
  EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_TRUE(absl::EndsWith(r.err, "\n")) << r.err;
  EXPECT_THAT(r.err, StartsWith("claude-grpc-cli: "));
  EXPECT_EQ(r.out, "");
}


// A loopback port on which nothing listens.
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// The request the server sent upstream, decoded.
v1::CreateMessageRequest LastUpstreamRequest(ServerHarness& h) {
  v1::CreateMessageRequest request;
  const std::vector<RecordedRequest> requests = h.upstream().requests();
  EXPECT_FALSE(requests.empty());
  if (requests.empty()) return request;
  absl::Status status = JsonToMessage(requests.back().body, &request);
  EXPECT_TRUE(status.ok()) << status;
  return request;
}

// ---------------------------------------------------------------------------------------------
// Output modes.

class CliFixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CliFixtureTest, JsonPrintsTheFixtureMessageWithAndWithoutStream) {
  ServerHarness h;
  const std::string body = DocumentedTranscript(GetParam());
  const std::string expected = ReadFixture(GetParam() + ".message.json");
  for (bool stream : {false, true}) {
    SCOPED_TRACE(stream ? "--stream --json" : "--json");
    h.upstream().Enqueue(SseReply(body, 7));
    // A large max_tokens makes the unary call stream from the upstream too, so the one SSE
    // fixture serves both.
    std::vector<std::string> args = {TargetFlag(h), "--json", "--max_tokens=64000", "hi"};
    if (stream) args.push_back("--stream");
    CliResult r = RunCli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    ASSERT_EQ(Lines(r.out).size(), 1u) << r.out;
    EXPECT_TRUE(absl::EndsWith(r.out, "\n"));
    EXPECT_TRUE(JsonEqual(expected, Lines(r.out)[0]));
    EXPECT_THAT(h.upstream().requests().back().body, HasSubstr("\"stream\":true"));
  }
}

TEST_P(CliFixtureTest, EventsPrintsOneJsonLinePerEventThatRoundTrips) {
  ServerHarness h;
  const std::string body = DocumentedTranscript(GetParam());
  h.upstream().Enqueue(SseReply(body));
  CliResult r = RunCli({TargetFlag(h), "--events", "hi"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  const std::vector<std::string> data = SseDataOf(body);
  ASSERT_EQ(lines.size(), data.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE(lines[i]);
    v1::MessageStreamEvent event;
    ASSERT_TRUE(JsonToMessage(lines[i], &event).ok());
    EXPECT_EQ(MessageToJsonString(event), lines[i]) << "a line is exactly the event's JSON";
    EXPECT_TRUE(JsonEqual(data[i], lines[i])) << "and the upstream's event";
  }
}

TEST_P(CliFixtureTest, DefaultAndStreamPrintTheText) {
  ServerHarness h;
  const std::string body = DocumentedTranscript(GetParam());
  v1::Message expected;
  ASSERT_TRUE(JsonToMessage(ReadFixture(GetParam() + ".message.json"), &expected).ok());
  std::string text, thinking;
  for (const v1::ContentBlock& block : expected.content()) {
    if (block.has_text()) text += block.text().text();
    if (block.has_thinking()) thinking += block.thinking().thinking();
  }
  h.upstream().Enqueue(SseReply(body));
  CliResult plain = RunCli({TargetFlag(h), "--max_tokens=64000", "hi"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, text + "\n");
  EXPECT_EQ(plain.err, "");

  h.upstream().Enqueue(SseReply(body, 5));
  CliResult streamed = RunCli({TargetFlag(h), "--stream", "hi"});
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  EXPECT_EQ(streamed.out, text + "\n");
  // Thinking goes to stderr, without colour codes when stderr is not a terminal.
  EXPECT_EQ(streamed.err, thinking.empty() ? "" : thinking + "\n");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CliFixtureTest, ::testing::Values("text_basic", "thinking", "tool_use"));

// The same CLI against a server whose upstream speaks the chat_completions dialect: --json,
// --stream and --events work unchanged, and print what a Messages upstream would have given.
TEST(CliTest, JsonStreamAndEventsWorkUnchangedOverTheChatCompletionsDialect) {
  HarnessOptions options;
  options.upstream_api = "chat_completions";
  ServerHarness h(options);
  const std::string body = ReadFixture("chat_completions/thinking_tools.sse");
  ChatCompletionsDialect dialect;
  v1::Message expected;
  ASSERT_TRUE(
      dialect.DecodeReply(ReadFixture("chat_completions/thinking_tools.response.json"), &expected).ok());
  for (bool stream : {false, true}) {
    SCOPED_TRACE(stream ? "--stream --json" : "--json");
    h.upstream().Enqueue(SseReply(body, 7));
    std::vector<std::string> args = {TargetFlag(h), "--json", "--max_tokens=64000", "hi"};
    if (stream) args.push_back("--stream");
    CliResult r = RunCli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(Lines(r.out).size(), 1u) << r.out;
    EXPECT_TRUE(JsonEqual(MessageToJsonString(expected), Lines(r.out)[0]));
  }

  // --events: one line per event, exactly the events the dialect decodes from the transcript.
  std::vector<std::string> decoded;
  std::unique_ptr<EventDecoder> decoder = dialect.NewEventDecoder();
  auto collect = [&](v1::MessageStreamEvent event) {
    decoded.push_back(MessageToJsonString(event));
    return absl::OkStatus();
  };
  ASSERT_TRUE(decoder->Feed(body, collect).ok());
  ASSERT_TRUE(decoder->Finish(collect).ok());
  h.upstream().Enqueue(SseReply(body, 3));
  CliResult events = RunCli({TargetFlag(h), "--events", "hi"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_EQ(Lines(events.out), decoded);

  // --stream: text on stdout, thinking on stderr; and the echo of the fake's chat API.
  h.upstream().Enqueue(SseReply(body, 5));
  CliResult streamed = RunCli({TargetFlag(h), "--stream", "hi"});
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  EXPECT_EQ(streamed.out, "Checking both.\n");
  EXPECT_EQ(streamed.err, "Two cities, two calls.\n");
  CliResult echo = RunCli({TargetFlag(h), "--stream", "Hello there, Claude"});
  ASSERT_EQ(echo.exit_code, 0) << echo.err;
  EXPECT_EQ(echo.out, "Echo: Hello there, Claude\n");
}

TEST(CliTest, StreamPrintsTheEchoText) {
  ServerHarness h;
  CliResult r = RunCli({TargetFlag(h), "--stream", "Hello there, Claude"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Echo: Hello there, Claude\n");
  EXPECT_EQ(r.err, "");
}

TEST(CliTest, PromptFromStdinAndFromSeveralArguments) {
  ServerHarness h;
  CliResult r = RunCli({TargetFlag(h)}, "What is on stdin\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Echo: What is on stdin\n");
  r = RunCli({TargetFlag(h), "two", "words"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Echo: two words\n");
  // After --, an argument that looks like a flag is the prompt.
  r = RunCli({TargetFlag(h), "--", "-5 apples"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Echo: -5 apples\n");
}

// ---------------------------------------------------------------------------------------------
// The request the flags build.

TEST(CliTest, FlagsShapeTheRequest) {
  ServerHarness h;
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string("\0\0\0\rIHDR", 8);
  const std::string gif("GIF89a\x01\x00\x01\x00", 10);
  const std::string image1 = WriteTemp("image.png", png);
  const std::string image2 = WriteTemp("image.gif", gif);
  const std::string tools = WriteTemp(
      "tools.json",
      R"([{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"location":{"type":"string"}}}},)"
      R"( {"type":"web_search_20250305","name":"web_search","max_uses":2}])");
  const std::string messages = WriteTemp(
      "messages.json",
      R"([{"role":"user","content":"First"},{"role":"assistant","content":[{"type":"text","text":"Second"}]}])");
  CliResult r = RunCli({TargetFlag(h), "--model=claude-opus-4-1", "--max_tokens=4096", "--system=Be brief",
                        "--temperature=0.25", "--thinking_budget=2048", "--tools", tools,
                        "--messages=" + messages, "--image=" + image1, "--image", image2, "Third"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Echo: Third\n");
  const v1::CreateMessageRequest sent = LastUpstreamRequest(h);
  EXPECT_EQ(sent.model(), "claude-opus-4-1");
  EXPECT_EQ(sent.max_tokens(), 4096);
  EXPECT_EQ(sent.system_text(), "Be brief");
  EXPECT_EQ(sent.temperature(), 0.25);
  EXPECT_EQ(sent.thinking().enabled().budget_tokens(), 2048);
  ASSERT_EQ(sent.tools_size(), 2);
  EXPECT_EQ(sent.tools(0).custom().name(), "get_weather");
  EXPECT_EQ(sent.tools(1).web_search().type(), "web_search_20250305");
  ASSERT_EQ(sent.messages_size(), 3);
  EXPECT_EQ(sent.messages(0).content_text(), "First");
  EXPECT_EQ(sent.messages(1).content_blocks().blocks(0).text().text(), "Second");
  const v1::MessageParam& last = sent.messages(2);
  EXPECT_EQ(last.role(), v1::ROLE_USER);
  ASSERT_EQ(last.content_blocks().blocks_size(), 3);
  EXPECT_EQ(last.content_blocks().blocks(0).image().source().base64().media_type(), "image/png");
  EXPECT_EQ(last.content_blocks().blocks(0).image().source().base64().data(), png);
  EXPECT_EQ(last.content_blocks().blocks(1).image().source().base64().media_type(), "image/gif");
  EXPECT_EQ(last.content_blocks().blocks(2).text().text(), "Third");

  // A conversation file alone: no prompt needed, stdin not read.
  r = RunCli({TargetFlag(h), "--messages=" + messages}, "ignored");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LastUpstreamRequest(h).messages_size(), 2);
}

TEST(CliTest, ImageMediaTypesFromMagicBytes) {
  EXPECT_EQ(*cli::ImageMediaType(std::string("\x89PNG\r\n\x1a\n....", 12)), "image/png");
  EXPECT_EQ(*cli::ImageMediaType("\xff\xd8\xff\xe0...."), "image/jpeg");
  EXPECT_EQ(*cli::ImageMediaType("GIF87a.."), "image/gif");
  EXPECT_EQ(*cli::ImageMediaType(std::string("RIFF\x10\x00\x00\x00WEBPVP8 ", 16)), "image/webp");
  EXPECT_FALSE(cli::ImageMediaType(std::string("RIFF\x10\x00\x00\x00WAVEfmt ", 16)).ok());
  EXPECT_FALSE(cli::ImageMediaType("%PDF-1.7").ok());
  EXPECT_FALSE(cli::ImageMediaType("").ok());
  EXPECT_TRUE(cli::IsValidUtf8("plain, caf\xc3\xa9, \xe2\x82\xac, \xf0\x9f\x98\x80"));
  EXPECT_FALSE(cli::IsValidUtf8("caf\xe9"));
  EXPECT_FALSE(cli::IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(cli::IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(cli::IsValidUtf8("\xe2\x82"));          // truncated
}

// ---------------------------------------------------------------------------------------------
// Subcommands.

TEST(CliTest, CountTokens) {
  ServerHarness h;
  CliResult r = RunCli({TargetFlag(h), "count-tokens", "one two three"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"input_tokens\":3}\n");
  EXPECT_EQ(h.upstream().requests().back().path, "/v1/messages/count_tokens");
  // The message flags apply.
  r = RunCli({"count-tokens", TargetFlag(h), "--system=four five", "one two three"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"input_tokens\":5}\n");
}

TEST(CliTest, Models) {
  ServerHarness h;
  CliResult r = RunCli({TargetFlag(h), "models"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("claude-fake-1\t"));
  EXPECT_GT(lines[0].size(), std::string("claude-fake-1\t").size()) << "with the display name";

  r = RunCli({TargetFlag(h), "models", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  v1::ListModelsResponse models;
  ASSERT_TRUE(JsonToMessage(r.out, &models).ok()) << r.out;
  ASSERT_EQ(models.data_size(), 1);
  EXPECT_EQ(models.data(0).id(), "claude-fake-1");
  EXPECT_TRUE(JsonEqual(MessageToJsonString(models), r.out));
}

TEST(CliTest, UsageShowsCountsAgainstLimits) {
  HarnessOptions options;
  options.configure = [](ServerConfig& config) { config.callers.limits.requests_per_minute = 10; };
  ServerHarness h(options);
  ASSERT_EQ(RunCli({TargetFlag(h), "hi"}).exit_code, 0);
  CliResult r;
  const absl::Time until = absl::Now() + absl::Seconds(5);
  do {  // the call's tokens are charged an instant after its status
    r = RunCli({TargetFlag(h), "usage"});
  } while (r.out.find("tokens this minute   0 ") != std::string::npos && absl::Now() < until);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("caller               (anonymous)\n"));
  EXPECT_THAT(r.out, HasSubstr("counted              by this replica only\n"));
  EXPECT_THAT(r.out, HasSubstr("requests this minute 1 of 10\n"));
  EXPECT_THAT(r.out, HasSubstr("tokens today "));
  EXPECT_THAT(r.out, HasSubstr("USD today            $0.000000 of unlimited\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("tokens this minute   0 ")));
  r = RunCli({TargetFlag(h), "usage", "--caller=bob"});
  EXPECT_EQ(r.exit_code, 4);  // NOT_FOUND: fix the request
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
  EXPECT_EQ(RunCli({TargetFlag(h), "usage", "extra"}).exit_code, 2);
}

// ---------------------------------------------------------------------------------------------
// Failures: exit 2 for usage errors, 1 for failed calls; one line on stderr either way.

TEST(CliTest, UsageErrorsExitTwoWithOneLine) {
  ServerHarness h;
  const std::string not_json = WriteTemp("not.json", "{\"role\":");
  const std::string not_image = WriteTemp("not_image.txt", "hello");
  const std::string bad_message = WriteTemp("bad_message.json", R"([{"role":"robot","content":"x"}])");
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
    CliResult r = RunCli(args, c.stdin_text);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    ExpectOneErrorLine(r);
    EXPECT_THAT(r.err, HasSubstr(c.mentions));
  }
  EXPECT_EQ(h.upstream().request_count(), 0);
}

TEST(CliTest, UnreachableTargetIsUnavailable) {
  CliResult r = RunCli({absl::StrCat("--target=127.0.0.1:", ClosedPort()), "hi"});
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
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
    EXPECT_THAT(r.err, StartsWith("claude-grpc-cli: INTERNAL: "));
    EXPECT_THAT(r.err, HasSubstr("does not parse as claude.v1."));
  }
  CliResult events = RunCli({"--target=" + server.target(), "--events", "hi"});
  EXPECT_EQ(std::count(events.out.begin(), events.out.end(), '\n'), UnparsableReplyServer::kEventsBeforeUnparsable);
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
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 3);  // retry later
    if (std::string(mode) == "--json") {  // the error object on stdout as well
      EXPECT_THAT(r.out, StartsWith(R"({"error":{"code":"RESOURCE_EXHAUSTED",)"));
      r.out.clear();
    }
    ExpectOneErrorLine(r);
    EXPECT_THAT(r.err, StartsWith("claude-grpc-cli: RESOURCE_EXHAUSTED: upstream HTTP 429 rate_limit_error: "));
    EXPECT_THAT(r.err, HasSubstr("Number of request tokens has exceeded your per-minute rate limit"));
  }
}

TEST(CliTest, AFailureMidStreamKeepsWhatWasPrintedAndSaysRetryLater) {
  ServerHarness h;
  h.upstream().Enqueue(SseReply(ReadFixture("error_after_200.sse")));
  CliResult r = RunCli({TargetFlag(h), "--events", "hi"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(Lines(r.out).size(), 3u) << "the events before the failure" << r.out;
  EXPECT_EQ(Lines(r.err).size(), 1u);
  EXPECT_THAT(r.err, StartsWith("claude-grpc-cli: UNAVAILABLE: "));
}

TEST(CliTest, DeadlineFlag) {
  ServerHarness h;
  h.upstream().Enqueue(HungReply());
  const absl::Time start = absl::Now();
  CliResult r = RunCli({TargetFlag(h), "--deadline=300ms", "hi"});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, StartsWith("claude-grpc-cli: DEADLINE_EXCEEDED: "));
  EXPECT_LT(absl::Now() - start, Scaled(absl::Seconds(5)));
}

TEST(CliTest, BetaFlagBecomesTheAnthropicBetaHeader) {
  ServerHarness h;
  CliResult r = RunCli({TargetFlag(h), "--beta=context-1m-2025-08-07,files-api-2025-04-14", "hi"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RecordedRequest sent = h.upstream().requests().back();
  const std::string* beta = FindHeader(sent.headers, "anthropic-beta");
  ASSERT_NE(beta, nullptr);
  EXPECT_EQ(*beta, "context-1m-2025-08-07,files-api-2025-04-14");
}

TEST(CliTest, HashTokenPrintsTheCallersFileDigest) {
  // printf %s abc | sha256sum
  CliResult r = RunCli({"hash-token"}, "abc\n");
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
  const std::vector<std::string> tls = {"--tls_ca=" + pki.Path("ca.pem"), "--tls_server_name=localhost",
                                        "--tls_cert=" + pki.Path("client.pem"),
                                        "--tls_key=" + pki.Path("client.key")};
  std::vector<std::string> args = {TargetFlag(h)};
  args.insert(args.end(), tls.begin(), tls.end());
  args.push_back("health");
  CliResult r = RunCli(args);
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
    CliResult r = RunCli({flag});
    EXPECT_EQ(r.exit_code, 0) << flag;
    EXPECT_THAT(r.out, HasSubstr("Exit status:"));
    EXPECT_THAT(r.out, HasSubstr("3  retry later"));
    EXPECT_THAT(r.out, HasSubstr("--target"));
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr(".cc")));
    EXPECT_EQ(r.err, "");
  }
  CliResult version = RunCli({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, StartsWith("claude-grpc-cli "));
}

// With --json, a failure is also a JSON object on stdout: code, message, exit status, details.
google::protobuf::Struct ErrorObject(const CliResult& r) {
  google::protobuf::Struct parsed;
  EXPECT_EQ(Lines(r.out).size(), 1u) << r.out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &parsed).ok()) << r.out;
  EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
  return parsed.fields().at("error").struct_value();
}

TEST(CliTest, ExitStatusesTellRetryFromFixFromAuthAndJsonSaysWhy) {
  {  // retry later: the upstream's rate limit, with its retry delay
    ServerHarness h;
    h.upstream().Enqueue(JsonReply(429, ReadFixture("error_429_anthropic.json"),
                                   {{"x-should-retry", "false"}, {"retry-after", "7"}}));
    CliResult r = RunCli({TargetFlag(h), "--json", "hi"});
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
    CliResult r = RunCli({TargetFlag(h), "--json", "--model=", "--max_tokens=1", "--temperature=0.5", "hi"});
    EXPECT_EQ(r.exit_code, 2) << "an empty --model is the command line's problem";
    r = RunCli({TargetFlag(h), "--json", "--beta=x", "--thinking_budget=5", "hi"});
    EXPECT_EQ(r.exit_code, 4) << r.err;
    const google::protobuf::Struct error = ErrorObject(r);
    EXPECT_EQ(error.fields().at("code").string_value(), "INVALID_ARGUMENT");
    const auto& violations =
        error.fields().at("details").struct_value().fields().at("field_violations").list_value().values();
    ASSERT_EQ(violations.size(), 1);
    EXPECT_EQ(violations[0].struct_value().fields().at("field").string_value(), "thinking.budget_tokens");
  }
  {  // auth: the server wants a caller token and got none
    const std::string callers = WriteTemp("callers_exit", "sha256:" + std::string(64, 'a') + " someone\n");
    HarnessOptions options;
    options.configure = [callers](ServerConfig& config) { config.callers.callers_file = callers; };
    ServerHarness h(options);
    CliResult r = RunCli({TargetFlag(h), "--json", "hi"});
    EXPECT_EQ(r.exit_code, 5);
    EXPECT_EQ(ErrorObject(r).fields().at("code").string_value(), "UNAUTHENTICATED");
  }
  // Without --json: nothing on stdout.
  CliResult r = RunCli({absl::StrCat("--target=127.0.0.1:", ClosedPort()), "hi"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
}

TEST(CliTest, ExitCodeForEveryStatusCode) {
  using cli::ExitCodeFor;
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kOk), 0);
  for (absl::StatusCode code : {absl::StatusCode::kUnavailable, absl::StatusCode::kResourceExhausted,
                                absl::StatusCode::kDeadlineExceeded, absl::StatusCode::kAborted}) {
    EXPECT_EQ(ExitCodeFor(code), cli::kExitRetryLater) << code;
  }
  for (absl::StatusCode code : {absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
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
