// The one table that turns upstream failures into gRPC statuses.
//
// Every failure the server reports for an upstream problem comes from here: an HTTP error
// response, an `error` event inside a 200 stream, a transport failure, or malformed data.
// The status message keeps the upstream's own text and names its source:
//
//   upstream HTTP 429 rate_limit_error: Number of request tokens has exceeded your per-minute
//   rate limit (request-id req_011CSHoEeqs5C35K2UUqR7Fy)
//
// and the status carries rich details (a serialized google.rpc.Status with the same code and
// message, readable with ParseErrorDetails() of common/errors/error_details.h):
//
//   google.rpc.ErrorInfo   reason   = the API's error.type ("rate_limit_error"), else a gateway's
//                                     error.code ("invalid_token"), else "http_<status>"
//                          domain   = "anthropic.com" (kUpstreamErrorDomain); failures that
//                                     claude-grpc itself observes (transport, malformed data)
//                                     use "claude-grpc" (kLocalErrorDomain)
//                          metadata = {"http_status": "429", "request_id": "req_..." when known,
//                                      "error_code": error.details.error_code when given,
//                                      "details_<key>": each string, number or boolean member
//                                      of error.details (the first 8 keys, sorted)}
//   google.rpc.RetryInfo   retry_delay, when `retry-after-ms` / `retry-after` gives one
//   google.rpc.RequestInfo request_id, when known
//   google.protobuf.Struct the upstream's whole error.details object, when it has one (up to
//                          2 KiB of JSON), for callers that act on it
//
// An error_code also ends the message: "... Too many tools (error_code
// available_tools_limit_exceeded)".
//
// Text echoed from the upstream is sanitized (control characters replaced, valid UTF-8, length
// bounded) and anything that looks like an API key ("sk-ant-...") is replaced by "[REDACTED]".
#ifndef SERVICE_ERRORS_ERROR_TABLE_H_
#define SERVICE_ERRORS_ERROR_TABLE_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/struct.pb.h>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "claude/v1/messages.pb.h"
#include "common/errors/error_details.h"
#include "service/errors/upstream_error.h"
#include "service/upstream/http_types.h"

namespace claude {

// An HTTP error response (status >= 400) of the upstream, as its dialect read it. The HTTP
// status decides the code (CodeForHttpStatus); the error's type (else its code) goes into
// ErrorInfo.reason, else "http_<status>". The request id is the error's, else the
// `request-id` header. An error the dialect did not recognise (no type, code or message) is
// described by a snippet of its body (HTML, empty, truncated, binary).
grpc::Status StatusFromUpstreamError(const UpstreamError& error, const HttpHeaders& headers);

// An `error` event inside a 200 stream; the code comes from the error type (CodeForErrorType).
grpc::Status StatusFromErrorEvent(const claude::v1::ErrorEvent& event, const HttpHeaders& headers);

// A transport failure before or while talking to the upstream (connect refused, DNS, TLS,
// reset, timeout). `transport` carries an absl code: UNAVAILABLE for connection problems,
// DEADLINE_EXCEEDED for timeouts, CANCELLED for cancellation; other codes map 1:1.
grpc::Status StatusFromTransportError(const absl::Status& transport);

// Malformed upstream data (an undecodable body or event): INTERNAL,
// "upstream sent malformed data: <status message>".
grpc::Status StatusFromInternal(const absl::Status& status);

// A refusal claude-grpc decides itself (caller authentication, per-caller limits): `code`, the
// message as given, ErrorInfo{reason, domain "claude-grpc"} and, when given, RetryInfo.
grpc::Status StatusFromLocalPolicy(grpc::StatusCode code, std::string message, std::string reason,
                                   std::optional<absl::Duration> retry_delay = std::nullopt);

// `status` (not OK) with `key` = `value` added to the metadata of its ErrorInfo (one is added,
// with domain claude-grpc, when it carries none): e.g. the attempts of a call that failed over.
grpc::Status WithErrorInfoMetadata(const grpc::Status& status, const std::string& key,
                                   const std::string& value);
// A call refused by a caller's quota or budget: RESOURCE_EXHAUSTED with ErrorInfo{reason,
// "claude-grpc"}, RetryInfo (when the window that refused it resets; none when no wait can
// admit the call) and a QuotaFailure whose
// violation names `subject` ("caller:<name>") and repeats the message.
grpc::Status StatusFromQuotaRefusal(std::string message, std::string reason,
                                    std::optional<absl::Duration> retry_delay, std::string subject);
// A request that failed validation (service/validation/): INVALID_ARGUMENT with the message as
// given, ErrorInfo{reason "invalid_request", domain "claude-grpc"} and the google.rpc.BadRequest
// of its kFieldViolationsPayload (one field violation per problem). Other statuses: ToGrpcStatus.
grpc::Status StatusFromValidation(const absl::Status& status);

// absl and gRPC share their code numbering: codes map 1:1, the message is kept, no details.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The gRPC code for an API error type:
//   invalid_request_error  INVALID_ARGUMENT      rate_limit_error  RESOURCE_EXHAUSTED
//   authentication_error   UNAVAILABLE (*)       api_error         INTERNAL
//   billing_error          FAILED_PRECONDITION   timeout_error     DEADLINE_EXCEEDED
//   permission_error       UNAVAILABLE (*)       overloaded_error  UNAVAILABLE
//   not_found_error        NOT_FOUND             anything else     UNKNOWN
//   request_too_large      INVALID_ARGUMENT
// (*) the server's own credentials failed, never the caller's (kUpstreamAuthFailedReason).
grpc::StatusCode CodeForErrorType(absl::string_view type);

// The HTTP status the API answers an error type with (overloaded_error: 529, api_error: 500,
// rate_limit_error: 429...), or 0 for a type it does not know. An `error` event inside a 200
// stream is retried (or failed over) like that status when nothing reached the caller yet.
int HttpStatusForErrorType(absl::string_view type);

// The gRPC code for an upstream HTTP status (the table is in error_table.cc).
grpc::StatusCode CodeForHttpStatus(int http_status);

// `text` with everything that looks like an API key ("sk-ant-" and the key characters after
// it, case-insensitive) replaced by "[REDACTED]".
std::string RedactSecrets(absl::string_view text);

}  // namespace claude

#endif  // SERVICE_ERRORS_ERROR_TABLE_H_
