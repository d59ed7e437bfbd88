#include "service/errors/error_table.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/struct.pb.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/codec/json_mapping.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "service/errors/retry_after.h"
#include "service/validation/request_validator.h"

namespace claude {
namespace {

// How much upstream text a status message echoes.
constexpr size_t kMaxBodySnippetBytes = 200;  // of a body in no known shape
constexpr size_t kMaxUpstreamTextBytes = 1024;  // of an error message the upstream wrote
constexpr size_t kMaxTokenBytes = 128;  // of an error type, code or request id

constexpr char kReplacementCharacter[] = "\xEF\xBF\xBD";  // U+FFFD

// The length of the valid UTF-8 sequence at the start of `s`, or 0 if it is not one.
size_t Utf8SequenceLength(absl::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto continuation = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < s.size() && byte(i) >= lo && byte(i) <= hi;
  };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    const unsigned char lo = lead == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    const unsigned char hi = lead == 0xED ? 0x9F : 0xBF;  // no surrogates
    return continuation(1, lo, hi) && continuation(2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    const unsigned char lo = lead == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = lead == 0xF4 ? 0x8F : 0xBF;  // nothing past U+10FFFF
    return continuation(1, lo, hi) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

// At most `max_bytes` of `text` (never splitting a character; "..." marks a cut) as printable,
// valid UTF-8 on one line: runs of whitespace and control characters (C0, DEL, C1) become one
// space, invalid bytes become U+FFFD, and the ends are trimmed.
std::string Sanitize(absl::string_view text, size_t max_bytes) {
  std::string out;
  bool pending_space = false;
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = Utf8SequenceLength(text.substr(i));
    if (i + std::max<size_t>(n, 1) > max_bytes) break;
    if (n == 0) {
      if (pending_space && !out.empty()) out += ' ';
      pending_space = false;
      out += kReplacementCharacter;
      ++i;
      continue;
    }
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool control = (n == 1 && (c < 0x20 || c == 0x7F || c == ' ')) ||
                         (n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0);
    if (control) {
      pending_space = true;
    } else {
      if (pending_space && !out.empty()) out += ' ';
      pending_space = false;
      out.append(text.data() + i, n);
    }
    i += n;
  }
  if (i < text.size()) out += "...";
  return out;
}

bool IsKeyCharacter(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_'; }

// Sanitized and redacted: what may be echoed from the upstream.
std::string Echo(absl::string_view text, size_t max_bytes) {
  return RedactSecrets(Sanitize(text, max_bytes));
}

std::string HeaderRequestId(const HttpHeaders& headers) {
  const std::string* id = FindHeader(headers, "request-id");
  return id == nullptr ? "" : Echo(*id, kMaxTokenBytes);
}

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  absl::Duration remainder;
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &remainder);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::IDivDuration(remainder, absl::Nanoseconds(1),
                                                         &remainder)));
}

// What a failure status carries besides its code and message.
struct Details {
  std::string reason;
  std::optional<google::rpc::BadRequest> bad_request;
  const char* domain = kUpstreamErrorDomain;
  int http_status = 0;  // 0: not an HTTP exchange
  std::string request_id;
  std::optional<absl::Duration> retry_delay;
  // A QuotaFailure violation (subject, description), for refusals by a quota or budget.
  std::optional<std::pair<std::string, std::string>> quota_violation;
  std::string upstream_error_type;  // kept in the metadata when `reason` is ours
  // From the upstream's error.details (see AddUpstreamDetails).
  std::string error_code;
  std::vector<std::pair<std::string, std::string>> details_metadata;
  std::optional<google::protobuf::Struct> upstream_details;
};

// The upstream refused the server's own credentials (its API key): not the caller's fault, and
// never reported as UNAUTHENTICATED or PERMISSION_DENIED, which callers read as "your token is
// bad". `label` is the upstream's error type or code, kept beside our reason.
void BlameTheServersCredentials(const std::string& label, Details* details) {
  details->upstream_error_type = label;
  details->reason = kUpstreamAuthFailedReason;
  details->domain = kLocalErrorDomain;
}

