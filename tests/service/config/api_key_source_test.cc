// Where the upstream API key comes from: a fixed key, or a mounted file re-read when it changes
// (a rotated Kubernetes secret) and remembered while it is briefly missing.
#include "service/config/api_key_source.h"

#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace claude {
namespace {

class FileApiKeySourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/api_key_source_test_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::remove(path_.c_str());
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void Write(const std::string& text) { std::ofstream(path_, std::ios::trunc) << text; }

  std::string path_;
};

TEST(StaticApiKeySourceTest, AnswersItsKey) {
  StaticApiKeySource source("sk-ant-static");
  EXPECT_EQ(source.Key(), "sk-ant-static");
  EXPECT_EQ(StaticApiKeySource("").Key(), "");
}

TEST_F(FileApiKeySourceTest, ReadsTheKeyWithoutSurroundingWhitespace) {
  Write("  sk-ant-from-file \n\n");
  FileApiKeySource source(path_);
  EXPECT_EQ(source.Key(), "sk-ant-from-file");
  EXPECT_TRUE(source.Present());
  EXPECT_EQ(source.path(), path_);
}

TEST_F(FileApiKeySourceTest, ARotatedKeyIsUsedAtTheNextRead) {
  Write("sk-ant-first\n");
  FileApiKeySource source(path_);
  ASSERT_EQ(source.Key(), "sk-ant-first");
  // Another size: the change is seen even within the file system's timestamp granularity.
  Write("sk-ant-second-rotated\n");
  EXPECT_EQ(source.Key(), "sk-ant-second-rotated");
}

TEST_F(FileApiKeySourceTest, AMissingFileKeepsTheLastKeyButIsNotPresent) {
  Write("sk-ant-kept\n");
  FileApiKeySource source(path_);
  ASSERT_EQ(source.Key(), "sk-ant-kept");
  std::remove(path_.c_str());
  EXPECT_EQ(source.Key(), "sk-ant-kept") << "a secret being swapped keeps the key in use";
  EXPECT_FALSE(source.Present());
  Write("sk-ant-back\n");
  EXPECT_TRUE(source.Present());
  EXPECT_EQ(source.Key(), "sk-ant-back");
}

TEST_F(FileApiKeySourceTest, NoFileAtAllMeansNoKey) {
  FileApiKeySource source(path_);
  EXPECT_EQ(source.Key(), "");
  EXPECT_FALSE(source.Present());
}

TEST_F(FileApiKeySourceTest, AnEmptyOrBlankFileIsNotPresent) {
  Write(" \n\t\n");
  FileApiKeySource source(path_);
  EXPECT_EQ(source.Key(), "");
  EXPECT_FALSE(source.Present());
}

}  // namespace
}  // namespace claude
