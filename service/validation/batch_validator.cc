#include "service/validation/batch_validator.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace claude {
namespace {

bool IsCustomId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateCreateMessageBatchRequest(const claude::v1::CreateMessageBatchRequest& request,
                                               const ValidationOptions& options) {
  if (request.requests().empty()) return absl::InvalidArgumentError("requests: required");
  if (request.requests_size() > kMaxBatchRequests) {
    return absl::InvalidArgumentError(
        absl::StrCat("requests: at most ", kMaxBatchRequests, " requests, got ", request.requests_size()));
  }
  absl::flat_hash_set<absl::string_view> seen;
  seen.reserve(request.requests_size());
  for (int i = 0; i < request.requests_size(); ++i) {
    const claude::v1::MessageBatchRequest& item = request.requests(i);
    const std::string at = absl::StrCat("requests[", i, "]");
    if (!IsCustomId(item.custom_id())) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".custom_id: must match ^[a-zA-Z0-9_-]{1,64}$"));
    }
    if (!seen.insert(item.custom_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".custom_id: \"", item.custom_id(), "\" is used by an earlier request"));
    }
    if (!item.has_params()) return absl::InvalidArgumentError(absl::StrCat(at, ".params: required"));
    if (absl::Status s = ValidateCreateMessageRequest(item.params(), options); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".params.", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateMessageBatchBodySize(size_t body_bytes) {
  if (body_bytes <= kMaxBatchBodyBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("requests: the batch encodes to ", body_bytes,
                                                 " bytes, more than the API's ", kMaxBatchBodyBytes));
}

absl::Status ValidateMessageBatchId(const std::string& message_batch_id) {
  if (message_batch_id.empty()) return absl::InvalidArgumentError("message_batch_id: required");
  return absl::OkStatus();
}

absl::Status ValidateListMessageBatchesRequest(const claude::v1::ListMessageBatchesRequest& request) {
  if (request.has_limit() && request.limit() < 1) {
    return absl::InvalidArgumentError("limit: must be at least 1");
  }
  return absl::OkStatus();
}

}  // namespace claude
