// Validation of claude.v1.MessageBatches requests before anything goes upstream, with the same
// error form as request_validator.h: INVALID_ARGUMENT whose message starts with the offending
// field's JSON path, here prefixed by the request's place in the batch
// ("requests[17].params.max_tokens: must be at least 1"). Only the first problem is reported.
#ifndef SERVICE_VALIDATION_BATCH_VALIDATOR_H_
#define SERVICE_VALIDATION_BATCH_VALIDATOR_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "claude/v1/message_batches.pb.h"
#include "service/validation/request_validator.h"

namespace claude {

// The API's limits on one batch.
inline constexpr int kMaxBatchRequests = 100000;
inline constexpr size_t kMaxBatchBodyBytes = size_t{256} << 20;

// At least one and at most kMaxBatchRequests requests; each custom_id 1-64 characters of
// [a-zA-Z0-9_-] and unique in the batch; each params valid as CreateMessage's request
// (`options` as for CreateMessage).
absl::Status ValidateCreateMessageBatchRequest(const claude::v1::CreateMessageBatchRequest& request,
                                               const ValidationOptions& options = {});

// The encoded body's size against kMaxBatchBodyBytes ("requests: ...").
absl::Status ValidateMessageBatchBodySize(size_t body_bytes);

// A non-empty message_batch_id.
absl::Status ValidateMessageBatchId(const std::string& message_batch_id);

// A limit of at least 1, when set.
absl::Status ValidateListMessageBatchesRequest(const claude::v1::ListMessageBatchesRequest& request);

}  // namespace claude

#endif  // SERVICE_VALIDATION_BATCH_VALIDATOR_H_
