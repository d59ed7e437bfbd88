// FakeAnthropic's implementation, shared by its files: fake_anthropic.cc (the listener, the
// server thread, each request's arrival and the public methods) and scripted_replies.cc (the
// scripted replies' delays, pieces and faults). Private to tests/fake_upstream/.
#ifndef TESTS_FAKE_UPSTREAM_FAKE_ANTHROPIC_IMPL_H_
#define TESTS_FAKE_UPSTREAM_FAKE_ANTHROPIC_IMPL_H_

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/fake_upstream/echo_answer.h"
#include "tests/fake_upstream/fake_anthropic.h"
#include "tests/fake_upstream/fake_batches.h"

namespace claude {
namespace testing {

// A delay longer than this is clamped, so libevent's deadline arithmetic cannot overflow.
inline constexpr absl::Duration kMaxDelay = absl::Hours(24 * 365);

class FakeAnthropic::Impl {
 public:
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl();

  absl::Status Init(const std::string& host, int port);

  int port() const { return port_; }
  const std::string& host() const { return host_; }

  void SetCloudCredentials(FakeCloudCredentials credentials) {
    std::lock_guard<std::mutex> lock(mu_);
    cloud_ = std::move(credentials);
  }
  void Enqueue(FakeReply reply) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(reply));
  }
  void SetDefaultReply(std::optional<FakeReply> reply) {
    std::lock_guard<std::mutex> lock(mu_);
    default_reply_ = std::move(reply);
  }
  void set_chat_completions_models(bool chat) {
    std::lock_guard<std::mutex> lock(mu_);
    chat_completions_models_ = chat;
  }
  void set_record_requests(bool record) {
    std::lock_guard<std::mutex> lock(mu_);
    record_ = record;
  }
  std::vector<RecordedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int request_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return request_count_;
  }
  int disconnects() const {
    std::lock_guard<std::mutex> lock(mu_);
    return disconnects_;
  }
  int active_replies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return active_;
  }
  bool WaitForCount(const int* counter, int n, absl::Duration timeout) const {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(std::min(timeout, kMaxDelay)),
                             [counter, n] { return *counter >= n; });
  }
  const int* request_counter() const { return &request_count_; }
  FakeBatches& batches() { return batches_; }
  std::string base_url() const {
    if (absl::StrContains(host_, ':')) return absl::StrCat("http://[", host_, "]:", port_);
    return absl::StrCat("http://", host_, ":", port_);
  }
  const int* disconnect_counter() const { return &disconnects_; }

 private:
  enum class Wait { kHead, kChunk, kDrop };

  // One scripted reply in progress. Owned by states_; lives on the server thread only.
  struct ReplyState {
    ReplyState(Impl* i, evhttp_request* r, FakeReply f) : impl(i), req(r), reply(std::move(f)) {}
    ReplyState(const ReplyState&) = delete;
    ReplyState& operator=(const ReplyState&) = delete;
    ~ReplyState() {
      if (timer != nullptr) event_free(timer);
      if (buf != nullptr) evbuffer_free(buf);
    }

    Impl* impl;
    evhttp_request* req;
    FakeReply reply;
    size_t next_chunk = 0;
    std::string pending;  // the next piece, fetched before a delay to know whether one comes
    Wait wait = Wait::kHead;
    event* timer = nullptr;
    evbuffer* buf = nullptr;
  };

  // Server-thread entry point: runs the loop, then closes everything.
  void Run();

  static void OnRequestCb(evhttp_request* req, void* arg) {
    static_cast<Impl*>(arg)->OnRequest(req);
  }
  static void OnStopCb(evutil_socket_t, short, void* arg) {
    event_base_loopbreak(static_cast<Impl*>(arg)->base_);
  }
  static void OnTimerCb(evutil_socket_t, short, void* arg);
  static void OnChunkWrittenCb(evhttp_connection*, void* arg);
  static void OnCloseCb(evhttp_connection*, void* arg);

  void OnRequest(evhttp_request* req);

  // Scripted replies.
  void StartScripted(evhttp_request* req, FakeReply reply);
  void SendHead(ReplyState* s);
  bool NextPiece(ReplyState* s);
  void WritePending(ReplyState* s);
  void EndBody(ReplyState* s);
  void DropWhenFlushed(ReplyState* s);
  void Arm(ReplyState* s, Wait wait, absl::Duration delay);
  // Forgets `s` (deleting it): the reply is complete, or the fake drops the connection.
  void Finish(ReplyState* s);

  // Echo mode: sends `answer` with the echo headers (request-id, rate limit) of the `n`th request.
  void SendEcho(evhttp_request* req, const EchoAnswer& answer, int n);

  std::string host_;
  int port_ = 0;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  event* stop_event_ = nullptr;
  std::thread thread_;

  // Server thread only.
  absl::flat_hash_map<ReplyState*, std::unique_ptr<ReplyState>> states_;
  bool shutting_down_ = false;

  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with ThreadSanitizer
  // annotations, so TSan builds would not see absl::Mutex synchronize.
  FakeBatches batches_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;  // request_count_ or disconnects_ grew
  // Guarded by mu_.
  std::deque<FakeReply> queue_;
  std::optional<FakeReply> default_reply_;
  FakeCloudCredentials cloud_;
  bool record_ = true;
  bool chat_completions_models_ = false;  // GET /v1/models in OpenAI's shape
  std::vector<RecordedRequest> requests_;
  int request_count_ = 0;
  int disconnects_ = 0;
  int active_ = 0;
};

}  // namespace testing
}  // namespace claude

#endif  // TESTS_FAKE_UPSTREAM_FAKE_ANTHROPIC_IMPL_H_
