// libcurl's handles owned and its options set as statuses: an option curl refuses is an
// INTERNAL status naming the option and curl's reason, never a silently half-configured
// transfer; headers append to an owned list; the body writer appends what curl hands it.
#include "common/curl/curl_handles.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace claude {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class CurlHandlesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  static void TearDownTestSuite() { curl_global_cleanup(); }
};

TEST_F(CurlHandlesTest, AnAcceptedOptionIsOk) {
  CurlEasy easy(curl_easy_init());
  ASSERT_NE(easy, nullptr);
  EXPECT_TRUE(SetOption(easy.get(), CURLOPT_URL, "http://127.0.0.1:1/").ok());
  EXPECT_TRUE(SetOption(easy.get(), CURLOPT_NOSIGNAL, 1L).ok());
  CurlMulti multi(curl_multi_init());
  ASSERT_NE(multi, nullptr);
  EXPECT_TRUE(SetMultiOption(multi.get(), CURLMOPT_MAXCONNECTS, 8L).ok());
}

TEST_F(CurlHandlesTest, ARefusedOptionIsInternalNamingTheOptionAndCurlsReason) {
  CurlEasy easy(curl_easy_init());
  ASSERT_NE(easy, nullptr);
  const absl::Status status = SetOption(easy.get(), CURLOPT_HTTP_VERSION, 999L);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(
      std::string(status.message()),
      StartsWith(absl::StrCat("curl option ", static_cast<int>(CURLOPT_HTTP_VERSION), ": ")));
  EXPECT_THAT(status.message(), HasSubstr(curl_easy_strerror(CURLE_UNSUPPORTED_PROTOCOL)));
}

TEST_F(CurlHandlesTest, ARefusedMultiOptionIsInternal) {
  CurlMulti multi(curl_multi_init());
  ASSERT_NE(multi, nullptr);
  const absl::Status status = SetMultiOption(multi.get(), static_cast<CURLMoption>(99999), 1L);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(status.message(),
            absl::StrCat("curl multi option 99999: ", curl_multi_strerror(CURLM_UNKNOWN_OPTION)));
}

TEST_F(CurlHandlesTest, HeadersAppendToTheOwnedListInOrder) {
  CurlHeaderList list;
  ASSERT_TRUE(AppendHeader(list, "x-api-key: k").ok());
  ASSERT_TRUE(AppendHeader(list, "anthropic-version: 2023-06-01").ok());
  std::vector<std::string> lines;
  for (const curl_slist* item = list.get(); item != nullptr; item = item->next)
    lines.emplace_back(item->data);
  EXPECT_THAT(lines, ElementsAre("x-api-key: k", "anthropic-version: 2023-06-01"));
}

TEST_F(CurlHandlesTest, AppendToStringTakesEveryByte) {
  std::string body = "already ";
  char chunk[] = {'a', '\0', 'b'};
  EXPECT_EQ(AppendToString(chunk, 1, sizeof(chunk), &body), sizeof(chunk)) << "all consumed";
  EXPECT_EQ(body, std::string("already a\0b", 11));
  EXPECT_EQ(AppendToString(chunk, 1, 0, &body), 0u);
}

}  // namespace
}  // namespace claude
