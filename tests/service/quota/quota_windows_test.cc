// The fixed windows budgets count in: minutes, UTC days and UTC calendar months, each named by
// its number since the epoch and ending at the instant a refused caller may retry; shortened
// windows for tests.
#include "service/quota/quota_windows.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace claude {
namespace {

absl::Time Utc(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         absl::UTCTimeZone());
}

TEST(QuotaWindowsTest, AMinuteEndsAtTheNextWholeMinute) {
  const QuotaWindows windows;
  const QuotaWindow window =
      windows.MinuteAt(Utc(2026, 11, 29, 12, 0, 59) + absl::Milliseconds(999));
  EXPECT_EQ(window.end, Utc(2026, 11, 29, 12, 1, 0));
  EXPECT_EQ(window.id, absl::ToUnixSeconds(Utc(2026, 11, 29, 12, 0, 0)) / 60);
  // The boundary itself belongs to the next window.
  const QuotaWindow next = windows.MinuteAt(Utc(2026, 11, 29, 12, 1, 0));
  EXPECT_EQ(next.id, window.id + 1);
  EXPECT_EQ(next.end, Utc(2026, 11, 29, 12, 2, 0));
}

TEST(QuotaWindowsTest, ADayIsAUtcDay) {
  const QuotaWindows windows;
  const QuotaWindow day = windows.DayAt(Utc(2026, 11, 29, 23, 59, 59));
  EXPECT_EQ(day.end, Utc(2026, 11, 30));
  EXPECT_EQ(windows.DayAt(Utc(2026, 11, 29)).id, day.id) << "from midnight";
  EXPECT_EQ(windows.DayAt(Utc(2026, 11, 30)).id, day.id + 1);
}

TEST(QuotaWindowsTest, AMonthIsACalendarMonthInUtc) {
  const QuotaWindows windows;
  const QuotaWindow november = windows.MonthAt(Utc(2026, 11, 29, 12));
  EXPECT_EQ(november.end, Utc(2026, 12, 1));
  const QuotaWindow december = windows.MonthAt(Utc(2026, 12, 31, 23, 59, 59));
  EXPECT_EQ(december.id, november.id + 1);
  EXPECT_EQ(december.end, Utc(2027, 1, 1)) << "over the year's end";
  EXPECT_EQ(windows.MonthAt(Utc(2027, 1, 1)).id, december.id + 1);
  EXPECT_EQ(windows.MonthAt(Utc(2028, 2, 10)).end, Utc(2028, 3, 1)) << "a leap February";
}

TEST(QuotaWindowsTest, TestsMayShortenEveryWindow) {
  QuotaWindows windows;
  windows.minute = absl::Seconds(1);
  windows.day = absl::Seconds(2);
  windows.month = absl::Seconds(4);
  const absl::Time t = absl::FromUnixSeconds(1001) + absl::Milliseconds(500);
  EXPECT_EQ(windows.MinuteAt(t).end, absl::FromUnixSeconds(1002));
  EXPECT_EQ(windows.DayAt(t).end, absl::FromUnixSeconds(1002));
  EXPECT_EQ(windows.MonthAt(t).end, absl::FromUnixSeconds(1004));
  EXPECT_EQ(windows.MonthAt(t).id, 250);
}

}  // namespace
}  // namespace claude
