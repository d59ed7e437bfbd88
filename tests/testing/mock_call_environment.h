// A CallEnvironment over the seams' mocks, for the tests of calls that need no more than it: a
// mock transport that keeps every transfer a call starts (the test plays them by hand through
// their sinks; transfer ids count from 1), a fake clock, a retry policy without jitter, and the
// Messages API's dialect on https://api.anthropic.com (it does no I/O).
#ifndef TESTS_TESTING_MOCK_CALL_ENVIRONMENT_H_
#define TESTS_TESTING_MOCK_CALL_ENVIRONMENT_H_

#include <memory>
#include <utility>
#include <vector>

#include <gmock/gmock.h>

#include "service/rpc/upstream_call.h"
#include "service/upstream/messages_dialect.h"
#include "tests/testing/mock_call_seams.h"
#include "tests/testing/mock_transport.h"

namespace claude::testing {

class MockCallEnvironment {
 public:
  struct Transfer {
    HttpRequest request;
    std::shared_ptr<TransferSink> sink;  // kept alive as the transport would
  };

  explicit MockCallEnvironment(int max_retries = 0) : policy_(max_retries, [] { return 0.0; }) {
    dialect_ = *MessagesDialect::Create({});
    env.transport = &transport;
    env.dialect = dialect_.get();
    env.retry_policy = &policy_;
    env.clock = &clock;
    ON_CALL(transport, Start)
        .WillByDefault(
            [this](HttpRequest request, std::shared_ptr<TransferSink> sink, absl::Duration) {
              transfers.push_back(Transfer{std::move(request), std::move(sink)});
              return static_cast<Transport::TransferId>(transfers.size());
            });
  }
  MockCallEnvironment(const MockCallEnvironment&) = delete;
  MockCallEnvironment& operator=(const MockCallEnvironment&) = delete;

  const MessagesDialect& dialect() const { return *dialect_; }

  ::testing::NiceMock<MockTransport> transport;
  FakeClock clock;
  CallEnvironment env;
  std::vector<Transfer> transfers;

 private:
  RetryPolicy policy_;
  std::unique_ptr<MessagesDialect> dialect_;
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_MOCK_CALL_ENVIRONMENT_H_
