#include "service/upstream/messages_dialect.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/codec/json_mapping.h"
#include "common/codec/split_character_joiner.h"
#include "service/sse/sse_parser.h"
#include "service/upstream/api_key_signer.h"
#include "service/upstream/messages_api_error.h"
#include "service/upstream/url_escape.h"

namespace claude {
namespace {

// `collection` with the API's pagination query (before_id, after_id, limit) of `request`.
template <typename PageRequest>
std::string PagePath(absl::string_view collection, const PageRequest& request) {
  std::vector<std::string> query;
  if (request.has_before_id()) query.push_back("before_id=" + UrlEscape(request.before_id()));
  if (request.has_after_id()) query.push_back("after_id=" + UrlEscape(request.after_id()));
  if (request.has_limit()) query.push_back(absl::StrCat("limit=", request.limit()));
  if (query.empty()) return std::string(collection);
  return absl::StrCat(collection, "?", absl::StrJoin(query, "&"));
}

// The path of the batch `message_batch_id`, with `suffix` ("/cancel") after it.
std::string BatchPath(absl::string_view message_batch_id, absl::string_view suffix = "") {
  return absl::StrCat("/v1/messages/batches/", UrlEscape(message_batch_id), suffix);
}

// "scheme://authority" of an absolute URL; empty when it has none.
absl::string_view OriginOf(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return {};
  const size_t path = url.find_first_of("/?#", scheme_end + 3);
  return url.substr(0, path);
}

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

HttpRequest MessagesDialect::Post(absl::string_view path, std::string body,
                                  const HttpHeaders& forwarded) const {
  HttpRequest request = Request("POST", path, forwarded);
  request.body = std::make_shared<const std::string>(std::move(body));
  return request;
}

absl::StatusOr<HttpRequest> MessagesDialect::CreateMessage(const claude::v1::CreateMessageRequest& request,
                                                           bool stream, const HttpHeaders& forwarded) const {
  HttpRequest http = Post("/v1/messages", CreateMessageBody(request, stream), forwarded);
  if (stream) http.headers.emplace_back("accept", "text/event-stream");
  return http;
}

absl::StatusOr<HttpRequest> MessagesDialect::CountTokens(const claude::v1::CountTokensRequest& request,
                                                         const HttpHeaders& forwarded) const {
  return Post("/v1/messages/count_tokens", MessageToJsonString(request), forwarded);
}

absl::StatusOr<HttpRequest> MessagesDialect::ListModels(const claude::v1::ListModelsRequest& request,
                                                        const HttpHeaders& forwarded) const {
  return Request("GET", PagePath("/v1/models", request), forwarded);
}

absl::StatusOr<HttpRequest> MessagesDialect::GetModel(const claude::v1::GetModelRequest& request,
                                                      const HttpHeaders& forwarded) const {
  return Request("GET", "/v1/models/" + UrlEscape(request.model_id()), forwarded);
}

absl::StatusOr<HttpRequest> MessagesDialect::CreateMessageBatch(const claude::v1::CreateMessageBatchRequest& request,
                                                                const HttpHeaders& forwarded) const {
  return Post("/v1/messages/batches", MessageToJsonString(request), forwarded);
}

absl::StatusOr<HttpRequest> MessagesDialect::GetMessageBatch(const claude::v1::GetMessageBatchRequest& request,
                                                             const HttpHeaders& forwarded) const {
  return Request("GET", BatchPath(request.message_batch_id()), forwarded);
}

absl::StatusOr<HttpRequest> MessagesDialect::ListMessageBatches(const claude::v1::ListMessageBatchesRequest& request,
                                                                const HttpHeaders& forwarded) const {
  return Request("GET", PagePath("/v1/messages/batches", request), forwarded);
}

absl::StatusOr<HttpRequest> MessagesDialect::CancelMessageBatch(const claude::v1::CancelMessageBatchRequest& request,
                                                                const HttpHeaders& forwarded) const {
  return Post(BatchPath(request.message_batch_id(), "/cancel"), /*body=*/"", forwarded);
}

absl::StatusOr<HttpRequest> MessagesDialect::DeleteMessageBatch(const claude::v1::DeleteMessageBatchRequest& request,
                                                                const HttpHeaders& forwarded) const {
  return Request("DELETE", BatchPath(request.message_batch_id()), forwarded);
}

absl::StatusOr<HttpRequest> MessagesDialect::MessageBatchResults(absl::string_view results_url,
                                                                 const HttpHeaders& forwarded) const {
  // The request carries the upstream's key: only ever to the upstream's own origin, and only a
  // URL of visible ASCII (no header or request-line injection through it).
  const absl::string_view origin = OriginOf(base_url_);
  const bool printable = std::all_of(results_url.begin(), results_url.end(),
                                     [](char c) { return c > ' ' && c < 0x7f; });
  if (origin.empty() || !printable || !absl::StartsWith(results_url, origin) ||
      results_url.size() == origin.size() || results_url[origin.size()] != '/') {
    return absl::InternalError(
        "the upstream's results_url is not on the upstream's origin; refusing to send it the key");
  }
  HttpRequest http = Request("GET", "", forwarded);
  http.url = std::string(results_url);
  return http;
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
