#include "service/security/callers_file.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "service/config/config_text.h"

namespace claude {

CallerLimits CallerEntry::LimitsOver(const CallerLimits& defaults) const {
  CallerLimits limits = defaults;
  if (concurrent_streams) limits.concurrent_streams = *concurrent_streams;
  if (requests_per_minute) limits.requests_per_minute = *requests_per_minute;
  if (tokens_per_minute) limits.tokens_per_minute = *tokens_per_minute;
  if (tokens_per_day) limits.tokens_per_day = *tokens_per_day;
  if (tokens_per_month) limits.tokens_per_month = *tokens_per_month;
  if (usd_micros_per_day) limits.usd_micros_per_day = *usd_micros_per_day;
  if (usd_micros_per_month) limits.usd_micros_per_month = *usd_micros_per_month;
  return limits;
}

absl::StatusOr<std::vector<CallerEntry>> ParseCallers(absl::string_view text) {
  std::vector<CallerEntry> entries;
  for (const ConfigLine& line : ConfigLines(text)) {
    const std::vector<absl::string_view>& fields = line.fields;
    const auto error = [&line](absl::string_view what) { return ConfigLineError(line, what); };
    if (fields.size() < 2) return error("expected \"sha256:<hex digest> <caller-name> [setting=N]...\"");
    CallerEntry entry;
    std::optional<TokenDigest> digest = ParseTokenDigest(fields[0]);
    if (!digest) return error("the digest must be \"sha256:\" and 64 hex digits");
    entry.digest = *digest;
    if (!IsValidConfigName(fields[1])) {
      return error("the caller name must be 1-128 characters of A-Z a-z 0-9 . _ : @ / -");
    }
    entry.name = std::string(fields[1]);
    for (size_t i = 2; i < fields.size(); ++i) {
      if (fields[i] == "admin") {
        entry.admin = true;
        continue;
      }
      std::pair<absl::string_view, absl::string_view> setting = absl::StrSplit(fields[i], absl::MaxSplits('=', 1));
      if (setting.first == "usd_per_day" || setting.first == "usd_per_month") {
        // Dollars with cents or finer; kept as micro-dollars, bounded so sums cannot overflow.
        double dollars = 0;
        if (!absl::SimpleAtod(setting.second, &dollars) || !std::isfinite(dollars) || dollars < 0 ||
            dollars > 1e9) {
          return error(absl::StrCat("\"", setting.first, "\" needs an amount of US dollars from 0 to 1e9"));
        }
        const int64_t micros = std::llround(dollars * 1e6);
        (setting.first == "usd_per_day" ? entry.usd_micros_per_day : entry.usd_micros_per_month) = micros;
        continue;
      }
      int64_t value = 0;
      if (!absl::SimpleAtoi(setting.second, &value) || value < 0) {
        return error(absl::StrCat("\"", setting.first, "\" needs a whole number >= 0"));
      }
      if (setting.first == "concurrent_streams") {
        entry.concurrent_streams = value;
      } else if (setting.first == "requests_per_minute") {
        entry.requests_per_minute = value;
      } else if (setting.first == "tokens_per_minute") {
        entry.tokens_per_minute = value;
      } else if (setting.first == "tokens_per_day") {
        entry.tokens_per_day = value;
      } else if (setting.first == "tokens_per_month") {
        entry.tokens_per_month = value;
      } else {
        return error(absl::StrCat("unknown setting \"", setting.first,
                                  "\" (concurrent_streams, requests_per_minute, tokens_per_minute, "
                                  "tokens_per_day, tokens_per_month, usd_per_day, usd_per_month, admin)"));
      }
    }
    for (const CallerEntry& other : entries) {
      if (DigestsEqual(other.digest, entry.digest)) return error("this digest is listed twice");
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

const CallerEntry* FindCaller(const std::vector<CallerEntry>& entries, absl::string_view token) {
  const TokenDigest digest = DigestToken(token);
  const CallerEntry* found = nullptr;
  for (const CallerEntry& entry : entries) {
    // No early exit: the time taken does not depend on which entry matches.
    if (DigestsEqual(entry.digest, digest)) found = &entry;
  }
  return found;
}

}  // namespace claude
