// The call logic's own seams for tests: a gMock of the CallerSide (the reactor's part) and a
// clock that moves only when the test says so.
#ifndef TESTS_TESTING_MOCK_CALL_SEAMS_H_
#define TESTS_TESTING_MOCK_CALL_SEAMS_H_

#include <mutex>

#include <gmock/gmock.h>

#include "service/rpc/caller_side.h"
#include "service/rpc/clock.h"

namespace claude::testing {

class MockCallerSide : public CallerSide {
 public:
  MOCK_METHOD(void, SendEvent,
              (const claude::v1::MessageStreamEvent& event, const HttpHeaders* initial_metadata), (override));
  MOCK_METHOD(void, SendResult,
              (const claude::v1::MessageBatchResult& result, const HttpHeaders* initial_metadata),
              (override));
  MOCK_METHOD(void, SendStatus, (const grpc::Status& status, const HttpHeaders& trailing_metadata), (override));
};

class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000)) : now_(start) {}
  absl::Time Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  absl::Time now_;
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_MOCK_CALL_SEAMS_H_
