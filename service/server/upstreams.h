// The upstreams file's upstreams as the server runs them: one dialect each, with its
// credentials, behind a Router (service/routing/router.h).
#ifndef SERVICE_SERVER_UPSTREAMS_H_
#define SERVICE_SERVER_UPSTREAMS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/routing/router.h"
#include "service/routing/upstreams_file.h"

namespace claude {

struct UpstreamDefaults {
  std::string anthropic_version = "2023-06-01";  // messages upstreams
  size_t max_event_bytes = 16 << 20;
  EjectionPolicy ejection;
  std::function<double()> uniform;  // the weighted choice's draws; empty: random
};

// A Router over `config`'s upstreams and routes. INVALID_ARGUMENT naming the upstream and its
// line for what the server cannot serve yet: chat_completions upstreams, a model map on a
// messages upstream, per-upstream connect_timeout or max_connections (the transport's flags
// apply to all), and AWS credentials that cannot be read now.
absl::StatusOr<std::unique_ptr<Router>> BuildRouter(const UpstreamsConfig& config,
                                                    const UpstreamDefaults& defaults);

}  // namespace claude

#endif  // SERVICE_SERVER_UPSTREAMS_H_