constexpr char kAuthFailureNote[] = " (the server's upstream credentials were refused; not the caller's)";

// Whether `key` can be an ErrorInfo metadata key after "details_": google.rpc asks for
// [a-z][a-zA-Z0-9-_]+, at most 64 characters.
bool IsMetadataKeyTail(absl::string_view key) {
  return !key.empty() && key.size() <= 56 &&
         std::all_of(key.begin(), key.end(), [](char c) { return absl::ascii_isalnum(c) || c == '_' || c == '-'; });
}

// `value` with every key and string sanitized and redacted like any echoed upstream text.
google::protobuf::Value Echoed(const google::protobuf::Value& value);

google::protobuf::Struct Echoed(const google::protobuf::Struct& fields) {
  google::protobuf::Struct out;
  for (const auto& [key, value] : fields.fields()) {
    (*out.mutable_fields())[Echo(key, kMaxTokenBytes)] = Echoed(value);
  }
  return out;
}

google::protobuf::Value Echoed(const google::protobuf::Value& value) {
  google::protobuf::Value out;
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      out.set_string_value(Echo(value.string_value(), kMaxUpstreamTextBytes));
      break;
    case google::protobuf::Value::kStructValue:
      *out.mutable_struct_value() = Echoed(value.struct_value());
      break;
    case google::protobuf::Value::kListValue:
      for (const google::protobuf::Value& item : value.list_value().values()) {
        *out.mutable_list_value()->add_values() = Echoed(item);
      }
      break;
    default:
      out = value;
      break;
  }
  return out;
}

// An error's `details` object (JSON text; e.g. {"error_code":"available_tools_limit_exceeded",
// "limit":128}), so callers can act on it: its error_code (else `code`, the error's second
// classifier) in ErrorInfo.metadata["error_code"] and the message; each string, number or
// boolean member as ErrorInfo.metadata["details_<key>"] (the first 8 keys, sorted); the whole
// object, up to 2 KiB of JSON, as a google.protobuf.Struct detail. Sanitized and redacted.
void AddUpstreamDetails(absl::string_view details_json, absl::string_view code, Details* details) {
  // Everything goes into the trailers, and gRPC clients accept 8 KiB of metadata by default.
  constexpr size_t kMaxDetailsBytes = 2048;
  constexpr size_t kMaxDetailsMetadata = 8;
  // The detail is unpacked as a message of its own, so nesting counts from it.
  google::protobuf::Struct parsed;
  if (!details_json.empty() && details_json.size() <= 64 * 1024 && JsonToMessage(details_json, &parsed).ok()) {
    const google::protobuf::Struct echoed = Echoed(parsed);
    if (auto it = echoed.fields().find("error_code");
        it != echoed.fields().end() && it->second.has_string_value()) {
      details->error_code = it->second.string_value();
    }
    std::vector<std::string> keys;
    for (const auto& [key, value] : echoed.fields()) keys.push_back(key);
    std::sort(keys.begin(), keys.end());  // the same details give the same metadata
    for (const std::string& key : keys) {
      if (details->details_metadata.size() == kMaxDetailsMetadata) break;
      const google::protobuf::Value& value = echoed.fields().at(key);
      if (key == "error_code" || !IsMetadataKeyTail(key)) continue;
      std::string text;
      if (value.has_string_value()) {
        text = value.string_value();
      } else if (value.has_number_value()) {
        text = MessageToJsonString(value);
      } else if (value.has_bool_value()) {
        text = value.bool_value() ? "true" : "false";
      } else {
        continue;
      }
      details->details_metadata.emplace_back(absl::StrCat("details_", key), Echo(text, kMaxTokenBytes));
    }
    if (MessageToJsonString(echoed).size() <= kMaxDetailsBytes) details->upstream_details = echoed;
  }
  if (details->error_code.empty()) details->error_code = Echo(code, kMaxTokenBytes);
}

