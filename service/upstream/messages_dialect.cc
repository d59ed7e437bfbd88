#include "service/upstream/messages_dialect.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "service/codec/json_mapping.h"
#include "service/codec/split_character_joiner.h"
#include "service/sse/sse_parser.h"
#include "service/upstream/api_key_signer.h"
#include "service/upstream/messages_api_error.h"
#include "service/upstream/url_escape.h"

namespace claude {
namespace {

class MessagesEventDecoder final : public EventDecoder {
 public:
  explicit MessagesEventDecoder(size_t max_event_bytes) : parser_(max_event_bytes) {}

  absl::Status Feed(absl::string_view chunk, Emit emit) override {
    absl::Status emitted;  // what `emit` said, returned as is
    absl::Status parsed = parser_.Feed(std::string_view(chunk.data(), chunk.size()), [&](const SseEvent& sse) {
      // The joiner may emit a U+FFFD delta before the event (half a character left over).
      return joiner_.Decode(absl::string_view(sse.data.data(), sse.data.size()),
                            [&](claude::v1::MessageStreamEvent event) {
                              if (event.has_message_stop()) saw_message_stop_ = true;
                              emitted = emit(std::move(event));
                              return emitted;
                            });
    });
    if (!emitted.ok()) return emitted;
    // An event that is no JSON event, or one larger than max_event_bytes.
    if (!parsed.ok()) return absl::InternalError(parsed.message());
    return absl::OkStatus();
  }

  absl::Status Finish(Emit /*emit*/) override {
    if (parser_.HasPartialEvent()) return absl::UnavailableError("upstream stream ended mid-event, before message_stop");
    if (!saw_message_stop_) return absl::UnavailableError("upstream stream ended before message_stop");
    return absl::OkStatus();
  }

 private:
  SseParser parser_;
  SplitCharacterJoiner joiner_;  // characters split across two deltas
  bool saw_message_stop_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MessagesDialect>> MessagesDialect::Create(MessagesDialectOptions options) {
  absl::StatusOr<ApiKeyScheme> scheme = ParseApiKeyScheme(options.auth_scheme);
  if (!scheme.ok()) return scheme.status();
  std::shared_ptr<RequestSigner> signer;
  if (options.api_key != nullptr) signer = std::make_shared<ApiKeySigner>(std::move(options.api_key), *scheme);
  std::string base_url = std::move(options.base_url);
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  return std::unique_ptr<MessagesDialect>(new MessagesDialect(
      std::move(base_url), std::move(options.anthropic_version), std::move(signer), options.max_event_bytes));
}

MessagesDialect::MessagesDialect(std::string base_url, std::string anthropic_version,
                                 std::shared_ptr<RequestSigner> signer, size_t max_event_bytes)
    : base_url_(std::move(base_url)),
      anthropic_version_(std::move(anthropic_version)),
      signer_(std::move(signer)),
      max_event_bytes_(max_event_bytes) {}

HttpRequest MessagesDialect::Request(const char* method, absl::string_view path,
                                     const HttpHeaders& forwarded) const {
  HttpRequest request;
  request.method = method;
  request.url = absl::StrCat(base_url_, path);
  request.headers.emplace_back("anthropic-version", anthropic_version_);
  request.headers.insert(request.headers.end(), forwarded.begin(), forwarded.end());
  request.signer = signer_;
  return request;
}

absl::StatusOr<HttpRequest> MessagesDialect::CreateMessage(const claude::v1::CreateMessageRequest& request,
                                                           bool stream, const HttpHeaders& forwarded) const {
  HttpRequest http = Request("POST", "/v1/messages", forwarded);
  http.body = std::make_shared<const std::string>(CreateMessageBody(request, stream));
  if (stream) http.headers.emplace_back("accept", "text/event-stream");
  return http;
}

absl::StatusOr<HttpRequest> MessagesDialect::CountTokens(const claude::v1::CountTokensRequest& request,
                                                         const HttpHeaders& forwarded) const {
  HttpRequest http = Request("POST", "/v1/messages/count_tokens", forwarded);
  http.body = std::make_shared<const std::string>(MessageToJsonString(request));
  return http;
}

absl::StatusOr<HttpRequest> MessagesDialect::ListModels(const claude::v1::ListModelsRequest& request,
                                                        const HttpHeaders& forwarded) const {
  std::vector<std::string> query;
  if (request.has_before_id()) query.push_back("before_id=" + UrlEscape(request.before_id()));
  if (request.has_after_id()) query.push_back("after_id=" + UrlEscape(request.after_id()));
  if (request.has_limit()) query.push_back(absl::StrCat("limit=", request.limit()));
  return Request("GET", query.empty() ? "/v1/models" : "/v1/models?" + absl::StrJoin(query, "&"), forwarded);
}

absl::StatusOr<HttpRequest> MessagesDialect::GetModel(const claude::v1::GetModelRequest& request,
                                                      const HttpHeaders& forwarded) const {
  return Request("GET", "/v1/models/" + UrlEscape(request.model_id()), forwarded);
}

std::unique_ptr<EventDecoder> MessagesDialect::NewEventDecoder() const {
  return std::make_unique<MessagesEventDecoder>(max_event_bytes_);
}

absl::Status MessagesDialect::DecodeReply(absl::string_view body, google::protobuf::Message* response) const {
  if (absl::Status s = JsonToMessage(body, response); !s.ok()) return absl::InternalError(s.message());
  return absl::OkStatus();
}

UpstreamError MessagesDialect::ReadError(int http_status, absl::string_view body,
                                         const HttpHeaders& /*headers*/) const {
  return ReadMessagesApiError(http_status, body);
}

}  // namespace claude
