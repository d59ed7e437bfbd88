// The error bodies of the Messages API and of gateways in front of it, read into the error
// table's input. Used by MessagesDialect::ReadError and by StatusFromHttpError.
#ifndef SERVICE_UPSTREAM_MESSAGES_API_ERROR_H_
#define SERVICE_UPSTREAM_MESSAGES_API_ERROR_H_

#include <grpcpp/support/status.h>

#include "absl/strings/string_view.h"
#include "service/errors/upstream_error.h"
#include "service/upstream/http_types.h"

namespace claude {

// Reads the API's shape {"type":"error","error":{"type","message","details"?},"request_id"}
// and a gateway's {"success":false,"error":{"code","message"},"trace_id"} (its code, a string
// or an integral number, becomes `type`). Any other body (HTML, empty, truncated, binary, JSON
// of another shape) leaves type and message empty. `body` is kept in the result either way.
UpstreamError ReadMessagesApiError(int http_status, absl::string_view body);

// StatusFromUpstreamError of a body in the Messages API's shapes (ReadMessagesApiError above, then
// the error table): the API's
// {"type":"error","error":{"type","message"},"request_id"}, a gateway's
// {"success":false,"error":{"code","message"},"trace_id"}, or anything else.
grpc::Status StatusFromHttpError(int http_status, absl::string_view body,
                                 const HttpHeaders& headers);

}  // namespace claude

#endif  // SERVICE_UPSTREAM_MESSAGES_API_ERROR_H_
