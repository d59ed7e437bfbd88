// Reading Amazon Bedrock's answers: the InvokeModelWithResponseStream body (AWS event-stream
// frames, each event's payload {"bytes":"<base64 of one Messages API stream event>"}) and its
// errors, both as exceptions inside the stream and as HTTP error responses
// ({"message":"..."} with the exception's name in the x-amzn-errortype header).
//
// Bedrock's exceptions are given the Messages API's error type of the same meaning, so they go
// through the error table as an Anthropic upstream's errors would:
//
//   ThrottlingException, ServiceQuotaExceededException  rate_limit_error
//   ServiceUnavailableException, ModelNotReadyException overloaded_error
//   ValidationException                                 invalid_request_error
//   AccessDeniedException                               permission_error
//   InvalidSignatureException, UnrecognizedClientException, ExpiredTokenException,
//   MissingAuthenticationTokenException                 authentication_error
//   ResourceNotFoundException                           not_found_error
//   ModelTimeoutException                               timeout_error
//   InternalServerException, ModelStreamErrorException, ModelErrorException, anything else
//                                                       api_error
//
// (case-insensitive: the stream writes "throttlingException"); the exception's name stays in
// the error's code and message.
#ifndef SERVICE_UPSTREAM_BEDROCK_REPLIES_H_
#define SERVICE_UPSTREAM_BEDROCK_REPLIES_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "service/errors/upstream_error.h"
#include "service/upstream/dialect.h"
#include "service/upstream/http_types.h"

namespace claude {

// The Messages API error type for a Bedrock exception name (see the table above).
std::string ErrorTypeForBedrockException(absl::string_view exception);

// An HTTP error response of Bedrock: the exception from x-amzn-errortype (its part before ':'),
// else the body's "__type" (after '#'); the text from "message" or "Message"; the request id
// from x-amzn-requestid. A body in the Messages API's shape (a proxy in front) is read as such.
UpstreamError ReadBedrockError(int http_status, absl::string_view body, const HttpHeaders& headers);

// Decodes an InvokeModelWithResponseStream body. Frames are CRC-checked (a mismatch: INTERNAL);
// an exception frame becomes an `error` event; the stream is whole once message_stop or an
// exception came and no frame is left half-received.
std::unique_ptr<EventDecoder> NewBedrockEventDecoder(size_t max_frame_bytes);

}  // namespace claude

#endif  // SERVICE_UPSTREAM_BEDROCK_REPLIES_H_