// ` (error_code <code>)`, or "" when there is none.
std::string ErrorCodeSuffix(const std::string& error_code) {
  return error_code.empty() ? "" : absl::StrCat(" (error_code ", error_code, ")");
}

// ` (request-id <id>)`, or "" when the id is unknown.
std::string RequestIdSuffix(const std::string& request_id) {
  return request_id.empty() ? "" : absl::StrCat(" (request-id ", request_id, ")");
}

grpc::Status MakeStatus(grpc::StatusCode code, std::string message, const Details& details) {
  google::rpc::Status rpc;
  rpc.set_code(static_cast<int32_t>(code));
  rpc.set_message(message);

  google::rpc::ErrorInfo info;
  info.set_reason(details.reason);
  info.set_domain(details.domain);
  if (details.http_status != 0) {
    (*info.mutable_metadata())["http_status"] = absl::StrCat(details.http_status);
  }
  if (!details.request_id.empty()) {
    (*info.mutable_metadata())["request_id"] = details.request_id;
  }
  if (!details.upstream_error_type.empty()) {
    (*info.mutable_metadata())["upstream_error_type"] = details.upstream_error_type;
  }
  if (!details.error_code.empty()) (*info.mutable_metadata())["error_code"] = details.error_code;
  for (const auto& [key, value] : details.details_metadata) (*info.mutable_metadata())[key] = value;
  rpc.add_details()->PackFrom(info);

  if (details.retry_delay) {
    google::rpc::RetryInfo retry;
    SetDuration(*details.retry_delay, retry.mutable_retry_delay());
    rpc.add_details()->PackFrom(retry);
  }
  if (details.quota_violation) {
    google::rpc::QuotaFailure quota;
    google::rpc::QuotaFailure::Violation* violation = quota.add_violations();
    violation->set_subject(details.quota_violation->first);
    violation->set_description(details.quota_violation->second);
    rpc.add_details()->PackFrom(quota);
  }
  if (details.bad_request.has_value()) rpc.add_details()->PackFrom(*details.bad_request);
  if (!details.request_id.empty()) {
    google::rpc::RequestInfo request;
    request.set_request_id(details.request_id);
    rpc.add_details()->PackFrom(request);
  }
  if (details.upstream_details) rpc.add_details()->PackFrom(*details.upstream_details);
  return grpc::Status(code, std::move(message), rpc.SerializeAsString());
}

}  // namespace

std::string RedactSecrets(absl::string_view text) {
  static constexpr absl::string_view kKeyPrefix = "sk-ant-";
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text.size() - i >= kKeyPrefix.size() &&
        absl::EqualsIgnoreCase(text.substr(i, kKeyPrefix.size()), kKeyPrefix)) {
      i += kKeyPrefix.size();
      while (i < text.size() && IsKeyCharacter(text[i])) ++i;
      out += "[REDACTED]";
      continue;
    }
    out += text[i++];
  }
  return out;
}

