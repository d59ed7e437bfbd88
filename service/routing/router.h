// The server's upstreams and routes at run time: for each RPC, the upstreams its model's route
// names, in the order the call tries them (service/routing/route_table.h), each with the request
// its own dialect builds. Without an upstreams file the server has one upstream and one route
// for every model, so every call goes through here alike.
#ifndef SERVICE_ROUTING_ROUTER_H_
#define SERVICE_ROUTING_ROUTER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/routing/key_pool.h"
#include "service/routing/route_table.h"
#include "service/routing/upstream_health.h"
#include "service/upstream/dialect.h"
#include "service/upstream/http_types.h"
#include "service/upstream/transport.h"

namespace claude {

// One upstream a call may try: its name (for logs and error details), its dialect, its health
// (shared by every call), and the request built for it.
class Router;

struct UpstreamTarget {
  std::string upstream;
  // Keeps `dialect` and `health` alive while the call runs, across a reload of the file.
  std::shared_ptr<const Router> router;
  const Dialect* dialect = nullptr;
  UpstreamHealth* health = nullptr;  // null: not tracked
  HttpRequest request;
  // An upstream with a key pool: the call picks a key per attempt and signs with its signer
  // (`request` has none); null: `request.signer` as built.
  KeyPool* keys = nullptr;
  const std::vector<std::shared_ptr<RequestSigner>>* key_signers = nullptr;
};

struct RoutedUpstream {
  std::string name;
  std::shared_ptr<const Dialect> dialect;
  // Time one request to it may take; zero: only the call's deadline bounds it.
  absl::Duration timeout = absl::ZeroDuration();
  // Its keys, used in turn (service/routing/key_pool.h), one signer each; empty: the dialect
  // signs.
  std::vector<std::shared_ptr<RequestSigner>> key_signers;
  // Its TCP connect and TLS handshake; zero: the transport's --connect_timeout.
  absl::Duration connect_timeout = absl::ZeroDuration();
  // Requests in flight to it at once (HttpRequest::max_connections); 0: no limit of its own.
  long max_connections = 0;
};

class Router {
 public:
  // `uniform` returns numbers in [0, 1) for the weighted choice; empty: random.
  // `batches`: the upstream (index into `upstreams`) that serves Message Batches; nullopt: none.
  Router(std::vector<RoutedUpstream> upstreams, std::vector<RouteConfig> routes,
         EjectionPolicy ejection = {}, std::function<double()> uniform = {},
         std::optional<size_t> batches = std::nullopt);

  // The targets for an RPC on `model`, first the one to try first: the route's upstreams in
  // their attempt order, the first that admits the call now (not ejected, not under a
  // retry-after; UpstreamHealth::TryAdmit) moved to the front. `build` makes each one's request; an upstream whose dialect refuses the RPC
  // (UNIMPLEMENTED, INVALID_ARGUMENT) is left out, and when all refuse the first refusal is
  // returned. NOT_FOUND naming the model when no route matches it.
  absl::StatusOr<std::vector<UpstreamTarget>> Plan(
      absl::string_view model, absl::Time now,
      absl::FunctionRef<absl::StatusOr<HttpRequest>(const Dialect&)> build) const;

  // The one target of a Message Batches RPC: the batches upstream (UpstreamsConfig::batches),
  // whatever its health (a batch lives there; no other upstream knows it), with the request
  // `build` makes for its dialect. UNIMPLEMENTED when no upstream serves batches.
  absl::StatusOr<std::vector<UpstreamTarget>> PlanBatches(
      absl::FunctionRef<absl::StatusOr<HttpRequest>(const Dialect&)> build) const;

  const RouteTable& routes() const { return routes_; }
  size_t size() const { return upstreams_.size(); }
  const std::string& name(size_t upstream) const { return upstreams_[upstream].config.name; }
  UpstreamHealth& health(size_t upstream) const { return *upstreams_[upstream].health; }

 private:
  struct Upstream {
    RoutedUpstream config;
    std::unique_ptr<UpstreamHealth> health;
    std::unique_ptr<KeyPool> keys;  // with key_signers
  };

  std::vector<Upstream> upstreams_;
  RouteTable routes_;
  std::function<double()> uniform_;
  std::optional<size_t> batches_;
};

// Where calls get the Router to plan with: the upstreams file's, replaced when the file changes.
class RouterSource {
 public:
  virtual ~RouterSource() = default;
  // Thread-safe and cheap (the file is looked at, at most once a second).
  virtual std::shared_ptr<const Router> Current(absl::Time now) = 0;
};

}  // namespace claude

#endif  // SERVICE_ROUTING_ROUTER_H_
