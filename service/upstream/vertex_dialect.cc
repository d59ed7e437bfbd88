#include "service/upstream/vertex_dialect.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"
#include "service/upstream/cloud_request_body.h"
#include "service/upstream/messages_api_error.h"
#include "service/upstream/url_escape.h"

namespace claude {
namespace {

// Google's canonical error status -> the Messages API's error type of the same meaning.
std::string ErrorTypeForGoogleStatus(absl::string_view status) {
  static constexpr std::pair<absl::string_view, absl::string_view> kTable[] = {
      {"INVALID_ARGUMENT", "invalid_request_error"}, {"FAILED_PRECONDITION", "invalid_request_error"},
      {"OUT_OF_RANGE", "invalid_request_error"},     {"UNAUTHENTICATED", "authentication_error"},
      {"PERMISSION_DENIED", "permission_error"},     {"NOT_FOUND", "not_found_error"},
      {"RESOURCE_EXHAUSTED", "rate_limit_error"},    {"UNAVAILABLE", "overloaded_error"},
      {"DEADLINE_EXCEEDED", "timeout_error"},        {"INTERNAL", "api_error"},
  };
  for (const auto& [google, api] : kTable) {
    if (google == status) return std::string(api);
  }
  return "";
}

std::string StringMember(const google::protobuf::Struct& object, const std::string& name) {
  const auto it = object.fields().find(name);
  if (it == object.fields().end() || !it->second.has_string_value()) return "";
  return it->second.string_value();
}

}  // namespace

std::string VertexEndpoint(absl::string_view region) {
  if (region == "global") return "https://aiplatform.googleapis.com";
  return absl::StrCat("https://", region, "-aiplatform.googleapis.com");
}

UpstreamError ReadVertexError(int http_status, absl::string_view body) {
  // Google's shape: {"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED"}},
  // sometimes as the only element of an array.
  google::protobuf::Value parsed;
  if (google::protobuf::util::JsonStringToMessage(std::string(body), &parsed).ok()) {
    const google::protobuf::Value* root = &parsed;
    if (root->has_list_value() && root->list_value().values_size() == 1) {
      root = &root->list_value().values(0);
    }
    if (root->has_struct_value()) {
      const auto error_it = root->struct_value().fields().find("error");
      if (error_it != root->struct_value().fields().end() && error_it->second.has_struct_value()) {
        const google::protobuf::Struct& error = error_it->second.struct_value();
        const std::string status = StringMember(error, "status");
        if (!status.empty()) {
          UpstreamError out;
          out.http_status = http_status;
          out.body = std::string(body);
          out.type = ErrorTypeForGoogleStatus(status);
          out.code = status;
          out.message = StringMember(error, "message");
          if (const auto details = error.fields().find("details"); details != error.fields().end()) {
            std::string json;
            if (google::protobuf::util::MessageToJsonString(details->second, &json).ok()) {
              out.details_json = std::move(json);
            }
          }
          return out;
        }
      }
    }
  }
  return ReadMessagesApiError(http_status, body);
}

VertexDialect::VertexDialect(VertexDialectOptions options)
    : CloudPlatformDialect(Platform{"Vertex AI", kVertexAnthropicVersion, std::move(options.models),
                                    std::move(options.signer), options.max_event_bytes}),
      models_url_(absl::StrCat(options.base_url, "/v1/projects/", UrlEscape(options.project),
                               "/locations/", UrlEscape(options.region),
                               "/publishers/anthropic/models")) {}

HttpRequest VertexDialect::PostToModel(absl::string_view model, absl::string_view method,
                                       std::string body, const HttpHeaders& forwarded) const {
  // '@' separates a Vertex model's version ("claude-sonnet-4-5@20250929") and is legal in a
  // path; ':' is not kept, since it starts the method.
  return Post(absl::StrCat(models_url_, "/", UrlEscape(model, "@"), ":", method), std::move(body),
              forwarded);
}

absl::StatusOr<HttpRequest> VertexDialect::CreateMessage(const claude::v1::CreateMessageRequest& request,
                                                         bool stream, const HttpHeaders& forwarded) const {
  std::string members = version_member();
  if (stream) members += ",\"stream\":true";
  absl::StatusOr<std::string> body = BodyWithModelReplaced(request, request.model(), members);
  if (!body.ok()) return body.status();
  HttpRequest http =
      PostToModel(UpstreamModel(request.model()), stream ? "streamRawPredict" : "rawPredict",
                  *std::move(body), forwarded);
  if (stream) http.headers.emplace_back("accept", "text/event-stream");
  return http;
}

absl::StatusOr<HttpRequest> VertexDialect::CountTokens(const claude::v1::CountTokensRequest& request,
                                                       const HttpHeaders& forwarded) const {
  // The URL names no model here, so the body keeps it (Vertex's id for it).
  std::string members = "\"model\":";
  AppendJsonString(UpstreamModel(request.model()), &members);
  absl::StrAppend(&members, ",", version_member());
  absl::StatusOr<std::string> body = BodyWithModelReplaced(request, request.model(), members);
  if (!body.ok()) return body.status();
  return PostToModel("count-tokens", "rawPredict", *std::move(body), forwarded);
}

std::unique_ptr<EventDecoder> VertexDialect::NewEventDecoder() const {
  return messages().NewEventDecoder();
}

UpstreamError VertexDialect::ReadError(int http_status, absl::string_view body,
                                       const HttpHeaders& /*headers*/) const {
  return ReadVertexError(http_status, body);
}

}  // namespace claude