// HTTP status -> gRPC code. The named rows follow the API's documented errors and the gRPC
// project's HTTP-to-gRPC mapping; the ranges are this project's choices.
//
//   400 Bad Request            INVALID_ARGUMENT     (invalid_request_error)
//   401 Unauthorized           UNAVAILABLE          (authentication_error: the server's key was
//                                                    refused; reason UPSTREAM_AUTH_FAILED)
//   402 Payment Required       FAILED_PRECONDITION  (billing_error: fix billing, then retry)
//   403 Forbidden              UNAVAILABLE          (permission_error: the server's key may not;
//                                                    reason UPSTREAM_AUTH_FAILED)
//   404 Not Found              NOT_FOUND            (not_found_error)
//   405 Method Not Allowed     UNIMPLEMENTED        (choice: the upstream lacks the endpoint)
//   408 Request Timeout        DEADLINE_EXCEEDED
//   409 Conflict               ABORTED              (retryable conflict)
//   410 Gone                   NOT_FOUND            (choice)
//   413 Content Too Large      INVALID_ARGUMENT     (request_too_large)
//   422 Unprocessable Content  INVALID_ARGUMENT
//   429 Too Many Requests      RESOURCE_EXHAUSTED   (rate_limit_error)
//   499 Client Closed Request  CANCELLED            (choice: the upstream saw us hang up)
//   other 4xx                  FAILED_PRECONDITION  (choice: the request cannot succeed as it
//                                                    stands, and UNKNOWN would hide that it is
//                                                    the caller's side to fix)
//   500 Internal Server Error  INTERNAL             (api_error)
//   501 Not Implemented        UNIMPLEMENTED
//   502 Bad Gateway            UNAVAILABLE
//   503 Service Unavailable    UNAVAILABLE
//   504 Gateway Timeout        DEADLINE_EXCEEDED    (timeout_error)
//   529 Overloaded             UNAVAILABLE          (overloaded_error)
//   other 5xx                  INTERNAL
//   anything else (< 400, >= 600: not an error status)   UNKNOWN
grpc::StatusCode CodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 400: return grpc::StatusCode::INVALID_ARGUMENT;
    case 401: return grpc::StatusCode::UNAVAILABLE;
    case 402: return grpc::StatusCode::FAILED_PRECONDITION;
    case 403: return grpc::StatusCode::UNAVAILABLE;
    case 404: return grpc::StatusCode::NOT_FOUND;
    case 405: return grpc::StatusCode::UNIMPLEMENTED;
    case 408: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case 409: return grpc::StatusCode::ABORTED;
    case 410: return grpc::StatusCode::NOT_FOUND;
    case 413: return grpc::StatusCode::INVALID_ARGUMENT;
    case 422: return grpc::StatusCode::INVALID_ARGUMENT;
    case 429: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case 499: return grpc::StatusCode::CANCELLED;
    case 500: return grpc::StatusCode::INTERNAL;
    case 501: return grpc::StatusCode::UNIMPLEMENTED;
    case 502: return grpc::StatusCode::UNAVAILABLE;
    case 503: return grpc::StatusCode::UNAVAILABLE;
    case 504: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case 529: return grpc::StatusCode::UNAVAILABLE;
    default: break;
  }
  if (http_status >= 400 && http_status < 500) return grpc::StatusCode::FAILED_PRECONDITION;
  if (http_status >= 500 && http_status < 600) return grpc::StatusCode::INTERNAL;
  return grpc::StatusCode::UNKNOWN;
}

int HttpStatusForErrorType(absl::string_view type) {
  static constexpr std::pair<absl::string_view, int> kTable[] = {
      {"invalid_request_error", 400}, {"authentication_error", 401},
      {"billing_error", 402},         {"permission_error", 403},
      {"not_found_error", 404},       {"request_too_large", 413},
      {"rate_limit_error", 429},      {"api_error", 500},
      {"timeout_error", 504},         {"overloaded_error", 529},
  };
  for (const auto& [name, status] : kTable) {
    if (name == type) return status;
  }
  return 0;
}

grpc::StatusCode CodeForErrorType(absl::string_view type) {
  static constexpr std::pair<absl::string_view, grpc::StatusCode> kTable[] = {
      {"invalid_request_error", grpc::StatusCode::INVALID_ARGUMENT},
      {"authentication_error", grpc::StatusCode::UNAVAILABLE},
      {"billing_error", grpc::StatusCode::FAILED_PRECONDITION},
      {"permission_error", grpc::StatusCode::UNAVAILABLE},
      {"not_found_error", grpc::StatusCode::NOT_FOUND},
      {"request_too_large", grpc::StatusCode::INVALID_ARGUMENT},
      {"rate_limit_error", grpc::StatusCode::RESOURCE_EXHAUSTED},
      {"api_error", grpc::StatusCode::INTERNAL},
      {"timeout_error", grpc::StatusCode::DEADLINE_EXCEEDED},
      {"overloaded_error", grpc::StatusCode::UNAVAILABLE},
  };
  for (const auto& [name, code] : kTable) {
    if (name == type) return code;
  }
  return grpc::StatusCode::UNKNOWN;
}

