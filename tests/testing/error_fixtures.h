// The error bodies in tests/fixtures/ (error_*.json) and what the server makes of each when the
// upstream answers with it: one table for the error table's unit test and the end-to-end test.
#ifndef TESTS_TESTING_ERROR_FIXTURES_H_
#define TESTS_TESTING_ERROR_FIXTURES_H_

#include <grpcpp/support/status.h>

namespace claude::testing {

struct ErrorFixture {
  const char* file;  // in tests/fixtures/ (ReadFixture)
  int http_status;   // the status the upstream sends the body with
  grpc::StatusCode code;
  const char* upstream_type;  // the body's error type, named in the status message
  const char* upstream_message;
  const char* request_id;  // the body's
  // The ErrorInfo reason: the upstream's type, except when the server's own key was refused.
  const char* reason;
};

inline constexpr ErrorFixture kErrorFixtures[] = {
    {"error_400_anthropic.json", 400, grpc::StatusCode::INVALID_ARGUMENT, "invalid_request_error",
     "max_tokens: Field required", "req_011CSHoEeqs5C35K2UUqR7G0", "invalid_request_error"},
    {"error_401_gateway.json", 401, grpc::StatusCode::UNAVAILABLE, "invalid_token",
     "Unauthorized, invalid or missing authorization token.",
     "7d1e0c3a-9a51-4b7e-8f7a-3f0a5b1c2d4e", "UPSTREAM_AUTH_FAILED"},
    {"error_429_anthropic.json", 429, grpc::StatusCode::RESOURCE_EXHAUSTED, "rate_limit_error",
     "Number of request tokens has exceeded your per-minute rate limit",
     "req_011CSHoEeqs5C35K2UUqR7Fy", "rate_limit_error"},
    {"error_500_gateway.json", 500, grpc::StatusCode::INTERNAL, "api_error", "fetch failed",
     "2cf86e86-22a4-46e1-ac2f-032c0f2a4e89", "api_error"},
    {"error_529_anthropic.json", 529, grpc::StatusCode::UNAVAILABLE, "overloaded_error",
     "Overloaded", "req_011CSHoEeqs5C35K2UUqR7Fz", "overloaded_error"},
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_ERROR_FIXTURES_H_
