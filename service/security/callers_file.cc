#include "service/security/callers_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "service/observability/server_log.h"

namespace claude {
namespace {

bool IsValidCallerName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '@' && c != '/' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

CallerLimits CallerEntry::LimitsOver(const CallerLimits& defaults) const {
  CallerLimits limits = defaults;
  if (concurrent_streams) limits.concurrent_streams = *concurrent_streams;
  if (requests_per_minute) limits.requests_per_minute = *requests_per_minute;
  if (tokens_per_minute) limits.tokens_per_minute = *tokens_per_minute;
  return limits;
}

absl::StatusOr<std::vector<CallerEntry>> ParseCallers(absl::string_view text) {
  std::vector<CallerEntry> entries;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (const size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    const auto error = [line_number](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", what));
    };
    if (fields.size() < 2) return error("expected \"sha256:<hex digest> <caller-name> [setting=N]...\"");
    CallerEntry entry;
    std::optional<TokenDigest> digest = ParseTokenDigest(fields[0]);
    if (!digest) return error("the digest must be \"sha256:\" and 64 hex digits");
    entry.digest = *digest;
    if (!IsValidCallerName(fields[1])) {
      return error("the caller name must be 1-128 characters of A-Z a-z 0-9 . _ : @ / -");
    }
    entry.name = std::string(fields[1]);
    for (size_t i = 2; i < fields.size(); ++i) {
      std::pair<absl::string_view, absl::string_view> setting = absl::StrSplit(fields[i], absl::MaxSplits('=', 1));
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
      } else {
        return error(absl::StrCat("unknown setting \"", setting.first,
                                  "\" (concurrent_streams, requests_per_minute, tokens_per_minute)"));
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

CallersFile::CallersFile(std::string path, absl::Duration check_interval)
    : path_(std::move(path)), check_interval_(check_interval) {}

absl::Status CallersFile::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  next_check_ = absl::Now() + check_interval_;
  return Refresh();
}

std::shared_ptr<const CallersFile::Table> CallersFile::Current(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (now >= next_check_) {
    next_check_ = now + check_interval_;
    if (absl::Status s = Refresh(); !s.ok()) {
      if (std::string error(s.message()); error != last_error_) {
        LogEvent(Severity::kError,
                 absl::StrCat("--callers_file ", error, "; the last good list of callers stays in force"),
                 {{"event", "config_reload_failed"}, {"file", path_}});
        last_error_ = std::move(error);
      }
    } else {
      last_error_.clear();
    }
  }
  return table_;
}

absl::Status CallersFile::Refresh() {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(path_, ": ", std::strerror(errno)));
  }
  Version version;
  version.mtime = st.st_mtim;
  version.size = static_cast<long long>(st.st_size);
  version.inode = st.st_ino;
  if (table_ != nullptr && version == version_) return absl::OkStatus();
  std::ifstream in(path_);
  if (!in) return absl::NotFoundError(absl::StrCat(path_, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<Table> table = ParseCallers(text.str());
  if (!table.ok()) return absl::InvalidArgumentError(absl::StrCat(path_, ": ", table.status().message()));
  const bool reload = table_ != nullptr;
  table_ = std::make_shared<const Table>(*std::move(table));
  version_ = version;
  LogEvent(Severity::kInfo, reload ? "--callers_file changed: its new list of callers is in force" : "--callers_file read",
           {{"event", reload ? "config_reloaded" : "config_loaded"}, {"file", path_},
            {"callers", static_cast<int64_t>(table_->size())}});
  return absl::OkStatus();
}

}  // namespace claude
