// The Messages API body as the cloud platforms take it: Vertex AI and Amazon Bedrock name the
// model in the URL, not in the body, and want the API version (and on Bedrock the betas) as
// body members instead of headers.
#ifndef SERVICE_UPSTREAM_CLOUD_REQUEST_BODY_H_
#define SERVICE_UPSTREAM_CLOUD_REQUEST_BODY_H_

#include <string>

#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace claude {

// The JSON of `request` (a CreateMessageRequest or CountTokensRequest, whose first member is
// "model") with its "model" member replaced by `members`: raw JSON members ("\"a\":1,\"b\":2"),
// or nothing when empty. INTERNAL if the codec did not write "model" first.
absl::StatusOr<std::string> BodyWithModelReplaced(const google::protobuf::Message& request,
                                                  absl::string_view model,
                                                  absl::string_view members);

}  // namespace claude

#endif  // SERVICE_UPSTREAM_CLOUD_REQUEST_BODY_H_
