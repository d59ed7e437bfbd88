// fake-anthropic under load and as a program: generated bodies that follow a slow reader,
// many concurrent requests, addresses it cannot listen on, and the fake-anthropic binary.
#include "tests/fake_upstream/fake_anthropic.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fake_upstream/fake_anthropic_client.h"
#include "tests/testing/resident_memory.h"

extern char** environ;

namespace claude::testing::fake_client {
namespace {

// A 20 MB generated body reaches a slow client whole, while the fake holds only a piece or two:
// the generator is asked for more only as the socket drains.
TEST_F(FakeAnthropicTest, GeneratorFollowsTheReaderWithoutBuffering) {
  static constexpr size_t kTotal = 20 << 20;
  static constexpr size_t kPiece = 64 << 10;
  auto produced = std::make_shared<std::atomic<size_t>>(0);
  FakeReply big;
  big.headers = {{"content-type", "application/octet-stream"}};
  big.generator = [produced, sent = size_t{0}](std::string* piece) mutable {
    if (sent >= kTotal) return false;
    const size_t n = std::min(kPiece, kTotal - sent);
    piece->assign(n, static_cast<char>('a' + (sent / kPiece) % 26));
    sent += n;
    produced->store(sent);
    return true;
  };
  fake_->Enqueue(std::move(big));

  ResidentGrowth resident;  // the fake runs in this process
  size_t received = 0;
  size_t mismatches = 0;
  size_t max_ahead_while_slow = 0;
  const absl::Time start = absl::Now();
  const absl::Duration slow_phase = absl::Seconds(1);
  Request request = Post("/v1/messages", kConversation);
  request.keep_body = false;
  request.receive_buffer = 64 << 10;
  request.buffer_size = 16 << 10;
  request.timeout_ms = 60000;
  int calls = 0;
  request.on_data = [&](absl::string_view data) {
    for (size_t i = 0; i < data.size(); ++i) {
      if (data[i] != static_cast<char>('a' + ((received + i) / kPiece) % 26)) ++mismatches;
    }
    received += data.size();
    if (++calls % 64 == 0) resident.Sample();
    if (absl::Now() - start < slow_phase) {
      max_ahead_while_slow = std::max(max_ahead_while_slow, produced->load() - received);
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  };
  Response r = Fetch(*fake_, request);
  ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(received, kTotal);
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(HeaderOr(r.headers, "transfer-encoding"), "chunked");
  // What the fake produced ahead of the reader fits in the kernel's socket buffers (at most a
  // few MB on loopback) plus a piece; without backpressure it would be the whole body.
  EXPECT_LT(max_ahead_while_slow, 10u << 20);
  EXPECT_GT(max_ahead_while_slow, 0u);
  resident.Sample();
  resident.ExpectBelow(12 << 10, "a 20 MB generated body to a slow reader");
  EXPECT_EQ(fake_->active_replies(), 0);
}

TEST_F(FakeAnthropicTest, GeneratedStreamFoldsIntoOneTextOfTheAskedSize) {
  // Served as a default reply, every request gets its own copy of the generator.
  fake_->SetDefaultReply(GeneratedSseReply(3, 10));
  for (int i = 0; i < 2; ++i) {
    Response r = Fetch(*fake_, Post("/v1/messages", kConversation));
    ASSERT_EQ(r.code, CURLE_OK);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(HeaderOr(r.headers, "content-type"), "text/event-stream");
    Folded folded = FoldSse(r.body);
    EXPECT_THAT(folded.events,
                ElementsAre("message_start", "content_block_start", "content_block_delta",
                            "content_block_delta", "content_block_delta", "content_block_stop",
                            "message_delta", "message_stop"));
    ASSERT_TRUE(folded.message.ok()) << folded.message.status();
    ASSERT_EQ(folded.message->content_size(), 1);
    EXPECT_EQ(folded.message->content(0).text().text(), "abcde abcdabcde abcdabcde abcd");
    EXPECT_EQ(folded.message->usage().output_tokens(), 3);
  }
  fake_->ClearDefaultReply();
}

TEST_F(FakeAnthropicTest, GeneratedStreamDripsItsEvents) {
  fake_->Enqueue(GeneratedSseReply(2, 4, absl::Milliseconds(50)));
  Response r = Fetch(*fake_, Post("/v1/messages", kConversation));
  ASSERT_EQ(r.code, CURLE_OK);
  Folded folded = FoldSse(r.body);
  EXPECT_EQ(folded.events.size(), 7u);
  EXPECT_TRUE(folded.message.ok()) << folded.message.status();
}

TEST_F(FakeAnthropicTest, ManyConcurrentRequestsAreAllAnswered) {
  constexpr int kRequests = 200;
  CURLM* multi = curl_multi_init();
  std::vector<std::unique_ptr<Transfer>> transfers;
  for (int i = 0; i < kRequests; ++i) {
    const std::string body = absl::StrCat(
        R"({"model":"m","max_tokens":8,"messages":[{"role":"user","content":"request )", i,
        R"("}])", i % 2 == 0 ? R"(,"stream":true})" : "}");
    transfers.push_back(std::make_unique<Transfer>(fake_->base_url(), Post("/v1/messages", body)));
    curl_multi_add_handle(multi, transfers.back()->curl);
  }
  int running = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      for (auto& t : transfers) {
        if (t->curl == msg->easy_handle) t->Done(msg->data.result);
      }
    }
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  } while (running > 0 && absl::Now() < deadline);
  EXPECT_EQ(running, 0);

  int answered = 0;
  for (int i = 0; i < kRequests; ++i) {
    const Response& r = transfers[i]->response;
    const std::string expected = absl::StrCat("Echo: request ", i);
    if (i % 2 == 0) {
      Folded folded = FoldSse(r.body);
      ASSERT_TRUE(folded.message.ok()) << i << ": " << folded.message.status();
      EXPECT_EQ(folded.message->content(0).text().text(), expected);
    } else {
      claude::v1::Message message;
      ASSERT_TRUE(claude::JsonToMessage(r.body, &message).ok()) << i << ": " << r.body;
      EXPECT_EQ(message.content(0).text().text(), expected);
    }
    if (r.code == CURLE_OK && r.status == 200) ++answered;
  }
  EXPECT_EQ(answered, kRequests);
  EXPECT_EQ(fake_->request_count(), kRequests);
  for (auto& t : transfers) curl_multi_remove_handle(multi, t->curl);
  transfers.clear();
  curl_multi_cleanup(multi);
}

