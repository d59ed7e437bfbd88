#include "service/server/readiness.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/observability/server_log.h"

namespace claude {

Readiness::Readiness(std::string base_url, std::shared_ptr<ApiKeySource> api_key, HealthStatus* health,
                     absl::Duration interval)
    : base_url_(std::move(base_url)),
      api_key_(std::move(api_key)),
      health_(health),
      interval_(interval) {
  Check();
  thread_ = std::thread([this] { Run(); });
}

Readiness::~Readiness() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

std::vector<std::string> Readiness::reasons() const {
  MutexLock lock(mu_);
  return reasons_;
}

void Readiness::Run() {
  MutexLock lock(mu_);
  while (!lock.WaitFor(wake_, interval_,
                       [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; })) {
    lock.Unlock();
    Check();
    lock.Lock();
  }
}

void Readiness::Check() {
  std::vector<std::string> reasons;
  std::vector<std::string> explanations;
  if (base_url_.empty()) {
    reasons.push_back(kNoUpstreamReason);
    explanations.push_back("no upstream is configured (--upstream)");
  }
  // A key file that went away still has its last key in use (a secret being swapped), but the
  // server cannot work once that is over: not ready.
  auto* key_file = dynamic_cast<FileApiKeySource*>(api_key_.get());
  const bool key_missing =
      api_key_ == nullptr || (key_file != nullptr ? !key_file->Present() : api_key_->Key().empty());
  if (key_missing) {
    reasons.push_back(kNoApiKeyReason);
    explanations.push_back(api_key_ == nullptr ? "no API key is configured (--api_key_file or $ANTHROPIC_API_KEY)"
                           : key_file != nullptr
                               ? absl::StrCat("--api_key_file ", key_file->path(), " is missing or empty")
                               : "the API key is empty");
  }
  bool changed;
  {
    MutexLock lock(mu_);
    changed = !checked_ || reasons != reasons_;
    checked_ = true;
    reasons_ = reasons;
  }
  health_->SetServing(reasons.empty());
  if (!changed) return;
  if (reasons.empty()) {
    LogEvent(Severity::kInfo, "ready: serving", {{"event", "ready"}});
  } else {
    LogEvent(Severity::kError, absl::StrCat("not ready (health NOT_SERVING): ", absl::StrJoin(explanations, "; ")),
             {{"event", "not_ready"}, {"reason", absl::StrJoin(reasons, ",")}});
  }
}

}  // namespace claude
