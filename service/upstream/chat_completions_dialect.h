// The `chat_completions` dialect: claude.v1 served by an upstream that speaks OpenAI's Chat
// Completions API (`POST /v1/chat/completions`, `GET /v1/models`), such as an OpenAI-compatible
// gateway in front of Claude. Callers of claude.v1 cannot tell it from the Messages dialect:
// requests are translated field by field (what the API cannot express is refused with
// INVALID_ARGUMENT naming the field, never dropped), replies and streams come back as the
// Message and the event sequence a Messages upstream would have sent. README.md has the table.
#ifndef SERVICE_UPSTREAM_CHAT_COMPLETIONS_DIALECT_H_
#define SERVICE_UPSTREAM_CHAT_COMPLETIONS_DIALECT_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/config/api_key_source.h"
#include "service/upstream/dialect.h"
#include "service/upstream/transport.h"

namespace claude {

// How a request's extended thinking reaches the upstream (--chat_thinking).
enum class ChatThinking {
  kModelSuffix,      // the model name gains "-thinking" (the gateway's convention)
  kReasoningEffort,  // "reasoning_effort": low / medium / high
  kOff,              // thinking is refused
};

// "model_suffix", "reasoning_effort" or "off".
absl::StatusOr<ChatThinking> ParseChatThinking(absl::string_view name);

struct ChatCompletionsOptions {
  // The upstream (e.g. "https://gateway.example/openai"); paths such as /v1/chat/completions
  // are appended. Trailing slashes are ignored.
  std::string base_url;
  // "bearer" (Authorization: Bearer, the API's way) or "x-api-key" (--upstream_auth).
  std::string auth_scheme = "bearer";
  std::shared_ptr<ApiKeySource> api_key;  // may be null: requests carry no credentials
  ChatThinking thinking = ChatThinking::kModelSuffix;
  // Largest single SSE event of a stream.
  size_t max_event_bytes = 16 << 20;
};

class ChatCompletionsDialect final : public Dialect {
 public:
  // INVALID_ARGUMENT for an unknown auth_scheme.
  static absl::StatusOr<std::unique_ptr<ChatCompletionsDialect>> Create(
      ChatCompletionsOptions options);
  // Requests go to `options.base_url` signed by `signer` (null: unsigned); the key options are
  // not used.
  explicit ChatCompletionsDialect(ChatCompletionsOptions options = {},
                                  std::shared_ptr<RequestSigner> signer = nullptr);

  absl::string_view name() const override { return "chat_completions"; }

  absl::StatusOr<HttpRequest> CreateMessage(const claude::v1::CreateMessageRequest& request,
                                            bool stream,
                                            const HttpHeaders& forwarded) const override;
  // UNIMPLEMENTED: the Chat Completions API has no token counting.
  absl::StatusOr<HttpRequest> CountTokens(const claude::v1::CountTokensRequest& request,
                                          const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> ListModels(const claude::v1::ListModelsRequest& request,
                                         const HttpHeaders& forwarded) const override;
  absl::StatusOr<HttpRequest> GetModel(const claude::v1::GetModelRequest& request,
                                       const HttpHeaders& forwarded) const override;

  std::unique_ptr<EventDecoder> NewEventDecoder() const override;
  absl::Status DecodeReply(absl::string_view body,
                           google::protobuf::Message* response) const override;
  // Reads the gateway's body ({"success":false,"error":{"code","message"},"trace_id"}), OpenAI's
  // ({"error":{"type","code","message"}}: both type and code) and the Messages API's.
  UpstreamError ReadError(int http_status, absl::string_view body,
                          const HttpHeaders& headers) const override;

 private:
  // A request to base_url + `path`, with `forwarded` and the signer.
  HttpRequest Request(const char* method, const std::string& path,
                      const HttpHeaders& forwarded) const;

  const ChatCompletionsOptions options_;
  const std::shared_ptr<RequestSigner> signer_;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_CHAT_COMPLETIONS_DIALECT_H_
