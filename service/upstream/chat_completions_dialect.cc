#include "service/upstream/chat_completions_dialect.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/upstream/api_key_signer.h"
#include "service/upstream/chat_completions_internal.h"
#include "service/upstream/messages_api_error.h"
#include "service/upstream/url_escape.h"

namespace claude {

absl::StatusOr<std::unique_ptr<ChatCompletionsDialect>> ChatCompletionsDialect::Create(
    ChatCompletionsOptions options) {
  absl::StatusOr<ApiKeyScheme> scheme = ParseApiKeyScheme(options.auth_scheme);
  if (!scheme.ok()) return scheme.status();
  std::shared_ptr<RequestSigner> signer;
  if (options.api_key != nullptr) signer = std::make_shared<ApiKeySigner>(options.api_key, *scheme);
  return std::make_unique<ChatCompletionsDialect>(std::move(options), std::move(signer));
}

ChatCompletionsDialect::ChatCompletionsDialect(ChatCompletionsOptions options,
                                               std::shared_ptr<RequestSigner> signer)
    : options_([&] {
        while (!options.base_url.empty() && options.base_url.back() == '/') {
          options.base_url.pop_back();
        }
        return std::move(options);
      }()),
      signer_(std::move(signer)) {}

// The caller's forwarded metadata (traceparent, anthropic-beta) is sent on as it came; a
// gateway in front of Claude may honour it.
HttpRequest ChatCompletionsDialect::Request(const char* method, const std::string& path,
                                            const HttpHeaders& forwarded) const {
  HttpRequest request;
  request.method = method;
  request.url = options_.base_url + path;
  request.headers = forwarded;
  request.signer = signer_;
  return request;
}

absl::StatusOr<ChatThinking> ParseChatThinking(absl::string_view name) {
  if (name == "model_suffix") return ChatThinking::kModelSuffix;
  if (name == "reasoning_effort") return ChatThinking::kReasoningEffort;
  if (name == "off") return ChatThinking::kOff;
  return absl::InvalidArgumentError(absl::StrCat(
      "--chat_thinking must be model_suffix, reasoning_effort or off, got \"", name, "\""));
}

absl::StatusOr<HttpRequest> ChatCompletionsDialect::CreateMessage(
    const claude::v1::CreateMessageRequest& request, bool stream,
    const HttpHeaders& forwarded) const {
  absl::StatusOr<std::string> body =
      chat_completions::RequestBody(request, stream, options_.thinking);
  if (!body.ok()) return body.status();
  HttpRequest http = Request("POST", "/v1/chat/completions", forwarded);
  http.headers.emplace_back("content-type", "application/json");
  if (stream) http.headers.emplace_back("accept", "text/event-stream");
  http.body = std::make_shared<const std::string>(*std::move(body));
  return http;
}

absl::StatusOr<HttpRequest> ChatCompletionsDialect::CountTokens(
    const claude::v1::CountTokensRequest&, const HttpHeaders&) const {
  return absl::UnimplementedError(
      "CountTokens: the upstream speaks the chat_completions dialect, which has no token counting");
}

absl::StatusOr<HttpRequest> ChatCompletionsDialect::ListModels(
    const claude::v1::ListModelsRequest& request, const HttpHeaders& forwarded) const {
  // OpenAI's list comes whole, in one page: there is nothing to page through. `limit` is a
  // bound the whole list is assumed to respect (clients send a large one by default).
  if (request.has_before_id()) {
    return absl::InvalidArgumentError(
        "before_id: the chat_completions upstream's model list has no pages");
  }
  if (request.has_after_id()) {
    return absl::InvalidArgumentError(
        "after_id: the chat_completions upstream's model list has no pages");
  }
  return Request("GET", "/v1/models", forwarded);
}

absl::StatusOr<HttpRequest> ChatCompletionsDialect::GetModel(
    const claude::v1::GetModelRequest& request, const HttpHeaders& forwarded) const {
  return Request("GET", "/v1/models/" + UrlEscape(request.model_id()), forwarded);
}

std::unique_ptr<EventDecoder> ChatCompletionsDialect::NewEventDecoder() const {
  return chat_completions::NewEventDecoder(options_.max_event_bytes);
}

absl::Status ChatCompletionsDialect::DecodeReply(absl::string_view body,
                                                 google::protobuf::Message* response) const {
  const google::protobuf::Descriptor* type = response->GetDescriptor();
  if (type == claude::v1::Message::descriptor()) {
    return chat_completions::DecodeMessage(body, static_cast<claude::v1::Message*>(response));
  }
  if (type == claude::v1::ListModelsResponse::descriptor()) {
    return chat_completions::DecodeModelList(
        body, static_cast<claude::v1::ListModelsResponse*>(response));
  }
  if (type == claude::v1::ModelInfo::descriptor()) {
    return chat_completions::DecodeModel(body, static_cast<claude::v1::ModelInfo*>(response));
  }
  return absl::InternalError(
      absl::StrCat("the chat_completions dialect has no reply of type ", type->full_name()));
}

UpstreamError ChatCompletionsDialect::ReadError(int http_status, absl::string_view body,
                                                const HttpHeaders&) const {
  // The gateway's shape and the Messages API's are read as the Messages dialect reads them
  // (trace_id is the request id, error.code the type when there is no error.type).
  UpstreamError error = ReadMessagesApiError(http_status, body);
  // OpenAI's shape has both: error.type, read above, and error.code, a second classifier.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object root, error_object;
  if (error.type.empty() || parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS ||
      root["error"].get(error_object) != simdjson::SUCCESS) {
    return error;
  }
  std::string type, message;
  chat_completions::ReadErrorObject(error_object, &type, &error.code, &message);
  return error;
}

}  // namespace claude
