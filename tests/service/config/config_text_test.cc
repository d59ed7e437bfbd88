// The text of the line-oriented configuration files (callers, prices): lines of fields separated
// by blanks, `#` comments, CRLF files, line numbers for errors, and the names they may give.
#include "service/config/config_text.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace claude {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Fields(const ConfigLine& line) {
  return std::vector<std::string>(line.fields.begin(), line.fields.end());
}

TEST(ConfigTextTest, LinesWithFieldsKeepTheirNumbers) {
  const std::vector<ConfigLine> lines = ConfigLines(
      "# a comment line\n"
      "\n"
      "alice  sha256:abc\tadmin   # a trailing comment\r\n"
      "   \t  \r\n"
      "bob sha256:def\n"
      "carol#no blank before the comment");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].number, 3);
  EXPECT_THAT(Fields(lines[0]), ElementsAre("alice", "sha256:abc", "admin"));
  EXPECT_EQ(lines[1].number, 5);
  EXPECT_THAT(Fields(lines[1]), ElementsAre("bob", "sha256:def"));
  EXPECT_EQ(lines[2].number, 6) << "the last line needs no newline";
  EXPECT_THAT(Fields(lines[2]), ElementsAre("carol"));
}

TEST(ConfigTextTest, NothingButCommentsAndBlanksIsNoLines) {
  EXPECT_THAT(ConfigLines(""), IsEmpty());
  EXPECT_THAT(ConfigLines("\n\n# only\n  # comments\r\n"), IsEmpty());
}

TEST(ConfigTextTest, AnErrorNamesItsLine) {
  const std::vector<ConfigLine> lines = ConfigLines("\n\nalice\n");
  ASSERT_EQ(lines.size(), 1u);
  const absl::Status error = ConfigLineError(lines[0], "expected a token digest");
  EXPECT_EQ(error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(error.message(), "line 3: expected a token digest");
}

TEST(ConfigTextTest, NamesAreShortAndSafeForLogsLabelsAndKeys) {
  for (const std::string& good : {std::string("alice"), std::string("team-a.bot_1"),
                                  std::string("svc:ns/name@v2"), std::string(128, 'x')}) {
    EXPECT_TRUE(IsValidConfigName(good)) << good;
  }
  for (const std::string& bad :
       {std::string(""), std::string(129, 'x'), std::string("has space"), std::string("quote\""),
        std::string("new\nline"), std::string("brace{"), std::string("\xc3\xa9t\xc3\xa9"),
        std::string("nul\0", 4), std::string("comma,"), std::string("star*")}) {
    EXPECT_FALSE(IsValidConfigName(bad)) << bad;
  }
}

}  // namespace
}  // namespace claude
