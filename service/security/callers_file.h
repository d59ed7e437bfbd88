// The callers file: which bearer tokens may call, and under which caller name. It holds token
// digests, never tokens, one caller per line:
//
//   # comments and blank lines are ignored
//   sha256:<64 hex digits> <caller-name> [concurrent_streams=N] [requests_per_minute=N] [tokens_per_minute=N]
//       [tokens_per_day=N] [tokens_per_month=N] [usd_per_day=D] [usd_per_month=D] [admin]
//
// The digest is the SHA-256 of the token's bytes (`printf %s "$TOKEN" | sha256sum`, or
// `claude-grpc-cli hash-token`). Caller names are 1-128 characters of [A-Za-z0-9._:@/-]; several
// tokens may share a name (a rotation), and then share its limits' buckets. The optional
// settings override the server's --caller_* defaults for that token (0 = unlimited). The budgets
// (tokens and US dollars, D a decimal such as 12.50, per UTC day and calendar month) have no
// server-wide default. `admin` lets the caller read other callers' usage (Admin/GetCallerUsage).
#ifndef SERVICE_SECURITY_CALLERS_FILE_H_
#define SERVICE_SECURITY_CALLERS_FILE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/security/token_digest.h"
#include "service/config/reloading_file.h"
#include "service/security/caller_limiter.h"

namespace claude {

struct CallerEntry {
  TokenDigest digest;
  std::string name;
  // Each set field overrides the server's default for this caller.
  std::optional<int64_t> concurrent_streams;
  std::optional<int64_t> requests_per_minute;
  std::optional<int64_t> tokens_per_minute;
  std::optional<int64_t> tokens_per_day;
  std::optional<int64_t> tokens_per_month;
  std::optional<int64_t> usd_micros_per_day;
  std::optional<int64_t> usd_micros_per_month;
  // May read every caller's usage, not only its own.
  bool admin = false;

  // `defaults` with this entry's overrides applied.
  CallerLimits LimitsOver(const CallerLimits& defaults) const;
};

// Parses the file's text; an error names the line ("line 3: ..."), and never repeats a digest.
absl::StatusOr<std::vector<CallerEntry>> ParseCallers(absl::string_view text);

// The entry whose digest is the digest of `token`, or null. Every entry is compared, each in
// constant time.
const CallerEntry* FindCaller(const std::vector<CallerEntry>& entries, absl::string_view token);

// A callers file on disk (a mounted Kubernetes secret), re-read when it changes (at most once
// per `check_interval`; see ReloadingFile). A file that disappears or no longer parses leaves
// the last good table in force (and is reported on stderr); to revoke a token, remove its line.
// Thread-safe; the stat and the read of this small file happen on the calling (gRPC) thread, at
// most once per interval.
class CallersFile : public ReloadingFile<std::vector<CallerEntry>> {
 public:
  using Table = std::vector<CallerEntry>;

  CallersFile(std::string path, absl::Duration check_interval)
      : ReloadingFile(std::move(path), check_interval, "--callers_file",
                      "the last good list of callers stays in force", &ParseCallers) {}
};

}  // namespace claude

#endif  // SERVICE_SECURITY_CALLERS_FILE_H_
