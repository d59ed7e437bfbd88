// The details that the server's statuses carry (a serialized google.rpc.Status in
// grpc::Status::error_details(); service/errors/error_table.h writes them), read back. The client
// library and the server's tests both read them here, so neither needs the server's error table.
#ifndef COMMON_ERRORS_ERROR_DETAILS_H_
#define COMMON_ERRORS_ERROR_DETAILS_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <grpcpp/support/status.h>

#include "absl/time/time.h"

namespace claude {

// The ErrorInfo domains and reasons that the server's error table writes.
inline constexpr char kUpstreamErrorDomain[] = "anthropic.com";
inline constexpr char kLocalErrorDomain[] = "claude-grpc";
// ErrorInfo.reason when the upstream refused the server's own credentials (HTTP 401 or 403, an
// authentication_error or permission_error): the code is UNAVAILABLE, the domain
// kLocalErrorDomain, and metadata "upstream_error_type" keeps the upstream's type.
inline constexpr char kUpstreamAuthFailedReason[] = "UPSTREAM_AUTH_FAILED";

// The details a status of the server carries, read back.
struct ErrorDetails {
  std::string reason;      // ErrorInfo.reason
  std::string domain;      // ErrorInfo.domain
  std::string request_id;  // RequestInfo.request_id, else ErrorInfo.metadata["request_id"]
  std::optional<absl::Duration> retry_delay;  // RetryInfo.retry_delay
  int http_status = 0;                        // ErrorInfo.metadata["http_status"]; 0 when absent
  std::string quota_subject;  // QuotaFailure's first violation's subject; "" when absent
  // BadRequest.field_violations: (JSON path, what is wrong), one per problem.
  std::vector<std::pair<std::string, std::string>> field_violations;
  std::string
      error_code;  // ErrorInfo.metadata["error_code"]: the upstream's error.details.error_code
  // ErrorInfo.metadata, all of it (details_<key> entries included).
  std::map<std::string, std::string> metadata;
  // The upstream's error.details object, when it came with one (a google.protobuf.Struct detail).
  std::optional<google::protobuf::Struct> upstream_details;
};

// The details of `status`, or nullopt when it carries no google.rpc.Status with an ErrorInfo,
// RetryInfo or RequestInfo.
std::optional<ErrorDetails> ParseErrorDetails(const grpc::Status& status);

}  // namespace claude

#endif  // COMMON_ERRORS_ERROR_DETAILS_H_
