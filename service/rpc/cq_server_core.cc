#include "service/rpc/cq_server_core.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "service/rpc/admission.h"

namespace claude {
namespace {

// What a completion on the queue finished, for the RPC it belongs to.
enum class Op { kRequested, kWritten, kFinished, kDone };

// Calls asked for ahead of each method, so a burst of new calls finds one waiting instead of
// queueing until the polling thread asks again.
constexpr int kRequestsAhead = 8;

}  // namespace

// The state of one RPC on the queue, and the part of the reactor interface CallReactor expects
// that both kinds share: Finish, OnCancel, OnDone. Its tags are its own members, so a
// completion names its RPC and what finished. Done (OnDone, which deletes it) once both the
// finish and gRPC's "call done" notification have completed, whichever comes last.
struct CqServerCore::Rpc {
  struct Tag {
    Rpc* rpc;
    Op op;
  };

  explicit Rpc(CqServerCore* owner) : core(owner) {}
  virtual ~Rpc() = default;

  // CallReactor's.
  virtual void OnCancel() = 0;
  virtual void OnDone() = 0;
  // A write finished (streams only).
  virtual void Written(bool ok) { (void)ok; }
  // Runs the admission path for the matched call.
  virtual void Handle() = 0;
  // Asks gRPC for the next call of the same method.
  virtual void RequestAnother() = 0;

  void Complete(Op op, bool ok) {
    if (op == Op::kRequested && !ok) {
      // The server shuts down: the call was never matched, so no other completion will come.
      delete this;
      return;
    }
    // With several polling threads, a reaction here may overlap the finish's completion on
    // another: it holds the RPC, so OnDone comes after every reaction, as on the callback API.
    completions_left.fetch_add(1, std::memory_order_relaxed);
    switch (op) {
      case Op::kRequested:
        core->Matched(this);
        break;
      case Op::kWritten:
        Written(ok);
        break;
      case Op::kDone:
        // IsCancelled is meaningful only now; a finish that failed also reads as cancelled.
        if (server_context.IsCancelled()) OnCancel();
        Release();  // the notification's own share
        break;
      case Op::kFinished:
        Release();  // the finish's own share
        break;
    }
    Release();  // the reaction's hold
  }

  void Release() {
    if (completions_left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      CqServerCore* owner = core;
      OnDone();  // deletes this
      owner->Ended();
    }
  }

  CqServerCore* core;
  grpc::ServerContext server_context;
  Tag requested{this, Op::kRequested};
  Tag written{this, Op::kWritten};
  Tag finished{this, Op::kFinished};
  Tag done{this, Op::kDone};
  std::atomic<int> completions_left{2};  // the finish and the done notification
};

namespace {

// CreateMessage on the queue: the reactor base of a CallReactor<CqUnaryBase, UnaryCall>.
class CqUnaryBase : public CqServerCore::Rpc {
 public:
  CqUnaryBase(CqServerCore* owner, const CallEnvironment* env, int64_t unary_stream_threshold,
              CqMessagesService* service, grpc::ServerCompletionQueue* cq)
      : Rpc(owner), env_(env), threshold_(unary_stream_threshold), service_(service), cq_(cq) {
  }

  // Asks gRPC for a call into this object; its completion comes to the polling thread.
  void Ask() {
    server_context.AsyncNotifyWhenDone(&done);
    service_->RequestCreateMessage(&server_context, &request_, &responder_, cq_, cq_, &requested);
  }

  // Any thread, once.
  void Finish(const grpc::Status& status) {
    if (status.ok()) {
      responder_.Finish(response_, status, &finished);
    } else {
      responder_.FinishWithError(status, &finished);
    }
  }
  void Handle() override;
  void RequestAnother() override;

 private:
  const CallEnvironment* env_;
  const int64_t threshold_;
  CqMessagesService* service_;
  grpc::ServerCompletionQueue* cq_;
  claude::v1::CreateMessageRequest request_;
  claude::v1::Message response_;
  grpc::ServerAsyncResponseWriter<claude::v1::Message> responder_{&server_context};
};

// StreamMessage on the queue: the reactor base of a CallReactor<CqStreamBase, StreamCall>.
class CqStreamBase : public CqServerCore::Rpc {
 public:
  CqStreamBase(CqServerCore* owner, const CallEnvironment* env, CqMessagesService* service,
               grpc::ServerCompletionQueue* cq)
      : Rpc(owner), env_(env), service_(service), cq_(cq) {
  }

