// Files of the running test's own in the temporary directory: for code under test that reads a
// path (a key file, a callers file, the CLI's --messages) that the test writes, or watches one
// that the test replaces (ScratchDirectory).
#ifndef TESTS_TESTING_SCRATCH_FILE_H_
#define TESTS_TESTING_SCRATCH_FILE_H_

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace claude::testing {

// A path in the temporary directory that is the running test's own: named after the test, its
// suite and `name`, so neither tests of one binary nor binaries that ctest runs side by side
// share one. Call it inside a test (or its fixture).
inline std::string ScratchPath(absl::string_view name = "") {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  // Parameterized tests are named "Name/N": no folders in the file's name.
  return absl::StrCat(::testing::TempDir(), "/",
                      absl::StrReplaceAll(absl::StrCat(test->test_suite_name(), ".", test->name(),
                                                       name.empty() ? "" : "_", name),
                                          {{"/", "_"}}));
}

// Writes `contents` to ScratchPath(`name`) and returns the path. The file stays after the test
// (a program the test starts may read it until the end).
inline std::string WriteScratchFile(absl::string_view name, absl::string_view contents) {
  const std::string path = ScratchPath(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  return path;
}

// The ScratchPath file, for a test that writes, rewrites and removes it while the code under
// test reads it. It does not exist until written, and is removed with the ScratchFile.
class ScratchFile {
 public:
  ScratchFile() : path_(ScratchPath()) {
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

// A directory of the running test's own (ScratchPath("dir")), for files the test replaces by
// rename (a new file, a new inode), as Kubernetes updates a mounted secret or config map, while
// the code under test watches them. Made empty, and removed with what it holds.
class ScratchDirectory {
 public:
  ScratchDirectory() : path_(ScratchPath("dir")) {
    Clear();  // a crashed earlier run's
    std::filesystem::create_directory(path_);
  }
  ~ScratchDirectory() { Clear(); }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;

  const std::string& path() const { return path_; }
  // The path of the file `name` in it.
  std::string File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }
  // Replaces File(`name`) (or creates it) with `text` by renaming a new file over it; false when
  // the rename fails.
  bool Replace(absl::string_view name, absl::string_view text) const {
    const std::string next = File(absl::StrCat(name, ".next"));
    std::ofstream(next, std::ios::binary | std::ios::trunc) << text;
    return std::rename(next.c_str(), File(name).c_str()) == 0;
  }

 private:
  void Clear() const {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  std::string path_;
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_SCRATCH_FILE_H_
