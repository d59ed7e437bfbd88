#include "service/upstream/cloud_request_body.h"

#include "absl/strings/match.h"
#include "common/codec/json_mapping.h"

namespace claude {

absl::StatusOr<std::string> BodyWithModelReplaced(const google::protobuf::Message& request,
                                                  absl::string_view model,
                                                  absl::string_view members) {
  // The codec writes fields in their declared order and "model" is field 1 of both requests,
  // so the member is the body's start; replacing it in place costs one move of the body, not a
  // copy of the request (bodies can be megabytes).
  std::string body;
  MessageToJson(request, &body);
  std::string model_member = "{\"model\":";
  AppendJsonString(model, &model_member);
  if (!absl::StartsWith(body, model_member)) {
    return absl::InternalError("the request's JSON does not start with its model");
  }
  size_t end = model_member.size();
  std::string replacement = "{";
  replacement.append(members.data(), members.size());
  if (members.empty() && end < body.size() && body[end] == ',') ++end;  // no member left before it
  body.replace(0, end, replacement);
  return body;
}

}  // namespace claude
