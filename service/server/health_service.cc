#include "service/server/health_service.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace claude {
namespace {

using grpc::health::v1::HealthCheckResponse;

// One Watch stream: one write in flight; a change that comes while one is in flight replaces
// whatever is still pending, so a slow watcher gets the latest status, never a backlog.
class WatchReactor final : public grpc::ServerWriteReactor<HealthCheckResponse>, public HealthWatcher {
 public:
  WatchReactor(HealthStatus* status, const std::string& service)
      : status_(status), known_(status->Get(service) != HealthCheckResponse::SERVICE_UNKNOWN) {
    bool final = false;
    const HealthStatus::ServingStatus now = status_->Watch(this, &final);
    MutexLock lock(mu_);
    // A change reported since Watch() returned is newer than `now`.
    if (!has_pending_ && !sent_any_) Queue(now, final);
  }

  void OnHealthChange(HealthStatus::ServingStatus status, bool final) override {
    MutexLock lock(mu_);
    Queue(status, final);
  }

  void OnWriteDone(bool ok) override {
    MutexLock lock(mu_);
    writing_ = false;
    if (!ok || cancelled_) {
      FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "the watcher went away"));
      return;
    }
    WriteNext();
  }

  void OnCancel() override {
    MutexLock lock(mu_);
    cancelled_ = true;
    // Never Finish with a write in flight: its OnWriteDone finishes.
    if (!writing_) FinishOnce(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    status_->Unwatch(this);
    delete this;
  }

 private:
  void Queue(HealthStatus::ServingStatus status, bool final) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    // Every service shares the server's status; an unknown one stays unknown.
    pending_ = known_ ? status : HealthCheckResponse::SERVICE_UNKNOWN;
    has_pending_ = true;
    final_ = final_ || final;
    WriteNext();
  }

  void WriteNext() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (has_pending_ && (!sent_any_ || pending_ != response_.status())) {
      has_pending_ = false;
      sent_any_ = true;
      response_.set_status(pending_);
      writing_ = true;
      StartWrite(&response_);
      return;
    }
    has_pending_ = false;
    if (final_) FinishOnce(grpc::Status::OK);
  }

  void FinishOnce(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  HealthStatus* const status_;
  const bool known_;  // the service asked about is served here
  Mutex mu_;
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);
  HealthStatus::ServingStatus pending_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  bool has_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool sent_any_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool final_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

HealthStatus::HealthStatus(std::vector<std::string> services) : services_(services.begin(), services.end()) {}

void HealthStatus::SetServing(bool serving) {
  MutexLock lock(mu_);
  if (shut_down_ || serving_ == serving) return;
  serving_ = serving;
  Notify();
}

void HealthStatus::Shutdown() {
  MutexLock lock(mu_);
  if (shut_down_) return;
  shut_down_ = true;
  serving_ = false;
  Notify();
}

HealthStatus::ServingStatus HealthStatus::Get(const std::string& service) const {
  if (!service.empty() && !services_.contains(service)) return HealthCheckResponse::SERVICE_UNKNOWN;
  MutexLock lock(mu_);
  return serving_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

bool HealthStatus::serving() const {
  MutexLock lock(mu_);
  return serving_;
}

HealthStatus::ServingStatus HealthStatus::Watch(HealthWatcher* watcher, bool* final) {
  MutexLock lock(mu_);
  *final = shut_down_;
  if (!shut_down_) watchers_.insert(watcher);
  return serving_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

void HealthStatus::Unwatch(HealthWatcher* watcher) {
  MutexLock lock(mu_);
  watchers_.erase(watcher);
}

void HealthStatus::Notify() {
  const ServingStatus status = serving_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
  for (HealthWatcher* watcher : watchers_) watcher->OnHealthChange(status, shut_down_);
  if (shut_down_) watchers_.clear();
}

grpc::ServerUnaryReactor* HealthService::Check(grpc::CallbackServerContext* context,
                                               const grpc::health::v1::HealthCheckRequest* request,
                                               grpc::health::v1::HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const HealthStatus::ServingStatus status = status_->Get(request->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                 absl::StrCat("service: \"", request->service(), "\" is not served here")));
    return reactor;
  }
  response->set_status(status);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(grpc::CallbackServerContext* /*context*/,
                                                                    const grpc::health::v1::HealthCheckRequest* request) {
  return new WatchReactor(status_, request->service());
}

}  // namespace claude
