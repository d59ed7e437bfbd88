// A CallObserver that keeps every CallRecord it is handed, for tests that read what the server
// or a call recorded. Thread-safe: records arrive on gRPC's and the curl loop's threads.
#ifndef TESTS_TESTING_RECORDED_CALLS_H_
#define TESTS_TESTING_RECORDED_CALLS_H_

#include <mutex>
#include <vector>

#include "service/rpc/call_record.h"

namespace claude::testing {

class RecordedCalls final : public CallObserver {
 public:
  void OnCallEnd(const CallRecord& record) override {
    std::lock_guard<std::mutex> lock(mu_);
    records_.push_back(record);
  }
  // A copy of the records so far, in the order the calls ended.
  std::vector<CallRecord> records() {
    std::lock_guard<std::mutex> lock(mu_);
    return records_;
  }

 private:
  std::mutex mu_;
  std::vector<CallRecord> records_;
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_RECORDED_CALLS_H_
