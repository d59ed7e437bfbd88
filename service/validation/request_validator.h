// Request validation before anything goes upstream.
//
// The validators reject only what the Messages API itself always rejects, so that a caller gets
// a precise INVALID_ARGUMENT at once instead of an HTTP round trip. Rules that depend on the
// model (context sizes, which tools or thinking modes a model supports, ...) stay the API's
// business: nothing the API might accept is rejected here. Members of a type union that this
// proto does not know (`unknown`), and `extra_fields`, always pass: they are the
// forward-compatibility escape hatch.
//
// An error's message starts with the path of the offending field as the HTTP API's JSON names
// it, then ": " and what is wrong, e.g.
//   "messages[1].content[0].source.media_type: must be one of image/jpeg, image/png, ..."
//   "tools[3].name: must match ^[a-zA-Z0-9_-]{1,128}$"
//   "thinking.budget_tokens: must be at least 1024"
// Every top-level member with a problem is reported (within one member, its first problem), in
// request order (the order of the proto's fields, which is the order of the JSON members),
// joined by "; "; the status's kFieldViolationsPayload payload holds a serialized
// google.rpc.BadRequest with one field violation per problem (field: the JSON path), which the
// error table sends as a detail (StatusFromValidation).

#ifndef SERVICE_VALIDATION_REQUEST_VALIDATOR_H_
#define SERVICE_VALIDATION_REQUEST_VALIDATOR_H_

#include "absl/status/status.h"
#include "claude/v1/messages.pb.h"
#include "claude/v1/models.pb.h"

namespace claude {

// The absl::Status payload of a validation failure: a serialized google.rpc.BadRequest.
inline constexpr char kFieldViolationsPayload[] = "type.googleapis.com/google.rpc.BadRequest";

// What the request's headers change about the rules.
struct ValidationOptions {
  // The "interleaved-thinking-*" beta is on (anthropic-beta): thinking.budget_tokens may then
  // exceed max_tokens, as the budget spans every thinking block of the turn.
  bool interleaved_thinking = false;
};

// Returns OK, or INVALID_ARGUMENT whose message starts with the offending field's JSON path.
absl::Status ValidateCreateMessageRequest(const claude::v1::CreateMessageRequest& request,
                                          const ValidationOptions& options = {});

// Returns OK, or INVALID_ARGUMENT whose message starts with the offending field's JSON path.
absl::Status ValidateCountTokensRequest(const claude::v1::CountTokensRequest& request);

// Returns OK, or INVALID_ARGUMENT naming the field (a limit below 1).
absl::Status ValidateListModelsRequest(const claude::v1::ListModelsRequest& request);

// Returns OK, or INVALID_ARGUMENT naming the field (an empty model_id).
absl::Status ValidateGetModelRequest(const claude::v1::GetModelRequest& request);

}  // namespace claude

#endif  // SERVICE_VALIDATION_REQUEST_VALIDATOR_H_
