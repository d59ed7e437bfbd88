// Whether the server can do its work, checked again and again (a mounted key can disappear or
// be emptied at any time): an upstream must be configured and the API key must be readable
// and non-empty. The health service answers NOT_SERVING while either fails, a log line says
// why when that changes, and the metrics carry the reasons (claude_grpc_not_ready_reasons).
#ifndef SERVICE_SERVER_READINESS_H_
#define SERVICE_SERVER_READINESS_H_

#include <condition_variable>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/sync/mutex.h"
#include "service/config/api_key_source.h"
#include "service/server/health_service.h"

namespace claude {

// Reasons, as the metric's `reason` label and the log line's `reason` field.
inline constexpr char kNoUpstreamReason[] = "no_upstream";
inline constexpr char kNoApiKeyReason[] = "no_api_key";

class Readiness {
 public:
  // Checks the upstream's `base_url` and `api_key` (null: none) now, then every `interval` on a
  // thread of its own (the key source may read a file), and sets `health` after each check.
  Readiness(std::string base_url, std::shared_ptr<ApiKeySource> api_key, HealthStatus* health,
            absl::Duration interval);
  // Stops checking.
  ~Readiness();
  Readiness(const Readiness&) = delete;
  Readiness& operator=(const Readiness&) = delete;

  // What fails now (empty: ready).
  std::vector<std::string> reasons() const;

 private:
  void Check();
  void Run();

  const std::string base_url_;
  const std::shared_ptr<ApiKeySource> api_key_;
  HealthStatus* const health_;
  const absl::Duration interval_;
  mutable Mutex mu_;
  std::vector<std::string> reasons_ ABSL_GUARDED_BY(mu_);
  bool checked_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::condition_variable wake_;
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace claude

#endif  // SERVICE_SERVER_READINESS_H_
