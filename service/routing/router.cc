#include "service/routing/router.h"

#include <algorithm>
#include <random>
#include <utility>


namespace claude {
namespace {

double RandomUniform() {
  thread_local std::mt19937_64 engine(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace

Router::Router(std::vector<RoutedUpstream> upstreams, std::vector<RouteConfig> routes,
               EjectionPolicy ejection, std::function<double()> uniform,
               std::optional<size_t> batches)
    : routes_(std::move(routes)),
      uniform_(uniform ? std::move(uniform) : RandomUniform),
      batches_(batches && *batches < upstreams.size() ? batches : std::nullopt) {
  upstreams_.reserve(upstreams.size());
  for (RoutedUpstream& upstream : upstreams) {
    std::unique_ptr<KeyPool> keys;
    if (!upstream.key_signers.empty()) keys = std::make_unique<KeyPool>(upstream.key_signers.size());
    upstreams_.push_back(
        Upstream{std::move(upstream), std::make_unique<UpstreamHealth>(ejection), std::move(keys)});
  }
}

absl::StatusOr<std::vector<UpstreamTarget>> Router::PlanBatches(
    absl::FunctionRef<absl::StatusOr<HttpRequest>(const Dialect&)> build) const {
  if (!batches_) {
    return absl::UnimplementedError(
        "Message Batches are a Messages API feature and no upstream of the upstreams file offers "
        "them: "
        "add a messages upstream (or name one with \"batches:\")");
  }
  const Upstream& upstream = upstreams_[*batches_];
  absl::StatusOr<HttpRequest> request = build(*upstream.config.dialect);
  if (!request.ok()) return request.status();
  if (upstream.config.timeout > absl::ZeroDuration()) request->timeout = upstream.config.timeout;
  std::vector<UpstreamTarget> targets;
  targets.push_back(UpstreamTarget{upstream.config.name, nullptr, upstream.config.dialect.get(),
                                   upstream.health.get(), *std::move(request), upstream.keys.get(),
                                   upstream.keys ? &upstream.config.key_signers : nullptr});
  return targets;
}

absl::StatusOr<std::vector<UpstreamTarget>> Router::Plan(
    absl::string_view model, absl::Time now,
    absl::FunctionRef<absl::StatusOr<HttpRequest>(const Dialect&)> build) const {
  absl::StatusOr<const RouteConfig*> route = routes_.Find(model);
  if (!route.ok()) return route.status();
  std::vector<UpstreamTarget> targets;
  absl::Status first_refusal;
  for (size_t index : AttemptOrder(**route, uniform_)) {
    const Upstream& upstream = upstreams_[index];
    absl::StatusOr<HttpRequest> request = build(*upstream.config.dialect);
    if (!request.ok()) {
      if (first_refusal.ok()) first_refusal = request.status();
      continue;
    }
    if (upstream.config.timeout > absl::ZeroDuration()) request->timeout = upstream.config.timeout;
    request->connect_timeout = upstream.config.connect_timeout;
    request->connection_pool = upstream.config.name;
    request->max_connections = upstream.config.max_connections;
    targets.push_back(UpstreamTarget{upstream.config.name, nullptr, upstream.config.dialect.get(),
                                     upstream.health.get(), *std::move(request), upstream.keys.get(),
                                     upstream.keys ? &upstream.config.key_signers : nullptr});
  }
  if (targets.empty()) return first_refusal;
  // The first upstream that admits the call goes first (TryAdmit claims a probe, so it is asked
  // only of the upstream the call is about to try); the others stay in order as fallbacks, asked
  // again when the call fails over. All ejected: the order as it is, rather than no attempt.
  for (size_t i = 0; i < targets.size(); ++i) {
    if (targets[i].health->TryAdmit(now)) {
      std::rotate(targets.begin(), targets.begin() + i, targets.begin() + i + 1);
      break;
    }
  }
  return targets;
}

}  // namespace claude
