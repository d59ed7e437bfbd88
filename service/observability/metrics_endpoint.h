// The Prometheus text endpoint: GET /metrics on its own small HTTP/1.1 listener (--metrics_listen)
// and thread, away from gRPC and the curl loop. Our own, not prometheus-cpp's exposer: Debian's
// civetweb under it is built without IPv6, so "[::]:9099" could not listen.
//
// One connection at a time, closed after one answer: scrapes are rare and small. Each
// connection is bounded (8 KiB of request head, 5 s in all), so a slow or hostile client holds
// the endpoint for 5 s at most and never the server.
#ifndef SERVICE_OBSERVABILITY_METRICS_ENDPOINT_H_
#define SERVICE_OBSERVABILITY_METRICS_ENDPOINT_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/collectable.h>

#include "absl/status/statusor.h"

namespace claude {

class MetricsEndpoint {
 public:
  // Listens on `address` (HOST:PORT, [IPV6]:PORT; "[::]" takes IPv4 as well; port 0 picks a
  // free one) and serves `collectables` at /metrics. The endpoint keeps them alive. Fails when
  // the address cannot be bound (ports are bound exclusively).
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address, std::vector<std::shared_ptr<prometheus::Collectable>> collectables);
  // Stops listening; a scrape being answered is cut off.
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // The bound port.
  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;
  void Serve();
  void Answer(int connection);
  // The text format of every collectable's families.
  std::string Render() const;

  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd: written once to stop the thread
  int port_ = 0;
  std::thread thread_;
};

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_METRICS_ENDPOINT_H_
