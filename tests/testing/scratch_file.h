// A file of the running test's own in the temporary directory: for code under test that reads a
// path (a key file, a callers file) while the test writes, rewrites and removes it.
#ifndef TESTS_TESTING_SCRATCH_FILE_H_
#define TESTS_TESTING_SCRATCH_FILE_H_

#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace claude::testing {

// Named after the running test and its suite, so neither tests of one binary nor binaries that
// ctest runs side by side share one. It does not exist until written, and is removed with the
// ScratchFile. Construct it inside a test (or its fixture).
class ScratchFile {
 public:
  ScratchFile() {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    // Parameterized tests are named "Name/N": no folders in the file's name.
    path_ = absl::StrCat(::testing::TempDir(), "/",
                         absl::StrReplaceAll(absl::StrCat(test->test_suite_name(), ".", test->name()),
                                             {{"/", "_"}}));
    Remove();  // a crashed earlier run's
  }
  ~ScratchFile() { Remove(); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  const std::string& path() const { return path_; }
  // Replaces the contents with `text` (creating the file).
  void Write(absl::string_view text) const { std::ofstream(path_, std::ios::trunc) << text; }
  void Remove() const { std::remove(path_.c_str()); }

 private:
  std::string path_;
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_SCRATCH_FILE_H_
