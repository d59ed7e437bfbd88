#include "service/routing/key_pool.h"

#include <gtest/gtest.h>

namespace claude {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1000000);

KeyPoolPolicy Policy() {
  KeyPoolPolicy policy;
  policy.auth_failure_park = absl::Minutes(5);
  policy.rate_limit_park = absl::Seconds(10);
  return policy;
}

TEST(KeyPoolTest, UsesKeysInTurn) {
  KeyPool pool(3, Policy());
  EXPECT_EQ(pool.Next(kNow), 0u);
  EXPECT_EQ(pool.Next(kNow), 1u);
  EXPECT_EQ(pool.Next(kNow), 2u);
  EXPECT_EQ(pool.Next(kNow), 0u);
  EXPECT_EQ(pool.FirstFreeAt(kNow), absl::InfinitePast());
}

TEST(KeyPoolTest, ARefusedKeyIsParkedForAWhile) {
  KeyPool pool(2, Policy());
  pool.Report(0, 401, std::nullopt, kNow);
  EXPECT_EQ(pool.Next(kNow), 1u);
  EXPECT_EQ(pool.Next(kNow), 1u);
  pool.Report(1, 403, std::nullopt, kNow);
  EXPECT_EQ(pool.Next(kNow), std::nullopt);
  EXPECT_EQ(pool.FirstFreeAt(kNow), kNow + absl::Minutes(5));
  EXPECT_TRUE(pool.Next(kNow + absl::Minutes(5)).has_value());
}

TEST(KeyPoolTest, ARateLimitedKeyIsParkedUntilItsRetryAfter) {
  KeyPool pool(2, Policy());
  pool.Report(0, 429, absl::Seconds(3), kNow);
  pool.Report(1, 429, std::nullopt, kNow);  // no retry-after: the policy's default
  EXPECT_EQ(pool.Next(kNow + absl::Seconds(2)), std::nullopt);
  EXPECT_EQ(pool.FirstFreeAt(kNow), kNow + absl::Seconds(3));
  EXPECT_EQ(pool.Next(kNow + absl::Seconds(3)), 0u);
  EXPECT_EQ(pool.Next(kNow + absl::Seconds(3)), 0u);  // key 1 is still parked
  EXPECT_EQ(pool.Next(kNow + absl::Seconds(10)), 1u);
}

TEST(KeyPoolTest, OtherFailuresParkNothingAndASuccessClears) {
  KeyPool pool(1, Policy());
  pool.Report(0, 500, std::nullopt, kNow);
  pool.Report(0, 0, std::nullopt, kNow);  // no response
  EXPECT_EQ(pool.Next(kNow), 0u);
  pool.Report(0, 429, absl::Seconds(30), kNow);
  EXPECT_EQ(pool.Next(kNow), std::nullopt);
  pool.Report(0, 200, std::nullopt, kNow);  // a call that was in flight with it succeeded
  EXPECT_EQ(pool.Next(kNow), 0u);
  pool.Report(7, 401, std::nullopt, kNow);  // unknown keys are ignored
  EXPECT_EQ(pool.Next(kNow), 0u);
}

}  // namespace
}  // namespace claude
