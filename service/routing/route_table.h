// Which upstreams serve a model, and in which order a call tries them: the routes of the
// upstreams file (service/routing/upstreams_file.h), looked up by the caller's model name.
#ifndef SERVICE_ROUTING_ROUTE_TABLE_H_
#define SERVICE_ROUTING_ROUTE_TABLE_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/routing/upstreams_file.h"

namespace claude {

class RouteTable {
 public:
  explicit RouteTable(std::vector<RouteConfig> routes);

  // The route for `model`: the exact one, else the one with the longest matching prefix ("*"
  // matches everything). NOT_FOUND naming the model when none matches.
  absl::StatusOr<const RouteConfig*> Find(absl::string_view model) const;

  // The exact model names (not prefixes) of the routes that list `upstream`, in file order: what
  // an upstream without a model listing of its own serves (ListModels).
  std::vector<std::string> ModelsOf(size_t upstream) const;

  const std::vector<RouteConfig>& routes() const { return routes_; }

 private:
  std::vector<RouteConfig> routes_;
};

// The upstreams (indexes) a call tries, in order: rank by rank; within a rank a random order in
// which each next upstream is drawn in proportion to its weight among those left, so the first
// attempts spread by weight and the fallbacks inside a rank too. `uniform` returns a number in
// [0, 1) (injected so tests need no randomness).
std::vector<size_t> AttemptOrder(const RouteConfig& route, absl::FunctionRef<double()> uniform);

}  // namespace claude

#endif  // SERVICE_ROUTING_ROUTE_TABLE_H_
