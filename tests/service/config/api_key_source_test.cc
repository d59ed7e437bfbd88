// Where the upstream API key comes from: a fixed key, or a mounted file re-read when it changes
// (a rotated Kubernetes secret) and remembered while it is briefly missing.
#include "service/config/api_key_source.h"

#include <gtest/gtest.h>

#include "tests/testing/scratch_file.h"

namespace claude {
namespace {

class FileApiKeySourceTest : public ::testing::Test {
 protected:
  testing::ScratchFile key_file_;
};

TEST(StaticApiKeySourceTest, AnswersItsKey) {
  StaticApiKeySource source("sk-ant-static");
  EXPECT_EQ(source.Key(), "sk-ant-static");
  EXPECT_EQ(StaticApiKeySource("").Key(), "");
}

TEST_F(FileApiKeySourceTest, ReadsTheKeyWithoutSurroundingWhitespace) {
  key_file_.Write("  sk-ant-from-file \n\n");
  FileApiKeySource source(key_file_.path());
  EXPECT_EQ(source.Key(), "sk-ant-from-file");
  EXPECT_TRUE(source.Present());
  EXPECT_EQ(source.path(), key_file_.path());
}

TEST_F(FileApiKeySourceTest, ARotatedKeyIsUsedAtTheNextRead) {
  key_file_.Write("sk-ant-first\n");
  FileApiKeySource source(key_file_.path());
  ASSERT_EQ(source.Key(), "sk-ant-first");
  // Another size: the change is seen even within the file system's timestamp granularity.
  key_file_.Write("sk-ant-second-rotated\n");
  EXPECT_EQ(source.Key(), "sk-ant-second-rotated");
}

TEST_F(FileApiKeySourceTest, AMissingFileKeepsTheLastKeyButIsNotPresent) {
  key_file_.Write("sk-ant-kept\n");
  FileApiKeySource source(key_file_.path());
  ASSERT_EQ(source.Key(), "sk-ant-kept");
  key_file_.Remove();
  EXPECT_EQ(source.Key(), "sk-ant-kept") << "a secret being swapped keeps the key in use";
  EXPECT_FALSE(source.Present());
  key_file_.Write("sk-ant-back\n");
  EXPECT_TRUE(source.Present());
  EXPECT_EQ(source.Key(), "sk-ant-back");
}

TEST_F(FileApiKeySourceTest, NoFileAtAllMeansNoKey) {
  FileApiKeySource source(key_file_.path());
  EXPECT_EQ(source.Key(), "");
  EXPECT_FALSE(source.Present());
}

TEST_F(FileApiKeySourceTest, AnEmptyOrBlankFileIsNotPresent) {
  key_file_.Write(" \n\t\n");
  FileApiKeySource source(key_file_.path());
  EXPECT_EQ(source.Key(), "");
  EXPECT_FALSE(source.Present());
}

}  // namespace
}  // namespace claude
