// A configuration file kept parsed and fresh: read at start, then stat()ed at most once per
// interval and parsed again when it changed (WatchedFile). A file that disappears or stops
// parsing leaves the last good value in force; the problem is logged (one JSON line of the server
// log) once, not on every check, and so is each successful read. The callers file and the prices
// file are both one.
#ifndef SERVICE_CONFIG_RELOADING_FILE_H_
#define SERVICE_CONFIG_RELOADING_FILE_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sync/mutex.h"
#include "service/config/watched_file.h"
#include "service/observability/server_log.h"

namespace claude {

template <typename T>
class ReloadingFile {
 public:
  using Parser = std::function<absl::StatusOr<T>(absl::string_view text)>;

  // `flag` names the file in reports ("--callers_file"), `kept` says what stays in force.
  ReloadingFile(std::string path, absl::Duration check_interval, std::string flag, std::string kept, Parser parse)
      : check_interval_(check_interval),
        flag_(std::move(flag)),
        kept_(std::move(kept)),
        parse_(std::move(parse)),
        file_(std::move(path)) {}

  // The first read; fails when the file cannot be read or parsed.
  absl::Status Load() {
    MutexLock lock(mu_);
    next_check_ = absl::Now() + check_interval_;
    return Refresh();
  }

  // The value in force, the file re-read first when due; null before a successful Load.
  // Thread-safe; the stat (and a changed file's read) happen on the calling thread.
  std::shared_ptr<const T> Current(absl::Time now) {
    MutexLock lock(mu_);
    if (now >= next_check_) {
      next_check_ = now + check_interval_;
      if (absl::Status s = Refresh(); !s.ok()) {
        if (std::string error(s.message()); error != last_error_) {
          LogEvent(Severity::kError, absl::StrCat(flag_, " ", error, "; ", kept_),
                   {{"event", "config_reload_failed"}, {"file", file_.path()}});
          last_error_ = std::move(error);
        }
      } else {
        last_error_.clear();
      }
    }
    return value_;
  }

 private:
  absl::Status Refresh() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::StatusOr<std::optional<std::string>> text = file_.ReadIfChanged();
    if (!text.ok()) return text.status();
    if (!text->has_value()) return absl::OkStatus();
    absl::StatusOr<T> value = parse_(**text);
    if (!value.ok()) {
      file_.Forget();  // read it again next time: the next version may parse
      return absl::InvalidArgumentError(absl::StrCat(file_.path(), ": ", value.status().message()));
    }
    const bool reload = value_ != nullptr;
    value_ = std::make_shared<const T>(*std::move(value));
    LogEvent(Severity::kInfo, absl::StrCat(flag_, reload ? " changed: the new version is in force" : " read"),
             {{"event", reload ? "config_reloaded" : "config_loaded"}, {"file", file_.path()}});
    return absl::OkStatus();
  }

  const absl::Duration check_interval_;
  const std::string flag_;
  const std::string kept_;
  const Parser parse_;
  Mutex mu_;
  WatchedFile file_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const T> value_ ABSL_GUARDED_BY(mu_);
  absl::Time next_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string last_error_ ABSL_GUARDED_BY(mu_);  // reported once, not on every check
};

}  // namespace claude

#endif  // SERVICE_CONFIG_RELOADING_FILE_H_
