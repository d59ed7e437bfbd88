// A configuration file whose changes are noticed: read on the first call, not again until its
// size, modification time or inode changes (an atomic replace by rename, as a Kubernetes secret
// update, is one), and refused with a status naming the path when it cannot or must not be read.
#include "service/config/watched_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "tests/testing/scratch_file.h"

namespace claude {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

class WatchedFileTest : public ::testing::Test {
 protected:
  // Rewrites the file in place (same inode).
  void Write(const std::string& text) const {
    std::ofstream(path_, std::ios::trunc | std::ios::binary) << text;
  }
  // Replaces the file by a rename of a new one, as a mounted secret changes.
  void Replace(const std::string& text) const { ASSERT_TRUE(dir_.Replace("config", text)); }

  // Checks that `file` changed since its last read and reads `text` now.
  static void ExpectReads(WatchedFile& file, const std::string& text) {
    absl::StatusOr<std::optional<std::string>> read = file.ReadIfChanged();
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_THAT(*read, Optional(text));
  }

  const testing::ScratchDirectory dir_;
  const std::string path_ = dir_.File("config");
};

TEST_F(WatchedFileTest, ReadsOnceUntilTheFileChanges) {
  Write("one\n");
  WatchedFile file(path_);
  EXPECT_EQ(file.path(), path_);
  ExpectReads(file, "one\n");
  absl::StatusOr<std::optional<std::string>> unchanged = file.ReadIfChanged();
  ASSERT_TRUE(unchanged.ok()) << unchanged.status();
  EXPECT_EQ(*unchanged, std::nullopt);

  Write("two, longer\n");
  ExpectReads(file, "two, longer\n");
}

TEST_F(WatchedFileTest, AReplacementOfTheSameSizeIsSeenByItsInode) {
  Write("aaaa\n");
  WatchedFile file(path_);
  ASSERT_TRUE(file.ReadIfChanged().ok());
  // Same size; the rename gives a new inode even when the clock has not moved.
  Replace("bbbb\n");
  ExpectReads(file, "bbbb\n");
}

TEST_F(WatchedFileTest, ForgetReadsTheSameVersionAgain) {
  Write("rejected by its parser\n");
  WatchedFile file(path_);
  ASSERT_TRUE(file.ReadIfChanged().ok());
  file.Forget();
  ExpectReads(file, "rejected by its parser\n");
}

TEST_F(WatchedFileTest, AMissingFileIsNotFoundNamingItsPathAndRetried) {
  WatchedFile file(path_);
  absl::StatusOr<std::optional<std::string>> missing = file.ReadIfChanged();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(path_));

  Write("now here\n");
  ExpectReads(file, "now here\n");

  ASSERT_EQ(std::remove(path_.c_str()), 0);
  EXPECT_EQ(file.ReadIfChanged().status().code(), absl::StatusCode::kNotFound) << "gone again";
}

TEST_F(WatchedFileTest, AFileOverTheBoundIsRefusedUnread) {
  Write("");
  ASSERT_EQ(truncate(path_.c_str(), WatchedFile::kMaxBytes + 1), 0);  // sparse: no disk used
  WatchedFile file(path_);
  absl::StatusOr<std::optional<std::string>> large = file.ReadIfChanged();
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(large.status().message(), path_ + ": larger than 16777216 bytes");

  ASSERT_EQ(truncate(path_.c_str(), WatchedFile::kMaxBytes), 0);
  absl::StatusOr<std::optional<std::string>> at_bound = file.ReadIfChanged();
  ASSERT_TRUE(at_bound.ok()) << at_bound.status();
  ASSERT_TRUE(at_bound->has_value());
  EXPECT_EQ((*at_bound)->size(), static_cast<size_t>(WatchedFile::kMaxBytes));
}

TEST_F(WatchedFileTest, ADirectoryIsRefusedNotReadAsEmpty) {
  // A common mistake: the secret's mount directory instead of the file in it.
  WatchedFile file(dir_.path());
  absl::StatusOr<std::optional<std::string>> read = file.ReadIfChanged();
  ASSERT_FALSE(read.ok()) << "read as \"" << read->value_or("<unchanged>") << "\"";
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read.status().message(), dir_.path() + ": is a directory, not a file");
}

}  // namespace
}  // namespace claude
