// The wait an upstream asks for, read once for the error table and the retry policy alike:
// retry-after-ms first, then retry-after in seconds or as an HTTP date, which header gave it,
// and nothing for a value that is not a finite, non-negative wait. The cap and the backoff that
// replace a refused value are the retry policy's (tests/service/upstream/retry_policy_test.cc).
#include "service/errors/retry_after.h"

#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace claude {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT

TEST(RetryAfterTest, MillisecondsFirstThenSecondsNamingTheHeaderUsed) {
  const char* source = nullptr;
  EXPECT_EQ(ServerRetryDelay({{"retry-after", "5"}, {"retry-after-ms", "250.5"}}, kNow, &source),
            absl::Microseconds(250500));
  EXPECT_STREQ(source, "retry-after-ms");
  EXPECT_EQ(ServerRetryDelay({{"retry-after", "1.5"}}, kNow, &source), absl::Milliseconds(1500));
  EXPECT_STREQ(source, "retry-after");
}

TEST(RetryAfterTest, AnHttpDateIsTakenRelativeToNow) {
  const char* source = nullptr;
  EXPECT_EQ(ServerRetryDelay({{"retry-after", " Wed, 21 Oct 2015 07:28:20 GMT "}}, kNow, &source),
            absl::Seconds(20));
  EXPECT_STREQ(source, "retry-after");
  EXPECT_EQ(ServerRetryDelay({{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}, kNow),
            absl::ZeroDuration());
  EXPECT_EQ(ServerRetryDelay({{"retry-after", "Wed, 21 Oct 2015 07:27:59 GMT"}}, kNow),
            std::nullopt)
      << "a date in the past";
}

TEST(RetryAfterTest, NotCappedHere) {
  EXPECT_EQ(ServerRetryDelay({{"retry-after", "86400"}}, kNow), absl::Hours(24));
}

TEST(RetryAfterTest, NoValidWaitIsNone) {
  EXPECT_EQ(ServerRetryDelay({}, kNow), std::nullopt);
  for (const char* bad : {"", "soon", "-1", "nan", "inf", "-inf", "1e400", "5 s", "\xff"}) {
    const char* source = "untouched";
    EXPECT_EQ(ServerRetryDelay({{"retry-after", bad}, {"retry-after-ms", bad}}, kNow, &source),
              std::nullopt)
        << bad;
    EXPECT_STREQ(source, "untouched") << bad;
  }
  // An invalid retry-after-ms falls back to retry-after.
  EXPECT_EQ(ServerRetryDelay({{"retry-after-ms", "later"}, {"retry-after", "2"}}, kNow),
            absl::Seconds(2));
}

}  // namespace
}  // namespace claude
