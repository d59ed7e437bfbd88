// The price table: parsing, costs in micro-dollars, and re-reading a changed file.
#include "service/quota/prices_file.h"

#include <cstdio>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include "absl/time/clock.h"

namespace claude {
namespace {

using ::testing::HasSubstr;

TEST(PriceTableTest, CostsAreTokensTimesPricePerMillion) {
  absl::StatusOr<PriceTable> table = PriceTable::Parse(
      "# model input output cache_write cache_read\n"
      "claude-sonnet-4-5  3 15 3.75 0.30\n"
      "\n*  1 2 0 0   # others\n");
  ASSERT_TRUE(table.ok()) << table.status();
  // 1000 x $3 + 200 x $15 + 100 x $3.75 + 1000 x $0.30, per million: $0.006675.
  EXPECT_EQ(table->CostMicros("claude-sonnet-4-5", {1000, 200, 100, 1000}), 6675);
  EXPECT_EQ(table->CostMicros("claude-haiku", {1000, 1000, 0, 0}), 3000);
  EXPECT_EQ(table->CostMicros("claude-haiku", {-5, 0, 0, 0}), 0) << "negative counts cost nothing";
  absl::StatusOr<PriceTable> no_fallback = PriceTable::Parse("m 1 1 1 1\n");
  ASSERT_TRUE(no_fallback.ok());
  EXPECT_FALSE(no_fallback->CostMicros("other", {1, 1, 1, 1}).has_value());
}

TEST(PriceTableTest, ErrorsNameTheLine) {
  for (const char* bad : {"m 1 2 3\n", "m 1 2 3 x\n", "m 1 2 3 -1\n", "m 1 2 3 inf\n", "m\t1 2 3 4\nm 1 2 3 4\n",
                          "* 1 1 1 1\n* 1 1 1 1\n", "bad{name} 1 1 1 1\n"}) {
    absl::StatusOr<PriceTable> table = PriceTable::Parse(bad);
    EXPECT_FALSE(table.ok()) << bad;
    EXPECT_THAT(std::string(table.status().message()), HasSubstr("line "));
  }
}

TEST(PricesFileTest, ReReadsAChangedFileAndKeepsTheLastGoodOne) {
  char dir[] = "/tmp/prices_file_test.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/prices";
  const auto write = [&](const std::string& text) {
    const std::string tmp = path + ".new";
    std::ofstream(tmp) << text;
    ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
  };
  write("* 1 0 0 0\n");
  PricesFile file(path, absl::ZeroDuration());
  ASSERT_TRUE(file.Load().ok());
  EXPECT_EQ(file.CostMicros("m", {10, 0, 0, 0}, absl::Now()), 10);
  write("* 2 0 0 0\n");
  EXPECT_EQ(file.CostMicros("m", {10, 0, 0, 0}, absl::Now()), 20);
  write("not a price table\n");
  EXPECT_EQ(file.CostMicros("m", {10, 0, 0, 0}, absl::Now()), 20) << "the last good table stays";
  std::remove(path.c_str());
  rmdir(dir);
  PricesFile missing("/nonexistent/prices", absl::Seconds(1));
  EXPECT_FALSE(missing.Load().ok());
}

}  // namespace
}  // namespace claude
