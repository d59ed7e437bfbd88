#include "service/rpc/call_registry.h"

#include <vector>

#include "service/rpc/upstream_call.h"

namespace claude {

bool CallRegistry::Add(const std::shared_ptr<UpstreamCall>& call) {
  MutexLock lock(mu_);
  if (closed_) return false;
  calls_.emplace(call.get(), call);
  return true;
}

void CallRegistry::Remove(const UpstreamCall* call) {
  MutexLock lock(mu_);
  calls_.erase(call);
  if (calls_.empty()) emptied_.notify_all();
}

void CallRegistry::Close() {
  MutexLock lock(mu_);
  closed_ = true;
}

bool CallRegistry::WaitEmpty(absl::Duration timeout) {
  MutexLock lock(mu_);
  return lock.WaitFor(emptied_, timeout,
                      [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_.empty(); });
}

void CallRegistry::CancelAll(const grpc::Status& status) {
  std::vector<std::shared_ptr<UpstreamCall>> live;
  {
    MutexLock lock(mu_);
    for (const auto& [key, weak] : calls_) {
      if (auto call = weak.lock()) live.push_back(std::move(call));
    }
  }
  // Outside the lock: cancelling finishes RPCs, whose reactors remove their calls.
  for (const auto& call : live) call->Cancel(status);
}

int64_t CallRegistry::size() const {
  MutexLock lock(mu_);
  return static_cast<int64_t>(calls_.size());
}

}  // namespace claude
