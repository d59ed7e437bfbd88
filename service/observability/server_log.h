// The server's own events (startup, drain, configuration reloads, readiness changes, errors,
// and gRPC's own log lines) as one JSON object per line, the format of the per-RPC lines:
//
//   {"severity":"INFO","time":"2026-11-29T12:00:00.000Z","message":"listening on port 50051, ...","port":50051}
//
// INFO lines go to stdout and WARNING and ERROR lines to stderr (with the per-RPC lines), each
// through a StderrLineWriter-style thread, so no gRPC or curl thread waits on a slow pipe.
// Process-wide: every part of the server logs through LogEvent().
#ifndef SERVICE_OBSERVABILITY_SERVER_LOG_H_
#define SERVICE_OBSERVABILITY_SERVER_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/observability/line_sink.h"

namespace claude {

enum class Severity { kInfo, kWarning, kError };

// "INFO", "WARNING", "ERROR" (the names Cloud Logging and most collectors read).
const char* SeverityName(Severity severity);

// One member of a log line beside severity, time and message.
class LogField {
 public:
  LogField(absl::string_view name, absl::string_view text);
  LogField(absl::string_view name, const char* text) : LogField(name, absl::string_view(text)) {}
  LogField(absl::string_view name, const std::string& text) : LogField(name, absl::string_view(text)) {}
  LogField(absl::string_view name, int64_t number);
  LogField(absl::string_view name, int number) : LogField(name, static_cast<int64_t>(number)) {}

  // `"name":value`, JSON.
  const std::string& member() const { return member_; }

 private:
  std::string member_;
};

// {"severity":..,"time":..,"message":..,<fields>} on one line.
std::string FormatLogLine(Severity severity, absl::Time time, absl::string_view message,
                          std::initializer_list<LogField> fields = {});

// Writes one line, now, to the process's sink for `severity`.
void LogEvent(Severity severity, absl::string_view message, std::initializer_list<LogField> fields = {});

// The sink of WARNING and ERROR lines (stderr), which the per-RPC log shares so that the two
// never interleave within a line.
std::shared_ptr<LineSink> ProblemLogSink();

// Sends every line to `sink` instead (tests); null restores stdout and stderr.
void SetServerLogSinkForTesting(std::shared_ptr<LineSink> sink);

// Writes out every line logged so far (before the process exits: main() and std::exit call it).
void FlushServerLog();

// gRPC's own log lines (gpr_log) become server log lines with the same severity.
void RouteGrpcLogsToServerLog();

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_SERVER_LOG_H_
