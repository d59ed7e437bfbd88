// grpc.health.v1.Health from the generated stubs (so reflection describes it), over one
// HealthStatus that the gRPC port and the plaintext --health_listen port share: both answer the
// same readiness, and a drain turns both NOT_SERVING at once.
#ifndef SERVICE_SERVER_HEALTH_SERVICE_H_
#define SERVICE_SERVER_HEALTH_SERVICE_H_

#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "common/sync/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace claude {

// A change of the serving status, seen by the Watch streams.
class HealthWatcher {
 public:
  virtual ~HealthWatcher() = default;
  // Called under HealthStatus's lock: must not call back into it. `final`: the status will not
  // change again (shutdown).
  virtual void OnHealthChange(grpc::health::v1::HealthCheckResponse::ServingStatus status, bool final) = 0;
};

// The server's serving status: every known service (and "", the server as a whole) has the
// same one. Thread-safe.
class HealthStatus {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

  // `services`: the names a client may ask about besides "". Starts NOT_SERVING.
  explicit HealthStatus(std::vector<std::string> services);

  // SERVING or NOT_SERVING; ignored after Shutdown().
  void SetServing(bool serving);
  // NOT_SERVING for good (the drain).
  void Shutdown();
  // The status of `service`; SERVICE_UNKNOWN when the server does not serve it.
  ServingStatus Get(const std::string& service) const;
  bool serving() const;

  // Adds a watcher and returns the current status (what it must report first); `final` as in
  // OnHealthChange.
  ServingStatus Watch(HealthWatcher* watcher, bool* final);
  // After it returns, `watcher` is never called again.
  void Unwatch(HealthWatcher* watcher);

 private:
  void Notify() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::flat_hash_set<std::string> services_;
  mutable Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<HealthWatcher*> watchers_ ABSL_GUARDED_BY(mu_);
};

class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  explicit HealthService(HealthStatus* status) : status_(status) {}

  // NOT_FOUND for a service the server does not serve.
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override;
  // The current status, then each change; ends OK after the last (shutdown).
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context, const grpc::health::v1::HealthCheckRequest* request) override;

 private:
  HealthStatus* const status_;
};

}  // namespace claude

#endif  // SERVICE_SERVER_HEALTH_SERVICE_H_
