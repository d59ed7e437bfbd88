// A LineSink that keeps every line, for tests that read what the server logged.
#ifndef TESTS_TESTING_CAPTURED_LINES_H_
#define TESTS_TESTING_CAPTURED_LINES_H_

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "service/observability/line_sink.h"

namespace claude::testing {

class CapturedLines final : public LineSink {
 public:
  void Write(std::string line) override {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(std::move(line));
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_CAPTURED_LINES_H_
