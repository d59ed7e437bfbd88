#include "service/upstream/cloud_platform_dialect.h"

#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"
#include "service/upstream/messages_dialect.h"

namespace claude {
namespace {

std::string VersionMember(absl::string_view anthropic_version) {
  std::string member = "\"anthropic_version\":";
  AppendJsonString(anthropic_version, &member);
  return member;
}

std::unique_ptr<Dialect> MessagesReader(size_t max_event_bytes) {
  MessagesDialectOptions options;
  options.max_event_bytes = max_event_bytes;
  return std::move(MessagesDialect::Create(std::move(options)).value());
}

}  // namespace

CloudPlatformDialect::CloudPlatformDialect(Platform platform)
    : display_name_(std::move(platform.display_name)),
      version_member_(VersionMember(platform.anthropic_version)),
      model_map_(platform.models.begin(), platform.models.end()),
      signer_(std::move(platform.signer)),
      messages_(MessagesReader(platform.max_event_bytes)) {}

CloudPlatformDialect::~CloudPlatformDialect() = default;

absl::StatusOr<HttpRequest> CloudPlatformDialect::ListModels(const claude::v1::ListModelsRequest&,
                                                             const HttpHeaders&) const {
  return absl::UnimplementedError(
      absl::StrCat(display_name_, " lists no Claude models; the server's routes do"));
}

absl::StatusOr<HttpRequest> CloudPlatformDialect::GetModel(const claude::v1::GetModelRequest&,
                                                           const HttpHeaders&) const {
  return absl::UnimplementedError(
      absl::StrCat(display_name_, " describes no Claude models; the server's routes do"));
}

absl::Status CloudPlatformDialect::DecodeReply(absl::string_view body,
                                               google::protobuf::Message* response) const {
  return messages_->DecodeReply(body, response);
}

const std::string& CloudPlatformDialect::UpstreamModel(const std::string& model) const {
  const auto it = model_map_.find(model);
  return it == model_map_.end() ? model : it->second;
}

HttpRequest CloudPlatformDialect::Post(std::string url, std::string body,
                                       const HttpHeaders& headers) const {
  HttpRequest http;
  http.method = "POST";
  http.url = std::move(url);
  http.headers.emplace_back("content-type", "application/json");
  http.headers.insert(http.headers.end(), headers.begin(), headers.end());
  http.body = std::make_shared<const std::string>(std::move(body));
  http.signer = signer_;
  return http;
}

}  // namespace claude
