// The readiness check: an upstream and a readable, non-empty API key, checked at start and then
// again and again on its own thread; the health status follows it.
#include "service/server/readiness.h"

#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sync/mutex.h"
#include "service/config/api_key_source.h"
#include "service/server/health_service.h"
#include "tests/testing/scratch_file.h"
#include "tests/testing/wait_until.h"

namespace claude {
namespace {

using ::claude::testing::ScratchFile;
using ::claude::testing::WaitUntil;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A key the test changes while the check's thread reads it.
class ChangingApiKeySource final : public ApiKeySource {
 public:
  explicit ChangingApiKeySource(std::string key) : key_(std::move(key)) {}
  std::string Key() override {
    MutexLock lock(mu_);
    return key_;
  }
  void Set(std::string key) {
    MutexLock lock(mu_);
    key_ = std::move(key);
  }

 private:
  Mutex mu_;
  std::string key_ ABSL_GUARDED_BY(mu_);
};

// Long enough that a test asserting right after construction sees the first check only.
constexpr absl::Duration kSlowInterval = absl::Hours(1);
constexpr absl::Duration kFastInterval = absl::Milliseconds(5);
constexpr absl::Duration kWait = absl::Seconds(10);

TEST(ReadinessTest, ReadyWithAnUpstreamAndAKey) {
  HealthStatus health({});
  Readiness readiness("https://api.anthropic.com", std::make_shared<StaticApiKeySource>("sk-ant-k"),
                      &health, kSlowInterval);
  EXPECT_THAT(readiness.reasons(), IsEmpty());
  EXPECT_TRUE(health.serving());
}

TEST(ReadinessTest, EachMissingPieceIsAReason) {
  HealthStatus health({});
  Readiness neither("", nullptr, &health, kSlowInterval);
  EXPECT_THAT(neither.reasons(), ElementsAre(kNoUpstreamReason, kNoApiKeyReason));
  EXPECT_FALSE(health.serving());

  HealthStatus empty_key_health({});
  Readiness empty_key("https://api.anthropic.com", std::make_shared<StaticApiKeySource>(""),
                      &empty_key_health, kSlowInterval);
  EXPECT_THAT(empty_key.reasons(), ElementsAre(kNoApiKeyReason));
  EXPECT_FALSE(empty_key_health.serving());
}

TEST(ReadinessTest, FollowsTheKeyAsItComesAndGoes) {
  HealthStatus health({});
  auto key = std::make_shared<ChangingApiKeySource>("");
  Readiness readiness("https://api.anthropic.com", key, &health, kFastInterval);
  EXPECT_THAT(readiness.reasons(), ElementsAre(kNoApiKeyReason));
  key->Set("sk-ant-arrived");
  EXPECT_TRUE(WaitUntil([&] { return health.serving(); }, kWait));
  EXPECT_THAT(readiness.reasons(), IsEmpty());
  key->Set("");
  EXPECT_TRUE(WaitUntil([&] { return !health.serving(); }, kWait));
  EXPECT_THAT(readiness.reasons(), ElementsAre(kNoApiKeyReason));
}

TEST(ReadinessTest, AKeyFileThatGoesAwayIsNotReadyThoughItsKeyIsKept) {
  const ScratchFile key_file;
  key_file.Write("sk-ant-mounted\n");
  auto key = std::make_shared<FileApiKeySource>(key_file.path());
  HealthStatus health({});
  Readiness readiness("https://api.anthropic.com", key, &health, kFastInterval);
  EXPECT_TRUE(health.serving());
  key_file.Remove();
  EXPECT_TRUE(WaitUntil([&] { return !health.serving(); }, kWait));
  EXPECT_THAT(readiness.reasons(), ElementsAre(kNoApiKeyReason));
  EXPECT_EQ(key->Key(), "sk-ant-mounted");
}

TEST(ReadinessTest, StopsCheckingWhenDestroyedWithoutWaitingForTheInterval) {
  HealthStatus health({});
  const absl::Time start = absl::Now();
  {
    Readiness readiness("https://api.anthropic.com", std::make_shared<StaticApiKeySource>("k"),
                        &health, kSlowInterval);
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(30)) << "the destructor waited out the interval";
}

}  // namespace
}  // namespace claude
