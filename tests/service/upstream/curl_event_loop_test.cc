// The upstream event loop on its own, against fake-anthropic on loopback.
#include "service/upstream/curl_event_loop.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/fake_upstream/fake_anthropic.h"
#include "tests/testing/mock_transport.h"

namespace claude {
namespace {

// Records what a transfer's sink sees, and on which threads.
class RecordingSink : public TransferSink {
 public:
  void OnHead(int http_status, const HttpHeaders&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++heads_;
    status_ = http_status;
    threads_.push_back(std::this_thread::get_id());
  }
  BodyAction OnBody(absl::string_view chunk) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (heads_ == 0) body_before_head_ = true;
    body_.append(chunk.data(), chunk.size());
    threads_.push_back(std::this_thread::get_id());
    return BodyAction::kContinue;
  }
  void OnDone(const absl::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++dones_;
    done_ = status;
    threads_.push_back(std::this_thread::get_id());
    cv_.notify_all();
  }

  // Waits for OnDone; false after `timeout`.
  bool Wait(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoSeconds(timeout), [this] { return dones_ > 0; });
  }

  absl::Status done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  int heads() {
    std::lock_guard<std::mutex> lock(mu_);
    return heads_;
  }

  // Empty when the transfer was seen as expected; else what went wrong.
  std::string Check(const std::string& expected_text, std::thread::id starter) {
    std::lock_guard<std::mutex> lock(mu_);
    if (heads_ != 1 || status_ != 200) return absl::StrCat("heads ", heads_, ", status ", status_);
    if (body_before_head_) return "body before head";
    if (dones_ != 1 || !done_.ok()) return absl::StrCat("dones ", dones_, ", ", done_.ToString());
    if (body_.find(expected_text) == std::string::npos) return "body without " + expected_text + ": " + body_;
    for (std::thread::id t : threads_) {
      if (t == starter) return "a sink callback ran on the thread that started the transfer";
    }
    return "";
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int heads_ = 0;
  int status_ = 0;
  bool body_before_head_ = false;
  std::string body_;
  int dones_ = 0;
  absl::Status done_;
  std::vector<std::thread::id> threads_;
};

// Each test has fake-anthropic on loopback and an event loop of its own.
class CurlEventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::FakeAnthropic>> fake = testing::FakeAnthropic::Start();
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
  }

  // A Messages API request whose reply (fake-anthropic echoes) holds "Echo: <text>".
  HttpRequest EchoRequest(const std::string& text) const {
    HttpRequest request;
    request.url = fake_->base_url() + "/v1/messages";
    request.body = std::make_shared<const std::string>(absl::StrCat(
        R"({"model":"claude-test","max_tokens":16,"messages":[{"role":"user","content":")", text,
        R"("}]})"));
    request.timeout = absl::Seconds(30);
    return request;
  }

  // An echo request whose signer is asked once and answers `signature`.
  HttpRequest SignedEchoRequest(const std::string& text, absl::StatusOr<HttpHeaders> signature) {
    HttpRequest request = EchoRequest(text);
    auto signer = std::make_shared<testing::MockRequestSigner>();
    EXPECT_CALL(*signer, Sign(::testing::Field(&HttpRequest::url, request.url), ::testing::_))
        .WillOnce(::testing::Return(std::move(signature)));
    request.signer = std::move(signer);
    return request;
  }

  // Starts `request` and waits for its sink's OnDone (a test failure when it does not come).
  std::shared_ptr<RecordingSink> RunToDone(HttpRequest request) {
    auto sink = std::make_shared<RecordingSink>();
    loop_.Start(std::move(request), sink, absl::ZeroDuration());
    EXPECT_TRUE(sink->Wait(absl::Seconds(30))) << "no OnDone within 30 s";
    return sink;
  }

  std::unique_ptr<testing::FakeAnthropic> fake_;
  CurlEventLoop loop_{CurlEventLoopOptions{}};
};