grpc::Status StatusFromUpstreamError(const UpstreamError& error, const HttpHeaders& headers) {
  Details details;
  details.http_status = error.http_status;
  details.retry_delay = ServerRetryDelay(headers, absl::Now());
  std::string label = Echo(error.type, kMaxTokenBytes);  // the error type, else its code
  if (label.empty()) label = Echo(error.code, kMaxTokenBytes);
  const std::string text = Echo(error.message, kMaxUpstreamTextBytes);
  details.request_id = Echo(error.request_id, kMaxTokenBytes);
  if (details.request_id.empty()) details.request_id = HeaderRequestId(headers);
  details.reason = label.empty() ? absl::StrCat("http_", error.http_status) : label;
  const bool auth_failure = error.http_status == 401 || error.http_status == 403;
  if (auth_failure) BlameTheServersCredentials(label, &details);
  // `code` already is the label when the error has no type.
  AddUpstreamDetails(error.details_json, error.type.empty() ? "" : error.code, &details);

  std::string message = absl::StrCat("upstream HTTP ", error.http_status);
  if (!label.empty() || !text.empty()) {
    if (!label.empty()) absl::StrAppend(&message, " ", label);
    if (!text.empty()) absl::StrAppend(&message, ": ", text);
    absl::StrAppend(&message, ErrorCodeSuffix(details.error_code));
  } else {
    const std::string snippet = Echo(error.body, kMaxBodySnippetBytes);
    absl::StrAppend(&message, ": ", snippet.empty() ? "(empty body)" : snippet);
  }
  if (auth_failure) absl::StrAppend(&message, kAuthFailureNote);
  absl::StrAppend(&message, RequestIdSuffix(details.request_id));
  return MakeStatus(CodeForHttpStatus(error.http_status), std::move(message), details);
}

grpc::Status StatusFromErrorEvent(const claude::v1::ErrorEvent& event,
                                  const HttpHeaders& headers) {
  Details details;
  details.http_status = 200;  // the error arrived inside a successful response
  details.retry_delay = ServerRetryDelay(headers, absl::Now());
  details.request_id = Echo(event.request_id(), kMaxTokenBytes);
  if (details.request_id.empty()) details.request_id = HeaderRequestId(headers);
  const std::string type = Echo(event.error().type(), kMaxTokenBytes);
  const std::string text = Echo(event.error().message(), kMaxUpstreamTextBytes);
  details.reason = type.empty() ? "stream_error" : type;
  const bool auth_failure = type == "authentication_error" || type == "permission_error";
  if (auth_failure) BlameTheServersCredentials(type, &details);
  if (auto it = event.error().extra_fields().fields().find("details");
      it != event.error().extra_fields().fields().end()) {
    AddUpstreamDetails(MessageToJsonString(it->second), "", &details);
  }

  std::string message = "upstream stream error";
  if (!type.empty()) absl::StrAppend(&message, " ", type);
  if (!text.empty()) absl::StrAppend(&message, ": ", text);
  if (auth_failure) absl::StrAppend(&message, kAuthFailureNote);
  absl::StrAppend(&message, ErrorCodeSuffix(details.error_code));
  absl::StrAppend(&message, RequestIdSuffix(details.request_id));
  return MakeStatus(CodeForErrorType(event.error().type()), std::move(message), details);
}

