// The upstreams file's model map for dialects that have none of their own (messages,
// chat_completions): a Dialect that replaces the caller's model name with the upstream's id
// before the wrapped dialect builds the request, and otherwise delegates everything. Vertex
// and Bedrock take the map themselves, since their URL names the model.
#ifndef SERVICE_UPSTREAM_MODEL_MAPPING_DIALECT_H_
#define SERVICE_UPSTREAM_MODEL_MAPPING_DIALECT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "service/upstream/forwarding_dialect.h"

namespace claude {

class ModelMappingDialect final : public ForwardingDialect {
 public:
  // `models`: the caller's model name -> the upstream's id; names not listed are sent as is.
  ModelMappingDialect(std::shared_ptr<const Dialect> wrapped,
                      const std::vector<std::pair<std::string, std::string>>& models);

  // The requests that name a model, with it replaced (a copy, made only when the map names
  // it); every other method is forwarded as it is.
  absl::StatusOr<HttpRequest> CreateMessage(const claude::v1::CreateMessageRequest& request,
                                            bool stream,
                                            const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> CountTokens(const claude::v1::CountTokensRequest& request,
                                          const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> GetModel(const claude::v1::GetModelRequest& request,
                                       const HttpHeaders& forwarded) const override;

 private:
  // The upstream's id for `model`, or null when the map does not name it.
  const std::string* Mapped(const std::string& model) const;
  // `request` itself, or, when the map names its model, `*renamed`: a copy naming the
  // upstream's id.
  template <typename Request>
  const Request& WithModelMapped(const Request& request, Request* renamed) const;

  const absl::flat_hash_map<std::string, std::string> models_;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_MODEL_MAPPING_DIALECT_H_
