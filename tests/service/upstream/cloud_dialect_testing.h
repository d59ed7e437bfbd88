// What the cloud dialects' tests (Vertex AI, Bedrock) share: the error bodies that are not in
// the platform's own shape.
#ifndef TESTS_SERVICE_UPSTREAM_CLOUD_DIALECT_TESTING_H_
#define TESTS_SERVICE_UPSTREAM_CLOUD_DIALECT_TESTING_H_

#include <gtest/gtest.h>

#include "service/errors/error_table.h"
#include "service/upstream/dialect.h"

namespace claude::testing {

// A proxy in front of the platform may answer in the Messages API's error shape: `dialect` reads
// it as such. A body of no known shape (a load balancer's page) is kept whole with no type, and
// its 502 maps to UNAVAILABLE.
inline void ExpectForeignErrorBodiesRead(const Dialect& dialect) {
  const UpstreamError api = dialect.ReadError(
      529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", {});
  EXPECT_EQ(api.type, "overloaded_error");
  EXPECT_EQ(api.message, "Overloaded");
  const UpstreamError html = dialect.ReadError(502, "<html>bad gateway</html>", {});
  EXPECT_TRUE(html.type.empty());
  EXPECT_EQ(html.body, "<html>bad gateway</html>");
  EXPECT_EQ(StatusFromUpstreamError(html, {}).error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace claude::testing

#endif  // TESTS_SERVICE_UPSTREAM_CLOUD_DIALECT_TESTING_H_