grpc::Status StatusFromTransportError(const absl::Status& transport) {
  Details details;
  details.domain = kLocalErrorDomain;
  grpc::StatusCode code = ToGrpcStatus(transport).error_code();
  absl::string_view what;
  switch (transport.code()) {
    case absl::StatusCode::kOk:  // a caller's bug; still a failure
      code = grpc::StatusCode::UNKNOWN;
      what = "upstream transport failed without a reason";
      details.reason = "transport_error";
      break;
    case absl::StatusCode::kUnavailable:
      what = "upstream unavailable";
      details.reason = "connection_error";
      break;
    case absl::StatusCode::kDeadlineExceeded:
      what = "upstream timed out";
      details.reason = "timeout";
      break;
    case absl::StatusCode::kCancelled:
      what = "upstream call cancelled";
      details.reason = "cancelled";
      break;
    default:
      what = "upstream transport error";
      details.reason = "transport_error";
      break;
  }
  std::string message(what);
  const std::string cause = Echo(transport.message(), kMaxUpstreamTextBytes);
  if (!cause.empty()) absl::StrAppend(&message, ": ", cause);
  return MakeStatus(code, std::move(message), details);
}

grpc::Status StatusFromInternal(const absl::Status& status) {
  Details details;
  details.domain = kLocalErrorDomain;
  details.reason = "malformed_upstream_data";
  std::string message = "upstream sent malformed data";
  const std::string cause = Echo(status.message(), kMaxUpstreamTextBytes);
  if (!cause.empty()) absl::StrAppend(&message, ": ", cause);
  return MakeStatus(grpc::StatusCode::INTERNAL, std::move(message), details);
}

grpc::Status StatusFromValidation(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument) return ToGrpcStatus(status);
  Details details;
  details.domain = kLocalErrorDomain;
  details.reason = "invalid_request";
  if (absl::optional<absl::Cord> payload = status.GetPayload(kFieldViolationsPayload)) {
    google::rpc::BadRequest violations;
    if (violations.ParseFromString(std::string(*payload))) details.bad_request = std::move(violations);
  }
  return MakeStatus(grpc::StatusCode::INVALID_ARGUMENT, std::string(status.message()), details);
}

grpc::Status StatusFromLocalPolicy(grpc::StatusCode code, std::string message, std::string reason,
                                   std::optional<absl::Duration> retry_delay) {
  Details details;
  details.domain = kLocalErrorDomain;
  details.reason = std::move(reason);
  details.retry_delay = retry_delay;
  return MakeStatus(code, std::move(message), details);
}

grpc::Status WithErrorInfoMetadata(const grpc::Status& status, const std::string& key,
                                   const std::string& value) {
  if (status.ok()) return status;
  google::rpc::Status rpc;
  if (status.error_details().empty() || !rpc.ParseFromString(status.error_details())) {
    rpc.Clear();
    rpc.set_code(static_cast<int32_t>(status.error_code()));
    rpc.set_message(status.error_message());
  }
  bool found = false;
  for (google::protobuf::Any& any : *rpc.mutable_details()) {
    google::rpc::ErrorInfo info;
    if (!any.UnpackTo(&info)) continue;
    (*info.mutable_metadata())[key] = value;
    any.PackFrom(info);
    found = true;
    break;
  }
  if (!found) {
    google::rpc::ErrorInfo info;
    info.set_reason("upstream_failed");
    info.set_domain(kLocalErrorDomain);
    (*info.mutable_metadata())[key] = value;
    rpc.add_details()->PackFrom(info);
  }
  return grpc::Status(status.error_code(), status.error_message(), rpc.SerializeAsString());
}

grpc::Status StatusFromQuotaRefusal(std::string message, std::string reason,
                                    std::optional<absl::Duration> retry_delay,
                                    std::string subject) {
  Details details;
  details.domain = kLocalErrorDomain;
  details.reason = std::move(reason);
  details.retry_delay = retry_delay;
  details.quota_violation.emplace(std::move(subject), message);
  return MakeStatus(grpc::StatusCode::RESOURCE_EXHAUSTED, std::move(message), details);
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const int code = static_cast<int>(status.code());
  // absl::StatusCode and grpc::StatusCode both number the canonical codes 0..16.
  const grpc::StatusCode grpc_code = code >= 1 && code <= 16 ? static_cast<grpc::StatusCode>(code)
                                                             : grpc::StatusCode::UNKNOWN;
  return grpc::Status(grpc_code, std::string(status.message()));
}

}  // namespace claude
