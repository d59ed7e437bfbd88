#include "service/rpc/route_models.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace claude {
namespace {

constexpr int64_t kDefaultPageSize = 20;  // the API's

// Exact route names, in file order, each once.
std::vector<std::string> ExactModels(const RouteTable& routes) {
  std::vector<std::string> models;
  absl::flat_hash_set<std::string> seen;
  for (const RouteConfig& route : routes.routes()) {
    if (absl::EndsWith(route.model, "*")) continue;
    if (seen.insert(route.model).second) models.push_back(route.model);
  }
  return models;
}

void FillInfo(const std::string& model, claude::v1::ModelInfo* info) {
  info->set_id(model);
  info->set_type("model");
  info->set_display_name(model);
}

}  // namespace

absl::Status ListRouteModels(const RouteTable& routes, const claude::v1::ListModelsRequest& request,
                             claude::v1::ListModelsResponse* response) {
  const std::vector<std::string> models = ExactModels(routes);
  const auto position = [&](const std::string& id,
                            absl::string_view field) -> absl::StatusOr<size_t> {
    const auto it = std::find(models.begin(), models.end(), id);
    if (it == models.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": \"", id, "\" is not a model of the server's routes"));
    }
    return static_cast<size_t>(it - models.begin());
  };
  const size_t limit = static_cast<size_t>(
      std::clamp<int64_t>(request.has_limit() ? request.limit() : kDefaultPageSize, 1,
                          static_cast<int64_t>(models.size()) + 1));
  size_t begin = 0;
  size_t end = models.size();
  if (request.has_before_id()) {
    absl::StatusOr<size_t> before = position(request.before_id(), "before_id");
    if (!before.ok()) return before.status();
    end = *before;
    begin = end > limit ? end - limit : 0;
    response->set_has_more(begin > 0);
  } else {
    if (request.has_after_id()) {
      absl::StatusOr<size_t> after = position(request.after_id(), "after_id");
      if (!after.ok()) return after.status();
      begin = *after + 1;
    }
    end = std::min(models.size(), begin + limit);
    response->set_has_more(end < models.size());
  }
  for (size_t i = begin; i < end; ++i) FillInfo(models[i], response->add_data());
  if (begin < end) {
    response->set_first_id(models[begin]);
    response->set_last_id(models[end - 1]);
  }
  return absl::OkStatus();
}

bool DescribeRouteModel(const RouteTable& routes, absl::string_view model,
                        claude::v1::ModelInfo* info) {
  for (const RouteConfig& route : routes.routes()) {
    if (route.model == model && !absl::EndsWith(route.model, "*")) {
      FillInfo(route.model, info);
      return true;
    }
  }
  return false;
}

}  // namespace claude
