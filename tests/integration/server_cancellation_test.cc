// The server end to end when calls end early or read slowly: cancellation and deadlines close
// the upstream at once, a slow reader pauses the upstream with bounded memory, a thousand
// streams at once all complete. Timing bounds: run alone.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/codec/json_mapping.h"
#include "common/codec/message_accumulator.h"
#include "service/config/api_key_source.h"
#include "service/errors/error_table.h"
#include "service/sse/sse_parser.h"
#include "tests/integration/server_calls.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/resident_memory.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/wait_until.h"

namespace claude::testing {
namespace {

// ---------------------------------------------------------------------------------------------
// Cancellation and deadlines: the upstream sees its connection closed at once.

// A loopback listener whose accept queue is full: a new connection to it hangs in SYN_SENT,
// which is how an upstream that is slow to accept looks.
class UnacceptingListener {
 public:
  UnacceptingListener() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listener_, 0), 0);
    socklen_t len = sizeof(addr);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    for (int i = 0; i < 2; ++i) {  // fill the queue (backlog 0 holds one)
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      fillers_.push_back(fd);
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ~UnacceptingListener() {
    for (int fd : fillers_) close(fd);
    close(listener_);
  }
  int port() const { return port_; }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

TEST(ServerTest, CancelWhileConnectingAbortsTheTransfer) {
  UnacceptingListener listener;
  StandaloneServer server(absl::StrCat("http://127.0.0.1:", listener.port()));
  CurlEventLoop& loop = server.loop();
  grpc::ClientContext context;
  auto reader = server.stub().StreamMessage(&context, Hello());
  ASSERT_TRUE(WaitUntil([&] { return loop.live_transfers() != 0; }, Scaled(absl::Seconds(5)),
                        absl::Milliseconds(1)));
  // Nothing observable says curl has begun to connect; the transfer it was handed starts at
  // once, so this wait only makes the cancel land in the handshake rather than before it.
  absl::SleepFor(absl::Milliseconds(100));
  ASSERT_EQ(loop.live_transfers(), 1);
  const absl::Time cancelled_at = absl::Now();
  context.TryCancel();
  EXPECT_TRUE(WaitUntil([&] { return loop.live_transfers() == 0; }, Scaled(absl::Seconds(1)),
                        absl::Milliseconds(1)));
  EXPECT_LT(absl::Now() - cancelled_at, Scaled(absl::Milliseconds(100)));
  MessageStreamEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST(ServerTest, CancelWhileWaitingForTheFirstByteClosesTheUpstream) {
  ServerHarness h;
  OpenedStream stream;
  ASSERT_NO_FATAL_FAILURE(OpenHangingStream(h, stream));
  stream.context.TryCancel();
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Milliseconds(100))));
  MessageStreamEvent event;
  EXPECT_FALSE(stream.reader->Read(&event));
  EXPECT_EQ(stream.reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(2))));
}

TEST(ServerTest, CancelMidStreamClosesTheUpstream) {
  ServerHarness h;
  OpenedStream stream;
  OpenStream(h, Drip(), stream);
  MessageStreamEvent event;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stream.reader->Read(&event));
  stream.context.TryCancel();
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Milliseconds(100))));
  while (stream.reader->Read(&event)) {
  }
  EXPECT_EQ(stream.reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(2))));
}

TEST(ServerTest, DeadlineClosesTheUpstream) {
  ServerHarness h;
  h.upstream().Enqueue(HungReply());
  const absl::Time start = absl::Now();
  StreamResult r = Stream(h, Hello(), absl::Milliseconds(300));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Milliseconds(100))))
      << "disconnect seen " << absl::Now() - start << " after the call began";
  EXPECT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(2))));
}

TEST(ServerTest, UnaryCancelClosesTheUpstream) {
  ServerHarness h;
  h.upstream().Enqueue(HungReply());
  grpc::ClientContext context;
  const CreateMessageRequest request = Hello();  // the async call borrows it until done
  v1::Message message;
  absl::Notification done;
  grpc::Status status;
  h.messages().async()->CreateMessage(&context, &request, &message, [&](grpc::Status s) {
    status = s;
    done.Notify();
  });
  ASSERT_TRUE(h.upstream().WaitForRequests(1, Scaled(absl::Seconds(5))));
  context.TryCancel();
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Milliseconds(100))));
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(Scaled(absl::Seconds(5))));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(2))));
}

