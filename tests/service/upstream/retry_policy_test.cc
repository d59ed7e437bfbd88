#include "service/upstream/retry_policy.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace claude {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kNoDeadline = absl::InfiniteDuration();

// A policy whose jitter is always `fraction`.
RetryPolicy FixedJitter(double fraction, int max_retries = 2) {
  return RetryPolicy(max_retries, [fraction] { return fraction; });
}

// ---------------------------------------------------------------------------------------------
// What is retried.

class RetryableStatusTest : public ::testing::TestWithParam<int> {};

TEST_P(RetryableStatusTest, Retried) {
  const RetryDecision d = FixedJitter(0).Decide(0, GetParam(), {}, kNoDeadline);
  EXPECT_TRUE(d.retry) << d.reason;
  EXPECT_EQ(d.delay, absl::Milliseconds(500));
  EXPECT_THAT(d.reason, HasSubstr("is retryable"));
}

INSTANTIATE_TEST_SUITE_P(Statuses, RetryableStatusTest,
                         ::testing::Values(0, 408, 409, 429, 500, 501, 502, 503, 504, 529, 599),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return absl::StrCat("Http", p.param);
                         });

class FinalStatusTest : public ::testing::TestWithParam<int> {};

TEST_P(FinalStatusTest, NotRetried) {
  const RetryDecision d = FixedJitter(0).Decide(0, GetParam(), {}, kNoDeadline);
  EXPECT_FALSE(d.retry);
  EXPECT_EQ(d.delay, absl::ZeroDuration());
  EXPECT_THAT(d.reason, HasSubstr("is not retryable"));
}

INSTANTIATE_TEST_SUITE_P(Statuses, FinalStatusTest,
                         ::testing::Values(400, 401, 402, 403, 404, 405, 413, 422, 499),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return absl::StrCat("Http", p.param);
                         });

TEST(RetryPolicyTest, ConnectionErrorReason) {
  EXPECT_THAT(FixedJitter(0).Decide(0, 0, {}, kNoDeadline).reason,
              HasSubstr("connection error is retryable"));
}

// ---------------------------------------------------------------------------------------------
// Max retries.

TEST(RetryPolicyTest, MaxRetries) {
  const RetryPolicy policy = FixedJitter(0);  // the default: 2 retries
  EXPECT_EQ(policy.max_retries(), 2);
  EXPECT_TRUE(policy.Decide(0, 529, {}, kNoDeadline).retry);
  EXPECT_TRUE(policy.Decide(1, 529, {}, kNoDeadline).retry);
  const RetryDecision third = policy.Decide(2, 529, {}, kNoDeadline);
  EXPECT_FALSE(third.retry);
  EXPECT_THAT(third.reason, HasSubstr("no retries left"));
  EXPECT_FALSE(policy.Decide(7, 529, {}, kNoDeadline).retry);
}

TEST(RetryPolicyTest, ZeroOrNegativeMaxRetriesNeverRetries) {
  EXPECT_FALSE(FixedJitter(0, 0).Decide(0, 503, {}, kNoDeadline).retry);
  EXPECT_EQ(FixedJitter(0, -3).max_retries(), 0);
  EXPECT_FALSE(FixedJitter(0, -3).Decide(0, 503, {{"x-should-retry", "true"}}, kNoDeadline).retry);
}

TEST(RetryPolicyTest, DefaultMaxRetriesIsTwo) { EXPECT_EQ(RetryPolicy().max_retries(), 2); }

// ---------------------------------------------------------------------------------------------
// x-should-retry.

TEST(ShouldRetryHeaderTest, TrueForcesARetry) {
  const RetryDecision d =
      FixedJitter(0).Decide(0, 400, {{"x-should-retry", "true"}}, kNoDeadline);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, absl::Milliseconds(500));
  EXPECT_THAT(d.reason, HasSubstr("x-should-retry: true"));
}

TEST(ShouldRetryHeaderTest, FalseForbidsOne) {
  for (int status : {0, 408, 429, 500, 529}) {
    const RetryDecision d =
        FixedJitter(0).Decide(0, status, {{"x-should-retry", "false"}}, kNoDeadline);
    EXPECT_FALSE(d.retry) << status;
    EXPECT_THAT(d.reason, HasSubstr("x-should-retry: false"));
  }
}

TEST(ShouldRetryHeaderTest, DoesNotOverrideMaxRetries) {
  EXPECT_FALSE(FixedJitter(0).Decide(2, 529, {{"x-should-retry", "true"}}, kNoDeadline).retry);
}

TEST(ShouldRetryHeaderTest, OtherValuesAreIgnored) {
  EXPECT_FALSE(FixedJitter(0).Decide(0, 400, {{"x-should-retry", "maybe"}}, kNoDeadline).retry);
  EXPECT_TRUE(FixedJitter(0).Decide(0, 529, {{"x-should-retry", "1"}}, kNoDeadline).retry);
  // Case and surrounding blanks do not matter.
  EXPECT_TRUE(FixedJitter(0).Decide(0, 400, {{"x-should-retry", " True "}}, kNoDeadline).retry);
}