// Many threads start transfers at once, while others finish: every response arrives whole,
// exactly once, and every sink callback runs on the loop thread, never on a starter.
TEST_F(CurlEventLoopTest, ConcurrentStartersGetEveryResponseOnTheLoopThread) {
  constexpr int kStarters = 6;  // more than this machine's cores
  constexpr int kPerStarter = 300;
  std::vector<std::string> failures(kStarters);
  std::vector<std::thread> starters;
  for (int s = 0; s < kStarters; ++s) {
    starters.emplace_back([&, s] {
      for (int i = 0; i < kPerStarter; ++i) {
        const std::string text = absl::StrCat("starter", s, "call", i);
        auto sink = std::make_shared<RecordingSink>();
        loop_.Start(EchoRequest(text), sink, absl::ZeroDuration());
        if (!sink->Wait(absl::Seconds(30))) {
          failures[s] = "no OnDone within 30 s for " + text;
          return;
        }
        if (std::string error = sink->Check("Echo: " + text, std::this_thread::get_id()); !error.empty()) {
          failures[s] = text + ": " + error;
          return;
        }
      }
    });
  }
  for (std::thread& t : starters) t.join();
  for (int s = 0; s < kStarters; ++s) EXPECT_EQ(failures[s], "") << "starter " << s;
  EXPECT_EQ(fake_->request_count(), kStarters * kPerStarter);
  EXPECT_EQ(loop_.live_transfers(), 0);
}

// The request's signer runs just before sending, and its headers go out with the request.
TEST_F(CurlEventLoopTest, SignerHeadersAreSent) {
  std::shared_ptr<RecordingSink> sink =
      RunToDone(SignedEchoRequest("signed", HttpHeaders{{"x-api-key", "sk-ant-signed"}}));
  EXPECT_EQ(sink->Check("Echo: signed", std::this_thread::get_id()), "");
  const std::vector<testing::RecordedRequest> requests =
      fake_->requests();  // a copy: keep it alive
  ASSERT_EQ(requests.size(), 1u);
  const std::string* key = FindHeader(requests[0].headers, "x-api-key");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(*key, "sk-ant-signed");
}

// A signer that fails ends the transfer with its status, and nothing is sent.
TEST_F(CurlEventLoopTest, FailingSignerEndsTheTransferUnsent) {
  std::shared_ptr<RecordingSink> sink =
      RunToDone(SignedEchoRequest("unsigned", absl::UnavailableError("no key readable")));
  EXPECT_EQ(sink->done(), absl::UnavailableError("no key readable"));
  EXPECT_EQ(sink->heads(), 0);
  EXPECT_EQ(fake_->request_count(), 0);
  EXPECT_EQ(loop_.live_transfers(), 0);
}

// A header line that could split in two (a key file holding a line break) is never sent.
TEST_F(CurlEventLoopTest, HeaderValueWithLineBreakEndsTheTransferUnsent) {
  std::shared_ptr<RecordingSink> sink =
      RunToDone(SignedEchoRequest("split", HttpHeaders{{"x-api-key", "sk-ant-a\r\nx-evil: 1"}}));
  EXPECT_EQ(sink->done().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(sink->done().message().find("sk-ant"), absl::string_view::npos) << "the value is never echoed";
  EXPECT_EQ(fake_->request_count(), 0);
}

// An option curl refuses fails the transfer through OnDone; it is not ignored. curl refuses
// strings longer than 8 MB in any option.
TEST_F(CurlEventLoopTest, RefusedOptionEndsTheTransferUnsent) {
  HttpRequest request = EchoRequest("long");
  request.url += "?q=" + std::string(9'000'000, 'a');
  std::shared_ptr<RecordingSink> sink = RunToDone(std::move(request));
  EXPECT_EQ(sink->done().code(), absl::StatusCode::kInternal) << sink->done();
  EXPECT_EQ(sink->heads(), 0);
  EXPECT_EQ(fake_->request_count(), 0);
  // The loop goes on: the next transfer is served.
  std::shared_ptr<RecordingSink> next = RunToDone(EchoRequest("after"));
  EXPECT_EQ(next->Check("Echo: after", std::this_thread::get_id()), "");
}

}  // namespace
}  // namespace claude
