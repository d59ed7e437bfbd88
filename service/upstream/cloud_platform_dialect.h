// What Claude on a cloud platform (Google Cloud Vertex AI, Amazon Bedrock) shares as a
// Dialect: the platform names the model in the URL, so the upstreams file's model map is
// applied here (not by ModelMappingDialect); the body is the Messages API's without "model",
// with the platform's "anthropic_version" member; requests are signed by the platform's
// signer; unary replies are the Messages API's; and the platform lists no models, so the
// server answers ListModels and GetModel from its routes. Subclasses build the URL and read
// the platform's streams and errors.
#ifndef SERVICE_UPSTREAM_CLOUD_PLATFORM_DIALECT_H_
#define SERVICE_UPSTREAM_CLOUD_PLATFORM_DIALECT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "service/upstream/dialect.h"
#include "service/upstream/transport.h"

namespace claude {

class CloudPlatformDialect : public Dialect {
 public:
  ~CloudPlatformDialect() override;

  // UNIMPLEMENTED: the server's routes answer them.
  absl::StatusOr<HttpRequest> ListModels(const claude::v1::ListModelsRequest& request,
                                         const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> GetModel(const claude::v1::GetModelRequest& request,
                                       const HttpHeaders& forwarded) const override;
  // Read as MessagesDialect reads them.
  absl::Status DecodeReply(absl::string_view body,
                           google::protobuf::Message* response) const override;

 protected:
  struct Platform {
    std::string display_name;       // "Vertex AI", for the statuses that name it
    std::string anthropic_version;  // the body's "anthropic_version"
    // The caller's model name -> the platform's model id; a name not listed is sent as is.
    std::vector<std::pair<std::string, std::string>> models;
    std::shared_ptr<RequestSigner> signer;  // may be null (no credentials)
    size_t max_event_bytes = 16 << 20;      // of the Messages API's SSE events, where used
  };
  explicit CloudPlatformDialect(Platform platform);

  // The platform's model id for the caller's `model`.
  const std::string& UpstreamModel(const std::string& model) const;
  // "\"anthropic_version\":\"<the platform's>\"", a raw JSON member for the body.
  const std::string& version_member() const { return version_member_; }
  // A POST of the JSON `body` to `url` with `headers`, signed by the platform's signer.
  HttpRequest Post(std::string url, std::string body, const HttpHeaders& headers) const;
  // The Messages dialect, for what the platform sends in the Messages API's own form.
  const Dialect& messages() const { return *messages_; }

 private:
  const std::string display_name_;
  const std::string version_member_;
  const absl::flat_hash_map<std::string, std::string> model_map_;
  const std::shared_ptr<RequestSigner> signer_;
  const std::unique_ptr<Dialect> messages_;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_CLOUD_PLATFORM_DIALECT_H_
