// gMock of the Transport seam: the call logic's tests drive transfers by hand through the
// sinks it is given (no sockets, no loop thread).
#ifndef TESTS_TESTING_MOCK_TRANSPORT_H_
#define TESTS_TESTING_MOCK_TRANSPORT_H_

#include <memory>

#include <gmock/gmock.h>

#include "service/upstream/transport.h"

namespace claude::testing {

class MockTransport : public Transport {
 public:
  MOCK_METHOD(TransferId, Start,
              (HttpRequest request, std::shared_ptr<TransferSink> sink, absl::Duration delay), (override));
  MOCK_METHOD(void, Cancel, (TransferId id), (override));
  MOCK_METHOD(void, Resume, (TransferId id), (override));
};

class MockRequestSigner : public RequestSigner {
 public:
  MOCK_METHOD(absl::StatusOr<HttpHeaders>, Sign, (const HttpRequest& request, absl::Time now), (override));
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_MOCK_TRANSPORT_H_
