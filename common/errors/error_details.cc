#include "common/errors/error_details.h"

#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace claude {

std::optional<ErrorDetails> ParseErrorDetails(const grpc::Status& status) {
  if (status.error_details().empty()) return std::nullopt;
  google::rpc::Status rpc;
  if (!rpc.ParseFromString(status.error_details())) return std::nullopt;
  ErrorDetails out;
  bool found = false;
  std::string info_request_id;
  for (const google::protobuf::Any& any : rpc.details()) {
    if (google::rpc::ErrorInfo info; any.UnpackTo(&info)) {
      found = true;
      out.reason = info.reason();
      out.domain = info.domain();
      if (auto it = info.metadata().find("http_status"); it != info.metadata().end()) {
        if (!absl::SimpleAtoi(it->second, &out.http_status)) out.http_status = 0;
      }
      if (auto it = info.metadata().find("request_id"); it != info.metadata().end()) {
        info_request_id = it->second;
      }
      if (auto it = info.metadata().find("error_code"); it != info.metadata().end())
        out.error_code = it->second;
      out.metadata.insert(info.metadata().begin(), info.metadata().end());
    } else if (google::protobuf::Struct upstream_details; any.UnpackTo(&upstream_details)) {
      found = true;
      out.upstream_details = std::move(upstream_details);
    } else if (google::rpc::RetryInfo retry; any.UnpackTo(&retry)) {
      found = true;
      out.retry_delay = absl::Seconds(retry.retry_delay().seconds()) +
                        absl::Nanoseconds(retry.retry_delay().nanos());
    } else if (google::rpc::QuotaFailure quota; any.UnpackTo(&quota)) {
      found = true;
      if (quota.violations_size() > 0) out.quota_subject = quota.violations(0).subject();
    } else if (google::rpc::RequestInfo request; any.UnpackTo(&request)) {
      found = true;
      out.request_id = request.request_id();
    } else if (google::rpc::BadRequest bad_request; any.UnpackTo(&bad_request)) {
      found = true;
      for (const auto& violation : bad_request.field_violations()) {
        out.field_violations.emplace_back(violation.field(), violation.description());
      }
    }
  }
  if (out.request_id.empty()) out.request_id = std::move(info_request_id);
  if (!found) return std::nullopt;
  return out;
}

}  // namespace claude
