// How much this process's resident memory (VmRSS) grows while a test pushes data through it:
// the check that a slow reader costs bounded memory (the server and the fake upstream run in
// the test process).
#ifndef TESTS_TESTING_RESIDENT_MEMORY_H_
#define TESTS_TESTING_RESIDENT_MEMORY_H_

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace claude::testing {

// VmRSS of this process in kB; 0 when /proc cannot tell.
inline long ResidentKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// Resident memory from construction on: Sample() as often as the test can (between reads), and
// the peak is what counts.
class ResidentGrowth {
 public:
  ResidentGrowth() : before_kb_(ResidentKb()), peak_kb_(before_kb_) {}

  void Sample() { peak_kb_ = std::max(peak_kb_, ResidentKb()); }
  long peak_growth_kb() const { return peak_kb_ - before_kb_; }

  // Prints the growth (a number worth seeing in the log) and expects it below `bound_kb`, except
  // under sanitizers, whose own memory use makes resident size meaningless.
  void ExpectBelow(long bound_kb, std::string_view what_passed_through) const {
    std::cout << what_passed_through << ": resident memory grew by " << peak_growth_kb() << " kB"
              << std::endl;
#ifdef CLAUDE_SANITIZED
    (void)bound_kb;
#else
    EXPECT_LT(peak_growth_kb(), bound_kb) << "RSS grew by " << peak_growth_kb() << " kB";
#endif
  }

 private:
  long before_kb_;
  long peak_kb_;
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_RESIDENT_MEMORY_H_
