// The callers file: token digests, the parser, and the re-read of a changed file.
#include "service/security/callers_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace claude {
namespace {

using ::testing::HasSubstr;

// SHA-256("abc"), FIPS 180-2's first example.
constexpr char kAbcDigest[] = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(TokenDigestTest, IsSha256InHex) {
  EXPECT_EQ(FormatTokenDigest(DigestToken("abc")), kAbcDigest);
}

TEST(TokenDigestTest, ParsesEitherCaseAndRejectsTheRest) {
  ASSERT_TRUE(ParseTokenDigest(kAbcDigest).has_value());
  EXPECT_TRUE(DigestsEqual(*ParseTokenDigest(kAbcDigest), DigestToken("abc")));
  EXPECT_TRUE(ParseTokenDigest("SHA256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD").has_value());
  EXPECT_FALSE(ParseTokenDigest("sha256:ba78").has_value());
  EXPECT_FALSE(ParseTokenDigest("md5:900150983cd24fb0d6963f7d28e17f72").has_value());
  EXPECT_FALSE(ParseTokenDigest("sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad").has_value());
  EXPECT_FALSE(DigestsEqual(DigestToken("abc"), DigestToken("abd")));
}

TEST(ParseCallersTest, ReadsNamesSettingsAndComments) {
  const std::string text = std::string("# the callers\n\n") + kAbcDigest +
                           "  billing-service   # trailing comment\n" +
                           FormatTokenDigest(DigestToken("other")) +
                           "\tsearch/indexer concurrent_streams=2 requests_per_minute=60 tokens_per_minute=0\r\n";
  absl::StatusOr<std::vector<CallerEntry>> entries = ParseCallers(text);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "billing-service");
  EXPECT_FALSE((*entries)[0].concurrent_streams.has_value());
  EXPECT_EQ((*entries)[1].name, "search/indexer");
  EXPECT_EQ((*entries)[1].concurrent_streams, 2);
  EXPECT_EQ((*entries)[1].requests_per_minute, 60);
  EXPECT_EQ((*entries)[1].tokens_per_minute, 0);

  CallerLimits defaults{5, 100, 1000};
  CallerLimits limits = (*entries)[1].LimitsOver(defaults);
  EXPECT_EQ(limits.concurrent_streams, 2);
  EXPECT_EQ(limits.requests_per_minute, 60);
  EXPECT_EQ(limits.tokens_per_minute, 0);  // an explicit 0: unlimited for this caller
  EXPECT_EQ((*entries)[0].LimitsOver(defaults).tokens_per_minute, 1000);

  EXPECT_EQ(FindCaller(*entries, "abc"), &(*entries)[0]);
  EXPECT_EQ(FindCaller(*entries, "other"), &(*entries)[1]);
  EXPECT_EQ(FindCaller(*entries, "abcd"), nullptr);
  EXPECT_EQ(FindCaller(*entries, ""), nullptr);
}

TEST(ParseCallersTest, ReadsBudgetsAndTheAdminMark) {
  const std::string text = std::string(kAbcDigest) +
                           " finance tokens_per_day=50000 tokens_per_month=1000000 usd_per_day=12.5 "
                           "usd_per_month=300 admin\n";
  absl::StatusOr<std::vector<CallerEntry>> entries = ParseCallers(text);
  ASSERT_TRUE(entries.ok()) << entries.status();
  const CallerEntry& e = (*entries)[0];
  EXPECT_TRUE(e.admin);
  CallerLimits limits = e.LimitsOver({});
  EXPECT_EQ(limits.tokens_per_day, 50000);
  EXPECT_EQ(limits.tokens_per_month, 1000000);
  EXPECT_EQ(limits.usd_micros_per_day, 12'500'000);
  EXPECT_EQ(limits.usd_micros_per_month, 300'000'000);
  EXPECT_TRUE(limits.has_windowed_limits());

  for (const char* bad : {" x usd_per_day=-1", " x usd_per_day=nan", " x usd_per_day=1e12", " x usd_per_month=",
                          " x tokens_per_day=1.5", " x administrator"}) {
    absl::StatusOr<std::vector<CallerEntry>> refused = ParseCallers(std::string(kAbcDigest) + bad);
    EXPECT_FALSE(refused.ok()) << bad;
    EXPECT_THAT(std::string(refused.status().message()), HasSubstr("line 1"));
  }
}

