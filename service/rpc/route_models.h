// claude.v1.Models answered from the upstreams file's routes: with several upstreams (some of
// which, Vertex AI and Bedrock, list no models at all), the models the server serves are the
// ones its routes name. A prefix route ("claude-*") names no model of its own, so ListModels
// leaves it out; GetModel of a name only a prefix route matches goes to that route's upstreams.
#ifndef SERVICE_RPC_ROUTE_MODELS_H_
#define SERVICE_RPC_ROUTE_MODELS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "claude/v1/models.pb.h"
#include "service/routing/route_table.h"

namespace claude {

// The routes' exact model names, in file order, one page of them as the API pages
// (`after_id`, `before_id`, `limit` with the API's default of 20). An `after_id` or
// `before_id` that is not one of them: INVALID_ARGUMENT naming the field.
absl::Status ListRouteModels(const RouteTable& routes, const claude::v1::ListModelsRequest& request,
                             claude::v1::ListModelsResponse* response);

// True, with `info` filled (id and display name: the model's name; type "model"), when an
// exact route names `model`.
bool DescribeRouteModel(const RouteTable& routes, absl::string_view model,
                        claude::v1::ModelInfo* info);

}  // namespace claude

#endif  // SERVICE_RPC_ROUTE_MODELS_H_
