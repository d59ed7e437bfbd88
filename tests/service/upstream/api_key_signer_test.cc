// The signer of APIs that take a key: x-api-key or Authorization: Bearer, the key source asked
// at most once a second, no header while there is no key, and the --upstream_auth names.
#include "service/upstream/api_key_signer.h"

#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/time.h"

namespace claude {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// Counts how often the key is read.
class CountingKeySource : public ApiKeySource {
 public:
  std::string Key() override {
    ++reads;
    return key;
  }
  std::string key = "sk-ant-one";
  int reads = 0;
};

TEST(ApiKeySignerTest, ReadsTheSourceAtMostOnceASecond) {
  auto source = std::make_shared<CountingKeySource>();
  ApiKeySigner signer(source, ApiKeyScheme::kXApiKey);
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  EXPECT_THAT(*signer.Sign(HttpRequest(), t0), ElementsAre(Pair("x-api-key", "sk-ant-one")));
  source->key = "sk-ant-two";
  EXPECT_THAT(*signer.Sign(HttpRequest(), t0 + absl::Milliseconds(900)),
              ElementsAre(Pair("x-api-key", "sk-ant-one")));
  EXPECT_EQ(source->reads, 1);
  EXPECT_THAT(*signer.Sign(HttpRequest(), t0 + absl::Milliseconds(1100)),
              ElementsAre(Pair("x-api-key", "sk-ant-two")));
  EXPECT_EQ(source->reads, 2);
}

TEST(ApiKeySignerTest, BearerAndNoKey) {
  auto source = std::make_shared<CountingKeySource>();
  ApiKeySigner bearer(source, ApiKeyScheme::kBearer);
  EXPECT_THAT(*bearer.Sign(HttpRequest(), absl::UnixEpoch()),
              ElementsAre(Pair("authorization", "Bearer sk-ant-one")));
  source->key = "";
  ApiKeySigner keyless(source, ApiKeyScheme::kXApiKey);
  EXPECT_TRUE(keyless.Sign(HttpRequest(), absl::UnixEpoch())->empty());
}

TEST(ApiKeySchemeTest, TheUpstreamAuthNames) {
  EXPECT_EQ(*ParseApiKeyScheme("x-api-key"), ApiKeyScheme::kXApiKey);
  EXPECT_EQ(*ParseApiKeyScheme("bearer"), ApiKeyScheme::kBearer);
  for (const char* other : {"", "Bearer", "basic", "x-api-key "}) {
    const absl::StatusOr<ApiKeyScheme> refused = ParseApiKeyScheme(other);
    ASSERT_FALSE(refused.ok()) << other;
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(refused.status().message(), HasSubstr("upstream auth must be x-api-key or bearer"));
  }
}

}  // namespace
}  // namespace claude
