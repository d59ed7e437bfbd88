// A configuration file kept parsed: the first read must succeed, later ones happen at most once
// per interval, and a version that disappears or does not parse leaves the last good value in
// force, reported once in the server log (not on every check).
#include "service/config/reloading_file.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "service/observability/server_log.h"
#include "tests/testing/captured_lines.h"
#include "tests/testing/scratch_file.h"

namespace claude {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::Duration kInterval = absl::Hours(1);

// The file holds one number.
absl::StatusOr<int> ParseNumber(absl::string_view text) {
  int n = 0;
  if (!absl::SimpleAtoi(text, &n)) return absl::InvalidArgumentError("not a number");
  return n;
}

class ReloadingFileTest : public ::testing::Test {
 protected:
  void SetUp() override { SetServerLogSinkForTesting(log_); }
  void TearDown() override { SetServerLogSinkForTesting(nullptr); }
  // Replaces the file by a rename, as a mounted config map changes.
  void Write(const std::string& text) const { ASSERT_TRUE(dir_.Replace("number", text)); }
  ReloadingFile<int> File() const {
    return ReloadingFile<int>(path_, kInterval, "--number_file",
                              "the last good number stays in force", ParseNumber);
  }
  // The value in force once a check is due.
  static int CheckedValue(ReloadingFile<int>& file, absl::Time when) {
    std::shared_ptr<const int> value = file.Current(when);
    return value == nullptr ? -1 : *value;
  }

  const testing::ScratchDirectory dir_;
  const std::string path_ = dir_.File("number");
  std::shared_ptr<testing::CapturedLines> log_ = std::make_shared<testing::CapturedLines>();
};

TEST_F(ReloadingFileTest, LoadReadsTheFirstVersion) {
  Write("7");
  ReloadingFile<int> file = File();
  ASSERT_TRUE(file.Load().ok());
  EXPECT_EQ(CheckedValue(file, absl::Now()), 7);
  EXPECT_THAT(log_->lines(),
              ElementsAre(AllOf(HasSubstr("--number_file read"), HasSubstr("\"config_loaded\""))));
}

TEST_F(ReloadingFileTest, LoadFailsOnAMissingOrUnparsableFile) {
  ReloadingFile<int> missing = File();
  const absl::Status not_found = missing.Load();
  EXPECT_EQ(not_found.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(not_found.message(), HasSubstr(path_));

  Write("seven");
  ReloadingFile<int> unparsable = File();
  const absl::Status invalid = unparsable.Load();
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(invalid.message(), path_ + ": not a number");
  EXPECT_EQ(unparsable.Current(absl::Now()), nullptr);
}

TEST_F(ReloadingFileTest, AChangeIsSeenOnceTheIntervalHasPassed) {
  Write("1");
  ReloadingFile<int> file = File();
  const absl::Time loaded = absl::Now();
  ASSERT_TRUE(file.Load().ok());
  Write("2");
  EXPECT_EQ(CheckedValue(file, loaded), 1) << "not due yet";
  EXPECT_EQ(CheckedValue(file, loaded + kInterval / 2), 1) << "not due yet";
  EXPECT_EQ(CheckedValue(file, absl::Now() + kInterval), 2);
  EXPECT_THAT(log_->lines().back(),
              AllOf(HasSubstr("--number_file changed: the new version is in force"),
                    HasSubstr("\"config_reloaded\"")));
}

TEST_F(ReloadingFileTest, ABrokenVersionKeepsTheLastGoodOneAndIsReportedOnce) {
  Write("1");
  ReloadingFile<int> file = File();
  ASSERT_TRUE(file.Load().ok());
  const size_t lines_after_load = log_->lines().size();

  Write("broken");
  const absl::Time t = absl::Now() + kInterval;
  EXPECT_EQ(CheckedValue(file, t), 1);
  EXPECT_EQ(CheckedValue(file, t + kInterval), 1)
      << "still broken: checked again, not reported again";
  EXPECT_EQ(CheckedValue(file, t + 2 * kInterval), 1);
  std::vector<std::string> lines = log_->lines();
  ASSERT_EQ(lines.size(), lines_after_load + 1);
  EXPECT_THAT(lines.back(), AllOf(HasSubstr("\"severity\":\"ERROR\""), HasSubstr("--number_file"),
                                  HasSubstr("not a number; the last good number stays in force"),
                                  HasSubstr("\"config_reload_failed\"")));

  Write("3");  // fixed: read again although the broken version was the last one read
  EXPECT_EQ(CheckedValue(file, t + 3 * kInterval), 3);
}

TEST_F(ReloadingFileTest, AFileThatDisappearsKeepsTheLastGoodValue) {
  Write("5");
  ReloadingFile<int> file = File();
  ASSERT_TRUE(file.Load().ok());
  ASSERT_EQ(std::remove(path_.c_str()), 0);
  const absl::Time t = absl::Now() + kInterval;
  EXPECT_EQ(CheckedValue(file, t), 5);
  EXPECT_THAT(log_->lines().back(), AllOf(HasSubstr("\"config_reload_failed\""), HasSubstr(path_)));
  const size_t reported = log_->lines().size();
  // A different problem is a new report.
  Write("five");
  EXPECT_EQ(CheckedValue(file, t + kInterval), 5);
  ASSERT_EQ(log_->lines().size(), reported + 1);
  EXPECT_THAT(log_->lines().back(), HasSubstr("not a number"));
}

}  // namespace
}  // namespace claude