// ---------------------------------------------------------------------------------------------
// Server-given delays.

TEST(ServerDelayTest, RetryAfterMs) {
  const RetryDecision d = FixedJitter(0.9).Decide(0, 429, {{"retry-after-ms", "250"}}, kNoDeadline);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, absl::Milliseconds(250));  // no jitter on a server-given delay
  EXPECT_THAT(d.reason, HasSubstr("retry-after-ms asks for 250ms"));
  EXPECT_EQ(FixedJitter(0).Decide(0, 429, {{"retry-after-ms", "1234.5"}}, kNoDeadline).delay,
            absl::Microseconds(1234500));
}

TEST(ServerDelayTest, RetryAfterSeconds) {
  EXPECT_EQ(FixedJitter(0).Decide(0, 429, {{"retry-after", "3"}}, kNoDeadline).delay,
            absl::Seconds(3));
  EXPECT_EQ(FixedJitter(0).Decide(0, 429, {{"retry-after", "1.5"}}, kNoDeadline).delay,
            absl::Milliseconds(1500));
}

TEST(ServerDelayTest, RetryAfterHttpDate) {
  const absl::Time now = absl::FromUnixSeconds(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  const RetryDecision d = FixedJitter(0).Decide(
      0, 503, {{"retry-after", "Wed, 21 Oct 2015 07:28:20 GMT"}}, kNoDeadline, now);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, absl::Seconds(20));
  EXPECT_EQ(ServerRetryDelay({{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}, now),
            absl::ZeroDuration());
  // In the past: not valid, so backoff.
  EXPECT_EQ(FixedJitter(0)
                .Decide(0, 503, {{"retry-after", "Wed, 21 Oct 2015 07:27:00 GMT"}}, kNoDeadline,
                        now)
                .delay,
            absl::Milliseconds(500));
}

TEST(ServerDelayTest, RetryAfterHttpDateAgainstTheClock) {
  const std::string date = absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                            absl::Now() + absl::Seconds(10), absl::UTCTimeZone());
  const RetryDecision d = FixedJitter(0).Decide(0, 429, {{"retry-after", date}}, kNoDeadline);
  EXPECT_TRUE(d.retry);
  EXPECT_GT(d.delay, absl::Seconds(7));
  EXPECT_LE(d.delay, absl::Seconds(10));
}

TEST(ServerDelayTest, RetryAfterMsTakesPrecedence) {
  EXPECT_EQ(FixedJitter(0)
                .Decide(0, 429, {{"retry-after", "5"}, {"retry-after-ms", "100"}}, kNoDeadline)
                .delay,
            absl::Milliseconds(100));
}

TEST(ServerDelayTest, InvalidRetryAfterMsFallsBackToRetryAfter) {
  for (const char* bad : {"", "soon", "-1", "nan", "inf", "1e400"}) {
    EXPECT_EQ(FixedJitter(0)
                  .Decide(0, 429, {{"retry-after-ms", bad}, {"retry-after", "2"}}, kNoDeadline)
                  .delay,
              absl::Seconds(2))
        << bad;
  }
}

TEST(ServerDelayTest, InvalidValuesFallBackToBackoff) {
  for (const char* bad : {"", "later", "-2", "nan", "Mon, 32 Foo 2020 99:00:00 GMT"}) {
    EXPECT_EQ(FixedJitter(0).Decide(1, 429, {{"retry-after", bad}}, kNoDeadline).delay,
              absl::Seconds(1))
        << bad;
  }
}

TEST(ServerDelayTest, BoundsZeroToSixtySeconds) {
  EXPECT_EQ(FixedJitter(0).Decide(0, 429, {{"retry-after", "0"}}, kNoDeadline).delay,
            absl::ZeroDuration());
  EXPECT_TRUE(FixedJitter(0).Decide(0, 429, {{"retry-after", "0"}}, kNoDeadline).retry);
  EXPECT_EQ(FixedJitter(0).Decide(0, 429, {{"retry-after", "60"}}, kNoDeadline).delay,
            absl::Seconds(60));
  EXPECT_EQ(FixedJitter(0).Decide(0, 429, {{"retry-after-ms", "60000"}}, kNoDeadline).delay,
            absl::Seconds(60));
  // Over the cap: ignored in favour of backoff, which the reason says.
  const RetryDecision over = FixedJitter(0).Decide(0, 429, {{"retry-after", "61"}}, kNoDeadline);
  EXPECT_TRUE(over.retry);
  EXPECT_EQ(over.delay, absl::Milliseconds(500));
  EXPECT_THAT(over.reason, HasSubstr("exceeds the 60s cap"));
  EXPECT_EQ(
      FixedJitter(0).Decide(1, 429, {{"retry-after-ms", "60000.5"}}, kNoDeadline).delay,
      absl::Seconds(1));
}

