// The fixed windows that budgets (and, with Redis, the per-minute limits) count in: a minute, a
// UTC day, a UTC calendar month. A window is named by an id (its number since the epoch) and
// ends at a known instant, which is when a refused caller may retry. Tests shorten them (a
// "day" of two seconds) instead of waiting for one.
#ifndef SERVICE_QUOTA_QUOTA_WINDOWS_H_
#define SERVICE_QUOTA_QUOTA_WINDOWS_H_

#include <cstdint>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace claude {

struct QuotaWindow {
  int64_t id = 0;
  absl::Time end;
};

struct QuotaWindows {
  absl::Duration minute = absl::Minutes(1);
  absl::Duration day = absl::Hours(24);
  // Zero: calendar months (UTC). Tests set a length.
  absl::Duration month = absl::ZeroDuration();

  QuotaWindow MinuteAt(absl::Time now) const { return Fixed(minute, now); }
  QuotaWindow DayAt(absl::Time now) const { return Fixed(day, now); }
  QuotaWindow MonthAt(absl::Time now) const {
    if (month > absl::ZeroDuration()) return Fixed(month, now);
    const absl::CivilMonth civil = absl::ToCivilMonth(now, absl::UTCTimeZone());
    return {civil.year() * 12 + civil.month() - 1, absl::FromCivil(civil + 1, absl::UTCTimeZone())};
  }

 private:
  static QuotaWindow Fixed(absl::Duration length, absl::Time now) {
    absl::Duration remainder;  // IDivDuration needs somewhere to put it
    const int64_t id = absl::IDivDuration(now - absl::UnixEpoch(), length, &remainder);
    return {id, absl::UnixEpoch() + length * (id + 1)};
  }
};

}  // namespace claude

#endif  // SERVICE_QUOTA_QUOTA_WINDOWS_H_
