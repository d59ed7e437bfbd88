// An upstream's error response as a dialect reads it: the input of the error table
// (StatusFromUpstreamError in error_table.h). Each dialect knows its body shapes; the table alone
// decides the gRPC status, so callers see the same errors whichever kind of upstream answered.
#ifndef SERVICE_ERRORS_UPSTREAM_ERROR_H_
#define SERVICE_ERRORS_UPSTREAM_ERROR_H_

#include <string>

namespace claude {

struct UpstreamError {
  int http_status = 0;      // the response's status (>= 400)
  std::string type;         // the API's error.type, a gateway's error.code, OpenAI's error.type
  std::string code;         // a second classifier when the body has one (OpenAI's error.code)
  std::string message;      // the upstream's own text, unsanitized (the table sanitizes it)
  std::string request_id;   // from the body (request_id, trace_id); the table falls back to headers
  std::string details_json; // error.details as JSON text when the body carries it; else empty
  // The body as received (bounded by the call). When the dialect recognised no error in it
  // (type, code and message empty), the table echoes a short, sanitized snippet of it, so an
  // HTML page from a proxy still says something.
  std::string body;
};

}  // namespace claude

#endif  // SERVICE_ERRORS_UPSTREAM_ERROR_H_
