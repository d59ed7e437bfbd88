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

HttpRequest EchoRequest(const std::string& base_url, const std::string& text) {
  HttpRequest request;
  request.url = base_url + "/v1/messages";
  request.body = std::make_shared<const std::string>(absl::StrCat(
      R"({"model":"claude-test","max_tokens":16,"messages":[{"role":"user","content":")", text,
      R"("}]})"));
  request.timeout = absl::Seconds(30);
  return request;
}

// Many threads start transfers at once, while others finish: every response arrives whole,
// exactly once, and every sink callback runs on the loop thread, never on a starter.
TEST(CurlEventLoopTest, ConcurrentStartersGetEveryResponseOnTheLoopThread) {
  auto fake = testing::FakeAnthropic::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  CurlEventLoop loop(CurlEventLoopOptions{});

  constexpr int kStarters = 6;  // more than this machine's cores
  constexpr int kPerStarter = 300;
  std::vector<std::string> failures(kStarters);
  std::vector<std::thread> starters;
  for (int s = 0; s < kStarters; ++s) {
    starters.emplace_back([&, s] {
      for (int i = 0; i < kPerStarter; ++i) {
        const std::string text = absl::StrCat("starter", s, "call", i);
        auto sink = std::make_shared<RecordingSink>();
        loop.Start(EchoRequest((*fake)->base_url(), text), sink, absl::ZeroDuration());
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
  EXPECT_EQ((*fake)->request_count(), kStarters * kPerStarter);
  EXPECT_EQ(loop.live_transfers(), 0);
}

// The request's signer runs just before sending, and its headers go out with the request.
TEST(CurlEventLoopTest, SignerHeadersAreSent) {
  auto fake = testing::FakeAnthropic::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  CurlEventLoop loop(CurlEventLoopOptions{});
  auto signer = std::make_shared<testing::MockRequestSigner>();
  HttpRequest request = EchoRequest((*fake)->base_url(), "signed");
  EXPECT_CALL(*signer, Sign(::testing::Field(&HttpRequest::url, request.url), ::testing::_))
      .WillOnce(::testing::Return(HttpHeaders{{"x-api-key", "sk-ant-signed"}}));
  request.signer = signer;
  auto sink = std::make_shared<RecordingSink>();
  loop.Start(std::move(request), sink, absl::ZeroDuration());
  ASSERT_TRUE(sink->Wait(absl::Seconds(30)));
  EXPECT_EQ(sink->Check("Echo: signed", std::this_thread::get_id()), "");
  const std::vector<testing::RecordedRequest> requests = (*fake)->requests();  // a copy: keep it alive
  ASSERT_EQ(requests.size(), 1u);
  const std::string* key = FindHeader(requests[0].headers, "x-api-key");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(*key, "sk-ant-signed");
}

// A signer that fails ends the transfer with its status, and nothing is sent.
TEST(CurlEventLoopTest, FailingSignerEndsTheTransferUnsent) {
  auto fake = testing::FakeAnthropic::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  CurlEventLoop loop(CurlEventLoopOptions{});
  auto signer = std::make_shared<testing::MockRequestSigner>();
  EXPECT_CALL(*signer, Sign).WillOnce(::testing::Return(absl::UnavailableError("no key readable")));
  HttpRequest request = EchoRequest((*fake)->base_url(), "unsigned");
  request.signer = signer;
  auto sink = std::make_shared<RecordingSink>();
  loop.Start(std::move(request), sink, absl::ZeroDuration());
  ASSERT_TRUE(sink->Wait(absl::Seconds(30)));
  EXPECT_EQ(sink->done(), absl::UnavailableError("no key readable"));
  EXPECT_EQ(sink->heads(), 0);
  EXPECT_EQ((*fake)->request_count(), 0);
  EXPECT_EQ(loop.live_transfers(), 0);
}

// A header line that could split in two (a key file holding a line break) is never sent.
TEST(CurlEventLoopTest, HeaderValueWithLineBreakEndsTheTransferUnsent) {
  auto fake = testing::FakeAnthropic::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  CurlEventLoop loop(CurlEventLoopOptions{});
  auto signer = std::make_shared<testing::MockRequestSigner>();
  EXPECT_CALL(*signer, Sign).WillOnce(::testing::Return(HttpHeaders{{"x-api-key", "sk-ant-a\r\nx-evil: 1"}}));
  HttpRequest request = EchoRequest((*fake)->base_url(), "split");
  request.signer = signer;
  auto sink = std::make_shared<RecordingSink>();
  loop.Start(std::move(request), sink, absl::ZeroDuration());
  ASSERT_TRUE(sink->Wait(absl::Seconds(30)));
  EXPECT_EQ(sink->done().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(sink->done().message().find("sk-ant"), absl::string_view::npos) << "the value is never echoed";
  EXPECT_EQ((*fake)->request_count(), 0);
}

// An option curl refuses fails the transfer through OnDone; it is not ignored. curl refuses
// strings longer than 8 MB in any option.
TEST(CurlEventLoopTest, RefusedOptionEndsTheTransferUnsent) {
  auto fake = testing::FakeAnthropic::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  CurlEventLoop loop(CurlEventLoopOptions{});
  HttpRequest request = EchoRequest((*fake)->base_url(), "long");
  request.url += "?q=" + std::string(9'000'000, 'a');
  auto sink = std::make_shared<RecordingSink>();
  loop.Start(std::move(request), sink, absl::ZeroDuration());
  ASSERT_TRUE(sink->Wait(absl::Seconds(30)));
  EXPECT_EQ(sink->done().code(), absl::StatusCode::kInternal) << sink->done();
  EXPECT_EQ(sink->heads(), 0);
  EXPECT_EQ((*fake)->request_count(), 0);
  // The loop goes on: the next transfer is served.
  auto next = std::make_shared<RecordingSink>();
  loop.Start(EchoRequest((*fake)->base_url(), "after"), next, absl::ZeroDuration());
  ASSERT_TRUE(next->Wait(absl::Seconds(30)));
  EXPECT_EQ(next->Check("Echo: after", std::this_thread::get_id()), "");
}

}  // namespace
}  // namespace claude
