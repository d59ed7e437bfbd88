// What the error table's tests check every status with: its google.rpc.Status details, their
// consistency with the status, printable UTF-8; and error bodies in the API's and a gateway's
// shape.
#ifndef TESTS_SERVICE_ERRORS_ERROR_TABLE_TESTING_H_
#define TESTS_SERVICE_ERRORS_ERROR_TABLE_TESTING_H_

#include <string>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/rpc/status.pb.h"

namespace claude {

// The google.rpc.Status a status carries; fails the test if there is none.
inline google::rpc::Status RpcStatus(const grpc::Status& status) {
  google::rpc::Status rpc;
  EXPECT_FALSE(status.error_details().empty());
  EXPECT_TRUE(rpc.ParseFromString(status.error_details()));
  return rpc;
}

// Every status this file makes must carry the same code and message in its details.
inline void ExpectConsistent(const grpc::Status& status) {
  const google::rpc::Status rpc = RpcStatus(status);
  EXPECT_EQ(rpc.code(), static_cast<int>(status.error_code()));
  EXPECT_EQ(rpc.message(), status.error_message());
}

inline bool PrintableUtf8(const std::string& text) {
  google::rpc::Status probe;  // proto3 strings must be valid UTF-8 to parse back
  probe.set_message(text);
  google::rpc::Status back;
  if (!back.ParseFromString(probe.SerializeAsString())) return false;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) return false;
  }
  return true;
}

inline std::string ApiBody(absl::string_view type, absl::string_view message,
                           absl::string_view request_id = "req_1") {
  return absl::StrCat(R"({"type":"error","error":{"type":")", type, R"(","message":")", message,
                      R"("},"request_id":")", request_id, R"("})");
}

inline std::string GatewayBody(absl::string_view code, absl::string_view message,
                               absl::string_view trace_id = "trace-1") {
  return absl::StrCat(R"({"success":false,"error":{"code":")", code, R"(","message":")", message,
                      R"("},"trace_id":")", trace_id, R"("})");
}

}  // namespace claude

#endif  // TESTS_SERVICE_ERRORS_ERROR_TABLE_TESTING_H_
