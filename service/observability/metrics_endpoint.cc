#include "service/observability/metrics_endpoint.h"

#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace claude {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, std::vector<std::shared_ptr<prometheus::Collectable>> collectables) {
  std::unique_ptr<MetricsEndpoint> self(new MetricsEndpoint());
  self->collectables_ = std::move(collectables);
  try {
    // One serving thread: scrapes are rare and cheap.
    self->exposer_ = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/1);
  } catch (const std::exception& e) {
    // prometheus-cpp reports a listener it cannot bind with an exception (civetweb's).
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  const std::vector<int> ports = self->exposer_->GetListeningPorts();
  if (ports.empty() || ports.front() == 0) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address));
  }
  self->port_ = ports.front();
  for (const auto& collectable : self->collectables_) self->exposer_->RegisterCollectable(collectable);
  return self;
}

}  // namespace claude
