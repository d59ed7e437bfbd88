#include "service/rpc/call_registry.h"

#include <vector>

#include "service/rpc/upstream_call.h"

namespace claude {

bool CallRegistry::Add(const std::shared_ptr<UpstreamCall>& call) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return false;
  calls_.emplace(call.get(), call);
  return true;
}

void CallRegistry::Remove(const UpstreamCall* call) {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.erase(call);
  if (calls_.empty()) emptied_.notify_all();
}

void CallRegistry::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
}

bool CallRegistry::WaitEmpty(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return emptied_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [this] { return calls_.empty(); });
}

void CallRegistry::CancelAll(const grpc::Status& status) {
  std::vector<std::shared_ptr<UpstreamCall>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, weak] : calls_) {
      if (auto call = weak.lock()) live.push_back(std::move(call));
    }
  }
  // Outside the lock: cancelling finishes RPCs, whose reactors remove their calls.
  for (const auto& call : live) call->Cancel(status);
}

int64_t CallRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(calls_.size());
}

}  // namespace claude
