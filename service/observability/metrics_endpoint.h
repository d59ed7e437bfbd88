// The Prometheus text endpoint: GET /metrics on its own HTTP listener (--metrics_listen),
// served by prometheus-cpp's exposer on its own threads, away from gRPC and the curl loop.
#ifndef SERVICE_OBSERVABILITY_METRICS_ENDPOINT_H_
#define SERVICE_OBSERVABILITY_METRICS_ENDPOINT_H_

#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>

#include "absl/status/statusor.h"

namespace claude {

class MetricsEndpoint {
 public:
  // Listens on `address` (HOST:PORT; port 0 picks a free one) and serves `collectables` at
  // /metrics. The endpoint keeps them alive. Fails when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address, std::vector<std::shared_ptr<prometheus::Collectable>> collectables);

  // The bound port.
  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;

  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;  // after collectables_: stops serving first
  int port_ = 0;
};

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_METRICS_ENDPOINT_H_
