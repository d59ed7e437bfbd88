// Per-caller limits over a sliding minute, with an explicit clock.
#include "service/security/caller_limiter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace claude {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

// One call of caller "a" from start to end at `at`: admitted, then its concurrent slot released
// (what it counts against the windows stays counted). Fails with the refusal's message.
::testing::AssertionResult CallRuns(CallerLimiter& limiter, const CallerLimits& limits,
                                    absl::Time at) {
  if (std::optional<LimitRefusal> refused = limiter.Acquire("a", limits, at)) {
    return ::testing::AssertionFailure() << "refused: " << refused->message;
  }
  limiter.Release("a");
  return ::testing::AssertionSuccess();
}

TEST(CallerLimiterTest, UnlimitedAdmitsEverything) {
  CallerLimiter limiter;
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.Acquire("a", {}, kStart).has_value());
}

TEST(CallerLimiterTest, ConcurrentStreamsFreeOnRelease) {
  CallerLimiter limiter;
  CallerLimits limits;
  limits.concurrent_streams = 2;
  EXPECT_FALSE(limiter.Acquire("a", limits, kStart));
  EXPECT_FALSE(limiter.Acquire("a", limits, kStart));
  std::optional<LimitRefusal> refused = limiter.Acquire("a", limits, kStart);
  ASSERT_TRUE(refused.has_value());
  EXPECT_THAT(refused->message, HasSubstr("2 concurrent streams"));
  EXPECT_EQ(refused->reason, "caller_concurrent_streams");
  EXPECT_EQ(refused->retry_after, CallerLimiter::kConcurrencyRetryAfter);
  EXPECT_FALSE(limiter.Acquire("b", limits, kStart));  // another caller has its own slots
  limiter.Release("a");
  EXPECT_EQ(limiter.active("a"), 1);
  EXPECT_FALSE(limiter.Acquire("a", limits, kStart));
}

TEST(CallerLimiterTest, RequestsPerMinuteSlideAndSayWhenTheyFree) {
  CallerLimiter limiter;
  CallerLimits limits;
  limits.requests_per_minute = 3;
  EXPECT_TRUE(CallRuns(limiter, limits, kStart));
  EXPECT_TRUE(CallRuns(limiter, limits, kStart + absl::Seconds(10)));
  EXPECT_TRUE(CallRuns(limiter, limits, kStart + absl::Seconds(20)));
  std::optional<LimitRefusal> refused = limiter.Acquire("a", limits, kStart + absl::Seconds(30));
  ASSERT_TRUE(refused.has_value());
  EXPECT_THAT(refused->message, HasSubstr("3 requests per minute"));
  EXPECT_EQ(refused->reason, "caller_requests_per_minute");
  EXPECT_EQ(refused->retry_after, absl::Seconds(30));  // the first request leaves at +60 s
  // A refused request is not counted: at +60 s the first one has left the window.
  EXPECT_FALSE(limiter.Acquire("a", limits, kStart + absl::Seconds(60)));
  refused = limiter.Acquire("a", limits, kStart + absl::Seconds(61));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->retry_after, absl::Seconds(9));  // the +10 s one leaves at +70 s
}

// A batch counts 1 + its requests, all or none; the wait is until enough of the window frees.
TEST(CallerLimiterTest, ABatchCountsItsRequestsAllOrNothing) {
  CallerLimiter limiter;
  CallerLimits limits;
  limits.requests_per_minute = 10;
  EXPECT_FALSE(limiter.AdmitWindows("a", limits, kStart, 4));                      // a batch of 3
  EXPECT_FALSE(limiter.AdmitWindows("a", limits, kStart + absl::Seconds(10), 3));  // a batch of 2
  std::optional<LimitRefusal> refused =
      limiter.AdmitWindows("a", limits, kStart + absl::Seconds(20), 5);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->reason, "caller_requests_per_minute");
  EXPECT_FALSE(refused->never_fits);
  EXPECT_THAT(refused->message, HasSubstr("a batch of 4 requests counts 5"));
  EXPECT_THAT(refused->message, HasSubstr("3 are left"));
  EXPECT_EQ(refused->retry_after, absl::Seconds(40));  // the first batch's 4 leave at +60 s
  EXPECT_EQ(limiter.Usage("a", kStart + absl::Seconds(20)).requests_this_minute, 7)
      << "the refusal counted nothing";
  refused = limiter.AdmitWindows("a", limits, kStart + absl::Seconds(20), 11);
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(refused->never_fits);
  EXPECT_THAT(refused->message, HasSubstr("can never fit"));
  EXPECT_FALSE(limiter.AdmitWindows("a", limits, kStart + absl::Seconds(20), 3));
  EXPECT_TRUE(limiter.Acquire("a", limits, kStart + absl::Seconds(20)).has_value())
      << "10 of 10 used";
  EXPECT_FALSE(limiter.AdmitWindows("a", limits, kStart + absl::Seconds(60), 4))
      << "the first batch left";
}

