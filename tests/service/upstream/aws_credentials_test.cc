#include "service/upstream/aws_credentials.h"

#include <stdlib.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/scratch_file.h"

namespace claude {
namespace {

using ::claude::testing::WriteScratchFile;
using ::testing::HasSubstr;

TEST(AwsCredentialsTest, ReadsTheEnvironment) {
  setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
  setenv("AWS_SECRET_ACCESS_KEY", " secret\n", 1);
  setenv("AWS_SESSION_TOKEN", "token", 1);
  absl::StatusOr<AwsCredentials> credentials = AwsCredentialsFromEnvironment();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->access_key_id, "AKID");
  EXPECT_EQ(credentials->secret_access_key, "secret");
  EXPECT_EQ(credentials->session_token, "token");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  EXPECT_THAT(std::string(AwsCredentialsFromEnvironment().status().message()),
              HasSubstr("AWS_SECRET_ACCESS_KEY"));
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SESSION_TOKEN");
}

TEST(AwsCredentialsTest, FilesAreReadAgainWhenTheyChange) {
  const std::string id = WriteScratchFile("id", "AKID1\n");
  const std::string secret = WriteScratchFile("secret", "s1");
  const std::string token = WriteScratchFile("token", "t1");
  AwsCredentialFiles files(id, secret, token);
  absl::StatusOr<AwsCredentials> first = files.Credentials();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->access_key_id, "AKID1");
  EXPECT_EQ(first->session_token, "t1");
  WriteScratchFile("token",
                   "token-two");  // another size: seen as changed whatever the clock's grain
  EXPECT_EQ(files.Credentials()->session_token, "token-two");
  AwsCredentialFiles missing(id + ".missing", secret, "");
  EXPECT_EQ(missing.Credentials().status().code(), absl::StatusCode::kUnavailable);
}

TEST(AwsCredentialsTest, ParsesTheSharedCredentialsFile) {
  const std::string text =
      "# comment\n[other]\naws_access_key_id = NOPE\n\n[default]\naws_access_key_id = AKID\n"
      "aws_secret_access_key=secret/with+chars\naws_session_token = tok\nregion = us-east-1\n";
  absl::StatusOr<AwsCredentials> credentials = ParseAwsSharedCredentials(text, "default");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_EQ(credentials->access_key_id, "AKID");
  EXPECT_EQ(credentials->secret_access_key, "secret/with+chars");
  EXPECT_EQ(credentials->session_token, "tok");
  EXPECT_THAT(std::string(ParseAwsSharedCredentials(text, "prod").status().message()),
              HasSubstr("no [prod] profile"));
  EXPECT_THAT(std::string(ParseAwsSharedCredentials(text, "other").status().message()),
              HasSubstr("needs aws_access_key_id and aws_secret_access_key"));

  AwsSharedCredentialsFile file(WriteScratchFile("shared", text), "default");
  EXPECT_EQ(file.Credentials()->access_key_id, "AKID");
}

}  // namespace
}  // namespace claude