  void Ask() {
    server_context.AsyncNotifyWhenDone(&done);
    service_->RequestStreamMessage(&server_context, &request_, &writer_, cq_, cq_, &requested);
  }

  // Any thread; one write at a time (the relay's rule), never with the finish.
  void StartWrite(const claude::v1::MessageStreamEvent* event) { writer_.Write(*event, &written); }
  void Finish(const grpc::Status& status) { writer_.Finish(status, &finished); }
  // CallReactor's.
  virtual void OnWriteDone(bool ok) = 0;
  void Written(bool ok) override { OnWriteDone(ok); }
  void Handle() override;
  void RequestAnother() override;

 private:
  const CallEnvironment* env_;
  CqMessagesService* service_;
  grpc::ServerCompletionQueue* cq_;
  claude::v1::CreateMessageRequest request_;
  grpc::ServerAsyncWriter<claude::v1::MessageStreamEvent> writer_{&server_context};
};

using CqUnaryReactor = admission::CallReactor<CqUnaryBase, UnaryCall>;
using CqStreamReactor = admission::CallReactor<CqStreamBase, StreamCall>;

void CqUnaryBase::Handle() {
  admission::ServeCreateMessage(*env_, threshold_, &server_context, static_cast<CqUnaryReactor*>(this), &request_,
                                &response_);
}

void CqUnaryBase::RequestAnother() { (new CqUnaryReactor(core, env_, threshold_, service_, cq_))->Ask(); }

void CqStreamBase::Handle() {
  admission::ServeStreamMessage(*env_, &server_context, static_cast<CqStreamReactor*>(this), &request_);
}

void CqStreamBase::RequestAnother() { (new CqStreamReactor(core, env_, service_, cq_))->Ask(); }

}  // namespace

CqServerCore::CqServerCore(const CallEnvironment* env, int64_t unary_stream_threshold)
    : env_(env),
      unary_stream_threshold_(unary_stream_threshold),
      callback_messages_(env, unary_stream_threshold),
      service_(&callback_messages_) {}

CqServerCore::~CqServerCore() { Stop(); }

void CqServerCore::AddTo(grpc::ServerBuilder& builder) {
  builder.RegisterService(&service_);
  cq_ = builder.AddCompletionQueue();
}

void CqServerCore::Start() {
  for (int i = 0; i < kRequestsAhead; ++i) {
    (new CqUnaryReactor(this, env_, unary_stream_threshold_, &service_, cq_.get()))->Ask();
    (new CqStreamReactor(this, env_, &service_, cq_.get()))->Ask();
  }
  // One polling thread per core: the handlers and completions of one call may then run in
  // parallel, as the callback API's reactions may (CallReactor is written for that).
  const unsigned pollers = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < pollers; ++i) pollers_.emplace_back([this] { Poll(); });
}

void CqServerCore::Poll() {
  void* tag = nullptr;
  bool ok = false;
  while (cq_->Next(&tag, &ok)) {
    auto* completion = static_cast<Rpc::Tag*>(tag);
    completion->rpc->Complete(completion->op, ok);
  }
}

void CqServerCore::Matched(Rpc* rpc) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++live_;
  }
  rpc->RequestAnother();
  rpc->Handle();
}

void CqServerCore::Ended() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--live_ == 0) ended_.notify_all();
}

void CqServerCore::Stop() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopped_ || cq_ == nullptr) return;
    stopped_ = true;
    // Their finishes come from the curl loop or the polling thread, which both still run; a
    // finish after the queue's shutdown would be a gRPC assertion.
    ended_.wait(lock, [this] { return live_ == 0; });
  }
  cq_->Shutdown();
  if (!pollers_.empty()) {
    for (std::thread& poller : pollers_) poller.join();
  } else {
    // Never started (the server did not build): the queue is drained here before it goes.
    void* tag = nullptr;
    bool ok = false;
    while (cq_->Next(&tag, &ok)) {
    }
  }
}

}  // namespace claude
