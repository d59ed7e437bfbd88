// The RequestSigner of APIs that take a bearer-style key: `x-api-key: <key>` (the Anthropic
// API) or `authorization: Bearer <key>` (API-compatible gateways, OpenAI-style upstreams).
#ifndef SERVICE_UPSTREAM_API_KEY_SIGNER_H_
#define SERVICE_UPSTREAM_API_KEY_SIGNER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/sync/mutex.h"
#include "service/config/api_key_source.h"
#include "service/upstream/transport.h"

namespace claude {

enum class ApiKeyScheme {
  kXApiKey,  // x-api-key: <key>
  kBearer,   // authorization: Bearer <key>
};

// "x-api-key" or "bearer" (the --upstream_auth values); INVALID_ARGUMENT otherwise.
absl::StatusOr<ApiKeyScheme> ParseApiKeyScheme(absl::string_view name);

class ApiKeySigner final : public RequestSigner {
 public:
  ApiKeySigner(std::shared_ptr<ApiKeySource> source, ApiKeyScheme scheme);

  // The key's header; none while the source has no key. The source is asked at most once a
  // second (a key file is stat'ed, not re-read on every request).
  absl::StatusOr<HttpHeaders> Sign(const HttpRequest& request, absl::Time now) override;

 private:
  const std::shared_ptr<ApiKeySource> source_;
  const ApiKeyScheme scheme_;
  // Sign runs on the transport's one thread; the mutex keeps a second transport safe too.
  Mutex mu_;
  std::string key_ ABSL_GUARDED_BY(mu_);
  absl::Time read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_API_KEY_SIGNER_H_
