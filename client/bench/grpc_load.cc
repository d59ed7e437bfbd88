#include "client/bench/grpc_load.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"

namespace claude {
namespace bench {
namespace {

// Deadline of every call: far beyond any run, only so that a lost call cannot hang the bench.
constexpr auto kCallDeadline = std::chrono::seconds(60);

class GrpcLoad {
 public:
  GrpcLoad(const Stubs& stubs, const v1::CreateMessageRequest& request, bool stream,
           int concurrency, const LoadTiming& timing)
      : stubs_(stubs),
        request_(request),
        stream_(stream),
        timing_(timing),
        slots_(static_cast<size_t>(concurrency)) {}

  RunResult Run() {
    window_ = MakeWindow(timing_);
    calls_left_ = timing_.calls;
    limited_ = calls_left_ > 0;
    if (limited_) {
      // A fixed number of calls, every one recorded.
      window_.start = NowNs();
      window_.end = std::numeric_limits<int64_t>::max();
    }
    active_ = static_cast<int>(slots_.size());
    for (size_t i = 0; i < slots_.size(); ++i) Issue(i);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return active_ == 0; });
    if (window_.end == std::numeric_limits<int64_t>::max()) window_.end = NowNs();
    return Merge(slots_, window_);
  }

 private:
  struct UnaryCall {
    grpc::ClientContext context;
    v1::Message reply;
    int64_t start = 0;
  };

  class StreamCall : public grpc::ClientReadReactor<v1::MessageStreamEvent> {
   public:
    StreamCall(GrpcLoad* load, size_t slot) : load_(load), slot_(slot) {}
    void Start() {
      load_->PrepareContext(&context_);
      start_ = NowNs();
      load_->stubs_[slot_ % load_->stubs_.size()]->async()->StreamMessage(&context_,
                                                                          &load_->request_, this);
      StartRead(&event_);
      StartCall();
    }
    void OnReadDone(bool ok) override {
      if (!ok) return;
      const int64_t now = NowNs();
      SlotStats& stats = load_->slots_[slot_];
      if (load_->window_.Contains(now)) {
        ++stats.events;
        if (last_ == 0) {
          stats.first_event.Record(now - start_);
        } else {
          stats.gap.Record(now - last_);
        }
      }
      last_ = now;
      StartRead(&event_);
    }
    void OnDone(const grpc::Status& status) override {
      const int64_t now = NowNs();
      GrpcLoad* load = load_;
      const size_t slot = slot_;
      load->Completed(slot, status, start_, now);
      delete this;
      load->Next(slot, now);
    }

   private:
    GrpcLoad* load_;
    size_t slot_;
    grpc::ClientContext context_;
    v1::MessageStreamEvent event_;
    int64_t start_ = 0;
    int64_t last_ = 0;
  };

  void PrepareContext(grpc::ClientContext* context) {
    context->set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  }

  void Issue(size_t slot) {
    if (stream_) {
      (new StreamCall(this, slot))->Start();
      return;
    }
    auto* call = new UnaryCall;
    PrepareContext(&call->context);
    call->start = NowNs();
    stubs_[slot % stubs_.size()]->async()->CreateMessage(
        &call->context, &request_, &call->reply, [this, slot, call](grpc::Status status) {
          const int64_t now = NowNs();
          Completed(slot, status, call->start, now);
          delete call;
          Next(slot, now);
        });
  }

  void Completed(size_t slot, const grpc::Status& status, int64_t start, int64_t now) {
    slots_[slot].CountCall(CallError(status), window_.Contains(now), now - start);
  }

  void Next(size_t slot, int64_t now) {
    if (now < window_.end && (!limited_ || calls_left_.fetch_sub(1) > 1)) {
      Issue(slot);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (--active_ == 0) done_.notify_all();
  }

  const Stubs& stubs_;
  const v1::CreateMessageRequest& request_;
  const bool stream_;
  const LoadTiming timing_;
  std::vector<SlotStats> slots_;
  Window window_;
  std::mutex mu_;
  std::condition_variable done_;
  int active_ = 0;
  bool limited_ = false;                // timing_.calls > 0
  std::atomic<int64_t> calls_left_{0};  // with --calls: calls still to start after this one
};

// Unary calls started at a fixed rate whatever the replies do (latency under load, without the
// coordinated omission of a closed loop): the i-th call is due at start + i/rate and its
// latency counts from that due time, so a stalled server shows up as latency, not as fewer
// calls. Calls in flight are capped (`max_in_flight`); a call that finds the cap reached counts
// as an error ("overloaded") and is not sent.
class OpenLoopLoad {
 public:
  OpenLoopLoad(const Stubs& stubs, const v1::CreateMessageRequest& request, double rate,
               int max_in_flight, const LoadTiming& timing)
      : stubs_(stubs),
        request_(request),
        rate_(rate),
        max_in_flight_(max_in_flight),
        timing_(timing) {}

  RunResult Run() {
    window_ = MakeWindow(timing_);
    const int64_t start = NowNs();
    for (int64_t i = 0;; ++i) {
      const int64_t due = start + static_cast<int64_t>(static_cast<double>(i) * 1e9 / rate_);
      if (due >= window_.end) break;
      const int64_t wait = due - NowNs();
      if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
      Issue(i, due);
    }
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return in_flight_ == 0; });
    RunResult r;
    r.seconds = window_.seconds();
    r.total = std::move(stats_);
    return r;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    v1::Message reply;
  };

  void Issue(int64_t i, int64_t due) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (in_flight_ >= max_in_flight_) {
        if (window_.Contains(due))
          stats_.Fail(absl::StrCat("open loop: ", max_in_flight_, " calls in flight"));
        return;
      }
      ++in_flight_;
    }
    auto* call = new Call;
    call->context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    stubs_[static_cast<size_t>(i) % stubs_.size()]->async()->CreateMessage(
        &call->context, &request_, &call->reply, [this, call, due](grpc::Status status) {
          const int64_t now = NowNs();
          delete call;
          std::lock_guard<std::mutex> lock(mu_);
          stats_.CountCall(CallError(status), window_.Contains(due), now - due);
          if (--in_flight_ == 0) done_.notify_all();
        });
  }

  const Stubs& stubs_;
  const v1::CreateMessageRequest& request_;
  const double rate_;
  const int max_in_flight_;
  const LoadTiming timing_;
  Window window_;
  std::mutex mu_;
  std::condition_variable done_;
  int in_flight_ = 0;
  SlotStats stats_;
};

}  // namespace

std::string CallError(const grpc::Status& status) {
  if (status.ok()) return "";
  return absl::StrCat(status.error_code(), ": ", status.error_message());
}

Stubs MakeStubs(const std::string& target, int channels) {
  Stubs stubs;
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per channel
    args.SetInt("claude_bench.channel", i);
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
    stubs.push_back(v1::Messages::NewStub(channel));
  }
  return stubs;
}

RunResult RunClosedLoop(const Stubs& stubs, const v1::CreateMessageRequest& request, bool stream,
                        int concurrency, const LoadTiming& timing) {
  GrpcLoad load(stubs, request, stream, concurrency, timing);
  return load.Run();
}

RunResult RunOpenLoop(const Stubs& stubs, const v1::CreateMessageRequest& request, double rate,
                      int max_in_flight, const LoadTiming& timing) {
  OpenLoopLoad load(stubs, request, rate, max_in_flight, timing);
  return load.Run();
}

}  // namespace bench
}  // namespace claude
