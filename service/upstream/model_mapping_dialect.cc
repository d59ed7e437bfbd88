#include "service/upstream/model_mapping_dialect.h"

namespace claude {

ModelMappingDialect::ModelMappingDialect(
    std::shared_ptr<const Dialect> wrapped,
    const std::vector<std::pair<std::string, std::string>>& models)
    : ForwardingDialect(std::move(wrapped)), models_(models.begin(), models.end()) {}

const std::string* ModelMappingDialect::Mapped(const std::string& model) const {
  const auto it = models_.find(model);
  return it == models_.end() ? nullptr : &it->second;
}

template <typename Request>
const Request& ModelMappingDialect::WithModelMapped(const Request& request,
                                                    Request* renamed) const {
  const std::string* model = Mapped(request.model());
  if (model == nullptr) return request;
  *renamed = request;
  renamed->set_model(*model);
  return *renamed;
}

absl::StatusOr<HttpRequest> ModelMappingDialect::CreateMessage(
    const claude::v1::CreateMessageRequest& request, bool stream,
    const HttpHeaders& forwarded) const {
  claude::v1::CreateMessageRequest renamed;
  return wrapped().CreateMessage(WithModelMapped(request, &renamed), stream, forwarded);
}

absl::StatusOr<HttpRequest> ModelMappingDialect::CountTokens(
    const claude::v1::CountTokensRequest& request, const HttpHeaders& forwarded) const {
  claude::v1::CountTokensRequest renamed;
  return wrapped().CountTokens(WithModelMapped(request, &renamed), forwarded);
}

absl::StatusOr<HttpRequest> ModelMappingDialect::GetModel(
    const claude::v1::GetModelRequest& request, const HttpHeaders& forwarded) const {
  const std::string* model = Mapped(request.model_id());
  if (model == nullptr) return wrapped().GetModel(request, forwarded);
  claude::v1::GetModelRequest renamed = request;
  renamed.set_model_id(*model);
  return wrapped().GetModel(renamed, forwarded);
}

}  // namespace claude
