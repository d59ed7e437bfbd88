#include "service/observability/server_log.h"

#include <grpc/support/log.h>

#include <cstdlib>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"
#include "service/observability/stderr_line_writer.h"

namespace claude {
namespace {

struct Sinks {
  std::mutex mu;
  std::shared_ptr<LineSink> info;
  std::shared_ptr<LineSink> problems;
  std::shared_ptr<LineSink> override_sink;
};

// Created on first use and never destroyed: lines may be logged from threads that outlive
// main()'s statics (gRPC's).
Sinks& GetSinks() {
  static Sinks* const sinks = new Sinks();
  return *sinks;
}

std::shared_ptr<LineSink> SinkFor(Severity severity) {
  Sinks& sinks = GetSinks();
  std::lock_guard<std::mutex> lock(sinks.mu);
  if (sinks.override_sink != nullptr) return sinks.override_sink;
  std::shared_ptr<LineSink>& sink = severity == Severity::kInfo ? sinks.info : sinks.problems;
  if (sink == nullptr) {
    sink = std::make_shared<StderrLineWriter>(10000, severity == Severity::kInfo ? 1 : 2);
    static const bool flush_at_exit = std::atexit(FlushServerLog) == 0;
    (void)flush_at_exit;
  }
  return sink;
}

void GrpcLogToServerLog(gpr_log_func_args* args) {
  const Severity severity = args->severity == GPR_LOG_SEVERITY_ERROR     ? Severity::kError
                            : args->severity == GPR_LOG_SEVERITY_INFO    ? Severity::kInfo
                            : args->severity == GPR_LOG_SEVERITY_DEBUG   ? Severity::kInfo
                                                                         : Severity::kWarning;
  LogEvent(severity, args->message != nullptr ? args->message : "",
           {{"logger", "grpc"}, {"source", absl::StrCat(args->file != nullptr ? args->file : "", ":", args->line)}});
}

}  // namespace

const char* SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "INFO";
    case Severity::kWarning:
      return "WARNING";
    case Severity::kError:
      return "ERROR";
  }
  return "ERROR";
}

LogField::LogField(absl::string_view name, absl::string_view text) {
  AppendJsonString(name, &member_);
  member_.push_back(':');
  AppendJsonString(text, &member_);
}

LogField::LogField(absl::string_view name, int64_t number) {
  AppendJsonString(name, &member_);
  absl::StrAppend(&member_, ":", number);
}

std::string FormatLogLine(Severity severity, absl::Time time, absl::string_view message,
                          std::initializer_list<LogField> fields) {
  std::string line = absl::StrCat("{\"severity\":\"", SeverityName(severity), "\",\"time\":\"",
                                  absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone()),
                                  "\",\"message\":");
  AppendJsonString(message, &line);
  for (const LogField& field : fields) absl::StrAppend(&line, ",", field.member());
  line.push_back('}');
  return line;
}

void LogEvent(Severity severity, absl::string_view message, std::initializer_list<LogField> fields) {
  SinkFor(severity)->Write(FormatLogLine(severity, absl::Now(), message, fields));
}

std::shared_ptr<LineSink> ProblemLogSink() { return SinkFor(Severity::kError); }

void SetServerLogSinkForTesting(std::shared_ptr<LineSink> sink) {
  Sinks& sinks = GetSinks();
  std::lock_guard<std::mutex> lock(sinks.mu);
  sinks.override_sink = std::move(sink);
}

void FlushServerLog() {
  std::shared_ptr<LineSink> info, problems;
  {
    Sinks& sinks = GetSinks();
    std::lock_guard<std::mutex> lock(sinks.mu);
    info = std::move(sinks.info);
    problems = std::move(sinks.problems);
  }
  // The writers write what they hold when the last reference goes (the per-RPC log may hold
  // the stderr one a little longer).
}

void RouteGrpcLogsToServerLog() { gpr_set_log_function(GrpcLogToServerLog); }

}  // namespace claude