TEST(CallerLimiterTest, TokensPerMinuteCountEndedCalls) {
  CallerLimiter limiter;
  CallerLimits limits;
  limits.tokens_per_minute = 1000;
  EXPECT_TRUE(CallRuns(limiter, limits, kStart));
  limiter.RecordTokens("a", 600, kStart);
  EXPECT_TRUE(CallRuns(limiter, limits, kStart + absl::Seconds(1)));  // 600 < 1000
  limiter.RecordTokens("a", 700, kStart + absl::Seconds(5));
  std::optional<LimitRefusal> refused = limiter.Acquire("a", limits, kStart + absl::Seconds(10));
  ASSERT_TRUE(refused.has_value());
  EXPECT_THAT(refused->message, HasSubstr("1000 tokens per minute"));
  EXPECT_EQ(refused->reason, "caller_tokens_per_minute");
  // The first 600 leave when their second has left the window: at +61 s, leaving 700 < 1000.
  EXPECT_EQ(refused->retry_after, absl::Seconds(51));
  EXPECT_TRUE(limiter.Acquire("a", limits, kStart + absl::Seconds(60)).has_value());
  EXPECT_FALSE(limiter.Acquire("a", limits, kStart + absl::Seconds(61)).has_value());
  EXPECT_FALSE(limiter.Acquire("b", limits, kStart + absl::Seconds(10)).has_value());
}

TEST(CallerLimiterTest, IdleCallersAreForgotten) {
  CallerLimiter limiter;
  CallerLimits limits;
  limits.concurrent_streams = 1;
  EXPECT_TRUE(CallRuns(limiter, limits, kStart));
  EXPECT_EQ(limiter.active("a"), 0);
  limiter.Release("a");  // an extra release does not go negative
  EXPECT_FALSE(limiter.Acquire("a", limits, kStart));
  EXPECT_TRUE(limiter.Acquire("a", limits, kStart).has_value());
}

TEST(CallerLimiterTest, BudgetsCountFixedDaysAndMonths) {
  QuotaWindows windows;
  windows.day = absl::Hours(24);
  CallerLimiter limiter(windows);
  CallerLimits limits;
  limits.tokens_per_day = 1000;
  limits.usd_micros_per_month = 2'000'000;  // $2
  // kStart is 2027-01-15 08:00:00 UTC: the day ends in 16 h, the month on February 1st.
  EXPECT_TRUE(CallRuns(limiter, limits, kStart));
  limiter.RecordTokens("a", 1200, kStart, 500'000);
  std::optional<LimitRefusal> refused = limiter.Acquire("a", limits, kStart + absl::Hours(1));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->reason, "caller_tokens_per_day");
  EXPECT_EQ(refused->retry_after, absl::Hours(15));
  EXPECT_THAT(refused->message, HasSubstr("1000 tokens per day"));
  EXPECT_TRUE(CallRuns(limiter, limits, kStart + absl::Hours(16))) << "a new day";
  limiter.RecordTokens("a", 10, kStart + absl::Hours(17), 1'600'000);  // $2.10 this month
  refused = limiter.Acquire("a", limits, kStart + absl::Hours(18));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->reason, "caller_usd_per_month");
  EXPECT_EQ(refused->retry_after, absl::FromCivil(absl::CivilDay(2027, 2, 1), absl::UTCTimeZone()) -
                                      (kStart + absl::Hours(18)));
  EXPECT_THAT(refused->message, HasSubstr("$2.00 per month"));
  CallerUsageCounts usage = limiter.Usage("a", kStart + absl::Hours(18));
  EXPECT_EQ(usage.tokens_today, 10);
  EXPECT_EQ(usage.tokens_this_month, 1210);
  EXPECT_EQ(usage.usd_micros_this_month, 2'100'000);
  // AdmitWindows takes no concurrent slot.
  CallerLimits concurrency;
  concurrency.concurrent_streams = 1;
  EXPECT_FALSE(limiter.AdmitWindows("b", concurrency, kStart).has_value());
  EXPECT_EQ(limiter.active("b"), 0);
}

}  // namespace
}  // namespace claude