TEST(ParseCallersTest, AnEmptyFileHasNoCallers) {
  absl::StatusOr<std::vector<CallerEntry>> entries = ParseCallers("# nobody yet\n");
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
}

TEST(ParseCallersTest, ErrorsNameTheLine) {
  const std::string d = kAbcDigest;
  struct Case {
    std::string text;
    std::string error;
  } cases[] = {
      {"\n" + d + "\n", "line 2: expected"},
      {"sha256:abc name\n", "line 1: the digest"},
      {"abc name\n", "line 1: the digest"},
      {d + " bad!name\n", "line 1: the caller name"},
      {d + " svc rpm=5\n", "line 1: unknown setting \"rpm\""},
      {d + " svc requests_per_minute=-1\n", "whole number"},
      {d + " svc requests_per_minute\n", "whole number"},
      {d + " a\n" + d + " b\n", "line 2: this digest is listed twice"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<CallerEntry>> entries = ParseCallers(c.text);
    ASSERT_FALSE(entries.ok()) << c.text;
    EXPECT_THAT(entries.status().message(), HasSubstr(c.error)) << c.text;
  }
}

class CallersFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/callers_file_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/callers";
  }
  void TearDown() override {
    std::remove(path_.c_str());
    rmdir(dir_.c_str());
  }
  // Replaces the file as a Kubernetes secret update does: a new file renamed over the old.
  void Write(const std::string& text) {
    const std::string tmp = dir_ + "/callers.new";
    std::ofstream(tmp) << text;
    ASSERT_EQ(std::rename(tmp.c_str(), path_.c_str()), 0);
  }
  std::string dir_, path_;
};

TEST_F(CallersFileTest, LoadFailsForAMissingOrMalformedFile) {
  CallersFile missing(path_, absl::ZeroDuration());
  EXPECT_FALSE(missing.Load().ok());
  Write("not a digest\n");
  CallersFile malformed(path_, absl::ZeroDuration());
  absl::Status status = malformed.Load();
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("line 1"));
}

TEST_F(CallersFileTest, PicksUpAChangeAndKeepsTheLastGoodTable) {
  Write(std::string(kAbcDigest) + " first\n");
  CallersFile file(path_, absl::ZeroDuration());
  ASSERT_TRUE(file.Load().ok());
  auto table = file.Current(absl::Now());
  ASSERT_NE(FindCaller(*table, "abc"), nullptr);
  EXPECT_EQ(FindCaller(*table, "abc")->name, "first");

  Write(FormatTokenDigest(DigestToken("new")) + " second\n");
  table = file.Current(absl::Now());
  EXPECT_EQ(FindCaller(*table, "abc"), nullptr);  // revoked
  ASSERT_NE(FindCaller(*table, "new"), nullptr);

  Write("garbage\n");  // a broken update: the last good table stays
  table = file.Current(absl::Now());
  ASSERT_NE(FindCaller(*table, "new"), nullptr);
  std::remove(path_.c_str());  // a secret being swapped: likewise
  table = file.Current(absl::Now());
  EXPECT_NE(FindCaller(*table, "new"), nullptr);
}

TEST_F(CallersFileTest, ChecksAtMostOncePerInterval) {
  Write(std::string(kAbcDigest) + " first\n");
  CallersFile file(path_, absl::Hours(1));
  ASSERT_TRUE(file.Load().ok());
  Write(FormatTokenDigest(DigestToken("new")) + " second\n");
  const absl::Time now = absl::Now();
  EXPECT_NE(FindCaller(*file.Current(now), "abc"), nullptr);  // not due yet
  EXPECT_NE(FindCaller(*file.Current(now + absl::Hours(2)), "new"), nullptr);
}

}  // namespace
}  // namespace claude
