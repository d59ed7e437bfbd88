// claude-grpc-cli, the real binary, against a real server in the test process (ServerHarness)
// whose upstream is the fake Anthropic: its output modes, the request its flags shape, and its
// other subcommands. Its failures and exit statuses are in cli_failures_test.cc.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/cli/cli_support.h"
#include "common/codec/json_mapping.h"
#include "service/upstream/chat_completions_dialect.h"
#include "tests/client/cli_testing.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/scratch_file.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/subprocess.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

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
    ProcessResult r = RunCli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    ASSERT_EQ(OutputLines(r.out).size(), 1u) << r.out;
    EXPECT_TRUE(absl::EndsWith(r.out, "\n"));
    EXPECT_TRUE(JsonEqual(expected, OutputLines(r.out)[0]));
    EXPECT_THAT(h.upstream().requests().back().body, HasSubstr("\"stream\":true"));
  }
}

TEST_P(CliFixtureTest, EventsPrintsOneJsonLinePerEventThatRoundTrips) {
  ServerHarness h;
  const std::string body = DocumentedTranscript(GetParam());
  h.upstream().Enqueue(SseReply(body));
  ProcessResult r = RunCli({TargetFlag(h), "--events", "hi"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = OutputLines(r.out);
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
  ProcessResult plain = RunCli({TargetFlag(h), "--max_tokens=64000", "hi"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, text + "\n");
  EXPECT_EQ(plain.err, "");

  h.upstream().Enqueue(SseReply(body, 5));
  ProcessResult streamed = RunCli({TargetFlag(h), "--stream", "hi"});
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
    ProcessResult r = RunCli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(OutputLines(r.out).size(), 1u) << r.out;
    EXPECT_TRUE(JsonEqual(MessageToJsonString(expected), OutputLines(r.out)[0]));
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
  ProcessResult events = RunCli({TargetFlag(h), "--events", "hi"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_EQ(OutputLines(events.out), decoded);

  // --stream: text on stdout, thinking on stderr; and the echo of the fake's chat API.
  h.upstream().Enqueue(SseReply(body, 5));
  ProcessResult streamed = RunCli({TargetFlag(h), "--stream", "hi"});
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  EXPECT_EQ(streamed.out, "Checking both.\n");
  EXPECT_EQ(streamed.err, "Two cities, two calls.\n");
  ProcessResult echo = RunCli({TargetFlag(h), "--stream", "Hello there, Claude"});
  ASSERT_EQ(echo.exit_code, 0) << echo.err;
  EXPECT_EQ(echo.out, "Echo: Hello there, Claude\n");
}

TEST(CliTest, StreamPrintsTheEchoText) {
  ServerHarness h;
  ProcessResult r = RunCli({TargetFlag(h), "--stream", "Hello there, Claude"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Echo: Hello there, Claude\n");
  EXPECT_EQ(r.err, "");
}

TEST(CliTest, PromptFromStdinAndFromSeveralArguments) {
  ServerHarness h;
  ProcessResult r = RunCli({TargetFlag(h)}, "What is on stdin\n");
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
  const std::string image1 = WriteScratchFile("image.png", png);
  const std::string image2 = WriteScratchFile("image.gif", gif);
  const std::string tools = WriteScratchFile(
      "tools.json",
      R"([{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"location":{"type":"string"}}}},)"
      R"( {"type":"web_search_20250305","name":"web_search","max_uses":2}])");
  const std::string messages = WriteScratchFile(
      "messages.json",
      R"([{"role":"user","content":"First"},{"role":"assistant","content":[{"type":"text","text":"Second"}]}])");
  ProcessResult r =
      RunCli({TargetFlag(h), "--model=claude-opus-4-1", "--max_tokens=4096", "--system=Be brief",
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
  ProcessResult r = RunCli({TargetFlag(h), "count-tokens", "one two three"});
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
  ProcessResult r = RunCli({TargetFlag(h), "models"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = OutputLines(r.out);
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
  ProcessResult r;
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

}  // namespace
}  // namespace claude::testing
