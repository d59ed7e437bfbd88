#include "service/upstream/messages_api_error.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "claude/v1/messages.pb.h"
#include "common/codec/json_mapping.h"
#include "service/errors/error_table.h"

namespace claude {
namespace {

// The member `name` of `fields` as text: a string as is, an integral number without a
// fraction; "" for anything else or when absent.
std::string MemberText(const google::protobuf::Struct& fields, const std::string& name) {
  auto it = fields.fields().find(name);
  if (it == fields.fields().end()) return "";
  const google::protobuf::Value& value = it->second;
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return value.string_value();
    case google::protobuf::Value::kNumberValue: {
      const double number = value.number_value();
      if (std::isfinite(number) && number == std::trunc(number) && std::fabs(number) < 1e15) {
        return absl::StrCat(static_cast<int64_t>(number));
      }
      return absl::StrCat(number);
    }
    default:
      return "";
  }
}

}  // namespace

UpstreamError ReadMessagesApiError(int http_status, absl::string_view body) {
  UpstreamError error;
  error.http_status = http_status;
  error.body = std::string(body);
  // The API's error body has the shape of the stream's error event; a gateway's lands in it
  // too, with error.code and trace_id kept in extra_fields.
  claude::v1::ErrorEvent parsed;
  if (!JsonToMessage(body, &parsed).ok() || !parsed.has_error()) return error;
  const claude::v1::ApiError& api_error = parsed.error();
  error.type = api_error.type();
  if (error.type.empty()) error.type = MemberText(api_error.extra_fields(), "code");
  error.message = api_error.message();
  error.request_id = parsed.request_id();
  if (error.request_id.empty()) error.request_id = MemberText(parsed.extra_fields(), "trace_id");
  if (auto it = api_error.extra_fields().fields().find("details");
      it != api_error.extra_fields().fields().end()) {
    // A google.protobuf.Value prints as the plain JSON it holds.
    std::string json;
    if (google::protobuf::util::MessageToJsonString(it->second, &json).ok()) {
      error.details_json = std::move(json);
    }
  }
  return error;
}

grpc::Status StatusFromHttpError(int http_status, absl::string_view body,
                                 const HttpHeaders& headers) {
  return StatusFromUpstreamError(ReadMessagesApiError(http_status, body), headers);
}

}  // namespace claude
