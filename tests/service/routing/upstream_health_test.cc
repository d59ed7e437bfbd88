#include "service/routing/upstream_health.h"

#include <gtest/gtest.h>

namespace claude {
namespace {

using State = UpstreamHealth::State;

const absl::Time kStart = absl::FromUnixSeconds(1000000);

EjectionPolicy Policy() {
  EjectionPolicy policy;
  policy.consecutive_failures = 3;
  policy.base_ejection = absl::Seconds(10);
  policy.max_ejection = absl::Seconds(35);
  return policy;
}

TEST(UpstreamHealthTest, StaysHealthyBelowTheFailureCount) {
  UpstreamHealth health(Policy());
  health.OnFailure(kStart);
  health.OnFailure(kStart);
  health.OnSuccess();  // breaks the run
  health.OnFailure(kStart);
  health.OnFailure(kStart);
  EXPECT_TRUE(health.TryAdmit(kStart));
  EXPECT_EQ(health.state(kStart), State::kHealthy);
}

TEST(UpstreamHealthTest, NoFailureCountNeverEjects) {
  EjectionPolicy off = Policy();
  off.consecutive_failures = 0;  // --ejection_failures=0
  UpstreamHealth health(off);
  for (int i = 0; i < 100; ++i) health.OnFailure(kStart);
  EXPECT_TRUE(health.TryAdmit(kStart));
  EXPECT_EQ(health.state(kStart), State::kHealthy);
  EXPECT_EQ(health.ejections(), 0);
  // A retry-after still keeps calls away until then.
  health.BackOffUntil(kStart + absl::Seconds(5));
  EXPECT_FALSE(health.TryAdmit(kStart));
}

TEST(UpstreamHealthTest, EjectsAfterConsecutiveFailuresThenProbesOnce) {
  UpstreamHealth health(Policy());
  for (int i = 0; i < 3; ++i) health.OnFailure(kStart);
  EXPECT_EQ(health.state(kStart), State::kEjected);
  EXPECT_FALSE(health.TryAdmit(kStart + absl::Seconds(9)));
  // The period is over: one call probes, the others still skip it.
  const absl::Time later = kStart + absl::Seconds(10);
  EXPECT_EQ(health.state(later), State::kProbing);
  EXPECT_TRUE(health.TryAdmit(later));
  EXPECT_FALSE(health.TryAdmit(later));
  health.OnSuccess();
  EXPECT_EQ(health.state(later), State::kHealthy);
  EXPECT_TRUE(health.TryAdmit(later));
  EXPECT_TRUE(health.TryAdmit(later));
  EXPECT_EQ(health.ejections(), 0);
}

TEST(UpstreamHealthTest, AFailedProbeEjectsForLongerUpToTheMaximum) {
  UpstreamHealth health(Policy());
  for (int i = 0; i < 3; ++i) health.OnFailure(kStart);
  absl::Time now = kStart;
  for (const absl::Duration period : {absl::Seconds(10), absl::Seconds(20), absl::Seconds(35),
                                      absl::Seconds(35)}) {
    EXPECT_FALSE(health.TryAdmit(now + period - absl::Milliseconds(1)));
    now += period;
    ASSERT_TRUE(health.TryAdmit(now));  // the probe
    health.OnFailure(now);
  }
  EXPECT_EQ(health.ejections(), 5);
}

TEST(UpstreamHealthTest, LateFailuresOfCallsAdmittedBeforeTheEjectionDoNotExtendIt) {
  UpstreamHealth health(Policy());
  for (int i = 0; i < 3; ++i) health.OnFailure(kStart);
  health.OnFailure(kStart + absl::Seconds(5));  // a call that started earlier
  EXPECT_TRUE(health.TryAdmit(kStart + absl::Seconds(10)));
  EXPECT_EQ(health.ejections(), 1);
}

TEST(UpstreamHealthTest, AProbeThatNeverReportsIsReplaced) {
  UpstreamHealth health(Policy());
  for (int i = 0; i < 3; ++i) health.OnFailure(kStart);
  const absl::Time probe = kStart + absl::Seconds(10);
  EXPECT_TRUE(health.TryAdmit(probe));  // its call is cancelled and never reports
  EXPECT_FALSE(health.TryAdmit(probe + absl::Seconds(9)));
  EXPECT_TRUE(health.TryAdmit(probe + absl::Seconds(10)));
}

TEST(UpstreamHealthTest, RetryAfterKeepsCallsAwayWithoutAnEjection) {
  UpstreamHealth health(Policy());
  health.BackOffUntil(kStart + absl::Seconds(4));
  health.BackOffUntil(kStart + absl::Seconds(2));  // an earlier one does not shorten it
  EXPECT_FALSE(health.TryAdmit(kStart + absl::Seconds(3)));
  EXPECT_EQ(health.state(kStart + absl::Seconds(3)), State::kEjected);
  EXPECT_TRUE(health.TryAdmit(kStart + absl::Seconds(4)));
  EXPECT_EQ(health.ejections(), 0);
}

}  // namespace
}  // namespace claude