// ---------------------------------------------------------------------------------------------
// Backpressure.

TEST(ServerTest, SlowReaderCostsBoundedMemoryAndPausesTheUpstream) {
  // 50 MB of text in 200 events of 256 KB; declared before the harness, whose fake upstream
  // reads them on its own thread until the harness is destroyed.
  const std::string text(256 * 1024, 'x');
  const std::string delta = TextDeltaEvent(text);
  constexpr int kDeltas = 200;
  int produced = 0;
  HarnessOptions options;
  options.call.stream_buffer_bytes = 256 * 1024;
  ServerHarness h(options);
  FakeReply big;
  big.headers = {{"content-type", "text/event-stream"}};
  big.generator = [&](std::string* piece) {
    if (produced == 0) {
      *piece = kStreamHead;
    } else if (produced <= kDeltas) {
      *piece = delta;
    } else if (produced == kDeltas + 1) {
      *piece =
          "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
          "event: message_delta\ndata: "
          "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":"
          "null},\"usage\":{\"output_tokens\":9}}\n\n"
          "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    } else {
      return false;
    }
    ++produced;
    return true;
  };
  h.upstream().Enqueue(big);

  grpc::ClientContext context;
  auto reader = h.messages().StreamMessage(&context, Hello());
  MessageStreamEvent event;
  ASSERT_TRUE(reader->Read(&event));
  ResidentGrowth memory;
  bool saw_pause = false;
  size_t text_bytes = 0;
  int events = 1;
  while (reader->Read(&event)) {
    ++events;
    if (event.has_content_block_delta())
      text_bytes += event.content_block_delta().delta().text_delta().text().size();
    absl::SleepFor(absl::Milliseconds(10));  // one event per 10 ms
    saw_pause = saw_pause || h.loop().paused_transfers() > 0;
    memory.Sample();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(text_bytes, kDeltas * text.size());
  EXPECT_TRUE(saw_pause) << "the upstream transfer is paused while the reader lags";
  // Stated bound: the per-stream queue (256 KB) plus gRPC's and the kernel's socket buffers
  // and one event in flight: well under 16 MB, while 50 MB pass through.
  memory.ExpectBelow(16 * 1024, "slow reader, 50 MB passed through");
}

// ---------------------------------------------------------------------------------------------
// Many streams at once.

class CountingReader final : public grpc::ClientReadReactor<MessageStreamEvent> {
 public:
  CountingReader(v1::Messages::Stub* stub, const CreateMessageRequest& request,
                 std::atomic<int>* ok, std::atomic<int>* finished)
      : ok_(ok), finished_(finished), request_(request) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
    stub->async()->StreamMessage(&context_, &request_, this);
    StartRead(&event_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (absl::Status s = accumulator_.Apply(event_); !s.ok()) failed_ = true;
    StartRead(&event_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::StatusOr<v1::Message> message = std::move(accumulator_).Finish();
    if (status.ok() && !failed_ && message.ok() && message->content_size() == 1 &&
        message->content(0).text().text() == "Echo: Hello there, Claude") {
      ok_->fetch_add(1);
    }
    finished_->fetch_add(1);
    delete this;
  }

 private:
  std::atomic<int>* ok_;
  std::atomic<int>* finished_;
  grpc::ClientContext context_;
  CreateMessageRequest request_;
  MessageStreamEvent event_;
  MessageAccumulator accumulator_;
  bool failed_ = false;
};

TEST(ServerTest, AThousandConcurrentStreamsAllCompleteCorrectly) {
  rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  ServerHarness h;
  h.upstream().set_record_requests(false);
  std::atomic<int> ok{0}, finished{0};
#ifdef CLAUDE_SANITIZED_THREAD
  constexpr int kStreams =
      200;  // ThreadSanitizer is ~10x slower; the interleavings are what matter
#else
  constexpr int kStreams = 1000;
#endif
  for (int i = 0; i < kStreams; ++i) new CountingReader(&h.messages(), Hello(), &ok, &finished);
  EXPECT_TRUE(WaitUntil([&] { return finished.load() == kStreams; }, Scaled(absl::Seconds(120)),
                        absl::Milliseconds(10)));
  EXPECT_EQ(finished.load(), kStreams);
  EXPECT_EQ(ok.load(), kStreams);
  EXPECT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(5))));
}

}  // namespace
}  // namespace claude::testing
