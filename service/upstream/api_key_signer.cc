#include "service/upstream/api_key_signer.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace claude {

absl::StatusOr<ApiKeyScheme> ParseApiKeyScheme(absl::string_view name) {
  if (name == "x-api-key") return ApiKeyScheme::kXApiKey;
  if (name == "bearer") return ApiKeyScheme::kBearer;
  return absl::InvalidArgumentError(
      absl::StrCat("upstream auth must be x-api-key or bearer, not \"", name, "\""));
}

ApiKeySigner::ApiKeySigner(std::shared_ptr<ApiKeySource> source, ApiKeyScheme scheme)
    : source_(std::move(source)), scheme_(scheme) {}

absl::StatusOr<HttpHeaders> ApiKeySigner::Sign(const HttpRequest& /*request*/, absl::Time now) {
  MutexLock lock(mu_);
  if (now - read_at_ > absl::Seconds(1)) {
    key_ = source_->Key();
    read_at_ = now;
  }
  HttpHeaders headers;
  if (key_.empty()) return headers;
  if (scheme_ == ApiKeyScheme::kBearer) {
    headers.emplace_back("authorization", "Bearer " + key_);
  } else {
    headers.emplace_back("x-api-key", key_);
  }
  return headers;
}

}  // namespace claude