TEST(ServerDelayTest, ServerRetryDelayIsUncapped) {
  const absl::Time now = absl::Now();
  EXPECT_EQ(ServerRetryDelay({{"retry-after", "3600"}}, now), absl::Hours(1));
  EXPECT_EQ(ServerRetryDelay({}, now), std::nullopt);
  EXPECT_EQ(ServerRetryDelay({{"retry-after", "x"}}, now), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Backoff and jitter.

TEST(BackoffTest, DoublesFromHalfASecondUpToEight) {
  const RetryPolicy policy = FixedJitter(0, 100);
  const absl::Duration expected[] = {absl::Milliseconds(500), absl::Seconds(1), absl::Seconds(2),
                                     absl::Seconds(4),        absl::Seconds(8), absl::Seconds(8),
                                     absl::Seconds(8)};
  for (int n = 0; n < 7; ++n) {
    EXPECT_EQ(policy.Decide(n, 503, {}, kNoDeadline).delay, expected[n]) << n;
  }
  EXPECT_EQ(policy.Decide(99, 503, {}, kNoDeadline).delay, absl::Seconds(8));
}

TEST(BackoffTest, JitterShortensByUpToAQuarter) {
  EXPECT_EQ(FixedJitter(0.5).Decide(0, 503, {}, kNoDeadline).delay, absl::Milliseconds(437.5));
  EXPECT_EQ(FixedJitter(0.5, 10).Decide(4, 503, {}, kNoDeadline).delay, absl::Seconds(7));
  const absl::Duration almost_one = FixedJitter(0.999999).Decide(0, 503, {}, kNoDeadline).delay;
  EXPECT_GT(almost_one, absl::Milliseconds(375));
  EXPECT_LT(almost_one, absl::Milliseconds(376));
}

TEST(BackoffTest, OutOfRangeRandomIsClamped) {
  EXPECT_EQ(FixedJitter(7).Decide(0, 503, {}, kNoDeadline).delay, absl::Milliseconds(375));
  EXPECT_EQ(FixedJitter(-1).Decide(0, 503, {}, kNoDeadline).delay, absl::Milliseconds(500));
}

TEST(BackoffTest, DefaultRandomStaysInRange) {
  const RetryPolicy policy(5);
  absl::Duration lowest = absl::InfiniteDuration();
  absl::Duration highest = absl::ZeroDuration();
  for (int i = 0; i < 2000; ++i) {
    const absl::Duration d = policy.Decide(1, 503, {}, kNoDeadline).delay;
    ASSERT_GT(d, absl::Milliseconds(750));
    ASSERT_LE(d, absl::Seconds(1));
    lowest = std::min(lowest, d);
    highest = std::max(highest, d);
  }
  EXPECT_LT(highest - lowest, absl::Milliseconds(250) + absl::Nanoseconds(1));
  EXPECT_GT(highest - lowest, absl::Milliseconds(100));  // it does vary
}

TEST(BackoffTest, UsesTheInjectedRandomOncePerBackoff) {
  int calls = 0;
  const RetryPolicy policy(2, [&calls] {
    ++calls;
    return 0.0;
  });
  policy.Decide(0, 503, {}, kNoDeadline);
  EXPECT_EQ(calls, 1);
  policy.Decide(0, 503, {{"retry-after", "1"}}, kNoDeadline);  // server delay: no jitter
  policy.Decide(0, 400, {}, kNoDeadline);                      // no retry: no jitter
  EXPECT_EQ(calls, 1);
}

// ---------------------------------------------------------------------------------------------
// The caller's deadline.

TEST(DeadlineTest, NoRetryThatWouldStartPastTheDeadline) {
  const RetryDecision d = FixedJitter(0).Decide(0, 503, {}, absl::Milliseconds(400));
  EXPECT_FALSE(d.retry);
  EXPECT_EQ(d.delay, absl::ZeroDuration());
  EXPECT_THAT(d.reason, HasSubstr("deadline"));

  // Exactly at the deadline is too late as well.
  EXPECT_FALSE(FixedJitter(0).Decide(0, 503, {}, absl::Milliseconds(500)).retry);
  EXPECT_TRUE(FixedJitter(0).Decide(0, 503, {}, absl::Milliseconds(501)).retry);
}

TEST(DeadlineTest, AppliesToServerDelays) {
  EXPECT_FALSE(FixedJitter(0).Decide(0, 429, {{"retry-after", "30"}}, absl::Seconds(10)).retry);
  EXPECT_TRUE(FixedJitter(0).Decide(0, 429, {{"retry-after", "30"}}, absl::Seconds(31)).retry);
}

TEST(DeadlineTest, PassedDeadline) {
  EXPECT_FALSE(FixedJitter(0).Decide(0, 429, {{"retry-after", "0"}}, absl::ZeroDuration()).retry);
  EXPECT_FALSE(FixedJitter(0).Decide(0, 503, {}, -absl::Seconds(1)).retry);
}

}  // namespace
}  // namespace claude
