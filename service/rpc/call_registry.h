// The calls in flight, so the server can cancel them all at once (a second signal while
// draining) and count them. Calls register when they begin and leave when their RPC is done.
#ifndef SERVICE_RPC_CALL_REGISTRY_H_
#define SERVICE_RPC_CALL_REGISTRY_H_

#include <condition_variable>
#include <cstdint>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "common/sync/mutex.h"

namespace claude {

class UpstreamCall;

class CallRegistry {
 public:
  // Lists `call`; false once the registry is closed (the server is draining): the call must
  // not start.
  bool Add(const std::shared_ptr<UpstreamCall>& call);
  void Remove(const UpstreamCall* call);
  // Refuses calls from now on.
  void Close();
  // Cancels every call in flight: each finishes with `status` and its upstream transfer is
  // aborted.
  void CancelAll(const grpc::Status& status);
  // Waits up to `timeout` for the registry to be empty; true if it is.
  bool WaitEmpty(absl::Duration timeout);
  int64_t size() const;

 private:
  mutable Mutex mu_;
  std::condition_variable emptied_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // Weak: a call lives as long as its reactor and transfer, never because it is listed here.
  absl::flat_hash_map<const UpstreamCall*, std::weak_ptr<UpstreamCall>> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace claude

#endif  // SERVICE_RPC_CALL_REGISTRY_H_