TEST(FakeAnthropicStartTest, ReportsAddressesItCannotListenOn) {
  absl::StatusOr<std::unique_ptr<FakeAnthropic>> fake = FakeAnthropic::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  EXPECT_GT((*fake)->port(), 0);
  EXPECT_EQ((*fake)->base_url(), absl::StrCat("http://127.0.0.1:", (*fake)->port()));
  EXPECT_FALSE(FakeAnthropic::Start("127.0.0.1", (*fake)->port()).ok());  // in use
  EXPECT_FALSE(FakeAnthropic::Start("127.0.0.1", 70000).ok());
  EXPECT_FALSE(FakeAnthropic::Start("not an address!", 0).ok());
}

// ---- The binary -----------------------------------------------------------------------------

// Runs fake-anthropic with `args`; reads its "listening on URL" line.
class Process {
 public:
  explicit Process(std::vector<std::string> args) {
    args.insert(args.begin(), FAKE_ANTHROPIC_BINARY);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    if (posix_spawn(&pid_, FAKE_ANTHROPIC_BINARY, &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    char c;
    while (read(fds[0], &c, 1) == 1 && c != '\n') first_line_ += c;
    close(fds[0]);
  }
  ~Process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  const std::string& first_line() const { return first_line_; }

  // Sends `signal` and returns the exit status, or -1 if it did not exit normally.
  int Stop(int signal) {
    if (pid_ <= 0) return -1;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  std::string first_line_;
};

TEST(FakeAnthropicBinaryTest, EchoesThenExitsCleanlyOnSigterm) {
  Process process({"--listen=127.0.0.1:0"});
  constexpr absl::string_view kPrefix = "fake-anthropic listening on ";
  ASSERT_TRUE(absl::StartsWith(process.first_line(), kPrefix)) << process.first_line();
  const std::string url(absl::string_view(process.first_line()).substr(kPrefix.size()));
  EXPECT_TRUE(absl::StartsWith(url, "http://127.0.0.1:")) << url;
  Response r = Fetch(url, Post("/v1/messages", kConversation));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_THAT(r.body, HasSubstr("Echo: hello there world"));
  EXPECT_EQ(process.Stop(SIGTERM), 0);
}

TEST(FakeAnthropicBinaryTest, ReplaysATranscriptThenExitsCleanlyOnSigint) {
  Process process({"--listen=127.0.0.1:0",
                   absl::StrCat("--replay=", CLAUDE_FIXTURES_DIR, "/text_basic.sse"),
                   "--chunk_size=64", "--chunk_delay_ms=1"});
  constexpr absl::string_view kPrefix = "fake-anthropic listening on ";
  ASSERT_TRUE(absl::StartsWith(process.first_line(), kPrefix)) << process.first_line();
  const std::string url(absl::string_view(process.first_line()).substr(kPrefix.size()));
  for (int i = 0; i < 2; ++i) {
    Response r = Fetch(url, Post("/v1/messages", kConversation));
    ASSERT_EQ(r.code, CURLE_OK);
    EXPECT_EQ(HeaderOr(r.headers, "content-type"), "text/event-stream");
    EXPECT_EQ(r.body, ReadFixture("text_basic.sse"));
  }
  EXPECT_EQ(process.Stop(SIGINT), 0);
}

}  // namespace
}  // namespace claude::testing::fake_client
