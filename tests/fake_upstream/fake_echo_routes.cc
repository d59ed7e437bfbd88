#include "tests/fake_upstream/fake_echo_routes.h"

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "tests/fake_upstream/fake_chat_completions.h"
#include "tests/fake_upstream/fake_cloud_echo.h"
#include "tests/fake_upstream/fake_messages_echo.h"

namespace claude::testing {

EchoAnswer EchoRoute(const RecordedRequest& request, int n, const EchoSettings& settings) {
  absl::string_view route = request.path;
  route = route.substr(0, route.find('?'));
  const std::string& method = request.method;
  constexpr absl::string_view kVertexModels = "/publishers/anthropic/models/";
  if (method == "POST" && route == "/v1/chat/completions")
    return ChatCompletionsEcho(request.body, n);
  if (method == "GET" && settings.chat_completions_models &&
      absl::StartsWith(route, "/v1/models")) {
    absl::string_view id = route.substr(std::strlen("/v1/models"));
    if (!id.empty() && id[0] != '/') id = "?";  // neither the list nor a model: not found
    return ChatModelsEcho(absl::StripPrefix(id, "/"));
  }
  if (method == "POST" && absl::StartsWith(route, "/v1/projects/") &&
      absl::StrContains(route, kVertexModels)) {
    return VertexEcho(request, n, route.substr(route.find(kVertexModels) + kVertexModels.size()),
                      settings.cloud);
  }
  if (method == "POST" && absl::StartsWith(route, "/model/")) {
    return BedrockEcho(request, n, route.substr(std::strlen("/model/")), settings.cloud);
  }
  if (method == "POST" && route == "/v1/messages")
    return MessagesEcho(request.body, n, /*count_tokens=*/false);
  if (method == "POST" && route == "/v1/messages/count_tokens") {
    return MessagesEcho(request.body, n, /*count_tokens=*/true);
  }
  if (method == "GET" && route == "/v1/models") return ModelListEcho();
  if (method == "GET" && absl::StartsWith(route, "/v1/models/")) {
    return ModelEcho(route.substr(std::strlen("/v1/models/")), n);
  }
  return {404,
          "application/json",
          ApiErrorBody("not_found_error", absl::StrCat("Not found: ", method, " ", route), n),
          {}};
}

}  // namespace claude::testing
