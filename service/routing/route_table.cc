#include "service/routing/route_table.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace claude {

RouteTable::RouteTable(std::vector<RouteConfig> routes) : routes_(std::move(routes)) {}

absl::StatusOr<const RouteConfig*> RouteTable::Find(absl::string_view model) const {
  const RouteConfig* best_prefix = nullptr;
  size_t best_length = 0;
  for (const RouteConfig& route : routes_) {
    if (!absl::EndsWith(route.model, "*")) {
      if (route.model == model) return &route;
      continue;
    }
    const absl::string_view prefix = absl::string_view(route.model).substr(0, route.model.size() - 1);
    if (absl::StartsWith(model, prefix) && (best_prefix == nullptr || prefix.size() > best_length)) {
      best_prefix = &route;
      best_length = prefix.size();
    }
  }
  if (best_prefix != nullptr) return best_prefix;
  return absl::NotFoundError(absl::StrCat("no upstream serves model \"", model, "\""));
}

std::vector<std::string> RouteTable::ModelsOf(size_t upstream) const {
  std::vector<std::string> models;
  for (const RouteConfig& route : routes_) {
    if (absl::EndsWith(route.model, "*")) continue;
    for (const RouteTarget& target : route.targets) {
      if (target.upstream == upstream) {
        models.push_back(route.model);
        break;
      }
    }
  }
  return models;
}

std::vector<size_t> AttemptOrder(const RouteConfig& route, absl::FunctionRef<double()> uniform) {
  std::vector<size_t> order;
  order.reserve(route.targets.size());
  size_t begin = 0;
  while (begin < route.targets.size()) {
    size_t end = begin;
    while (end < route.targets.size() && route.targets[end].rank == route.targets[begin].rank) ++end;
    std::vector<RouteTarget> rank(route.targets.begin() + begin, route.targets.begin() + end);
    while (!rank.empty()) {
      long long total = 0;
      for (const RouteTarget& t : rank) total += t.weight;
      double draw = uniform() * static_cast<double>(total);
      size_t pick = rank.size() - 1;  // rounding at the top end falls on the last one
      for (size_t i = 0; i < rank.size(); ++i) {
        if (draw < rank[i].weight) {
          pick = i;
          break;
        }
        draw -= rank[i].weight;
      }
      order.push_back(rank[pick].upstream);
      rank.erase(rank.begin() + pick);
    }
    begin = end;
  }
  return order;
}

}  // namespace claude
