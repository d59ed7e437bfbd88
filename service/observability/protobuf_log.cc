#include "service/observability/protobuf_log.h"

#include <mutex>
#include <utility>

#include "absl/time/clock.h"
#include "common/codec/json_mapping.h"

namespace claude {
namespace {

// How much of one protobuf message is kept (they name a field, a type and a reason).
constexpr size_t kMaxMessageBytes = 1024;

std::mutex route_mu;
std::shared_ptr<LineSink>* route_sink = nullptr;  // guarded by route_mu; leaked on purpose
uint64_t route_id = 0;                            // guarded by route_mu
// Protobuf's own handler (stderr), put back when the last route goes; guarded by route_mu.
google::protobuf::LogHandler* protobuf_handler = nullptr;

thread_local std::string last_message_of_thread;

const char* LevelName(google::protobuf::LogLevel level) {
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO: return "INFO";
    case google::protobuf::LOGLEVEL_WARNING: return "WARNING";
    case google::protobuf::LOGLEVEL_ERROR: return "ERROR";
    case google::protobuf::LOGLEVEL_FATAL: return "FATAL";
  }
  return "UNKNOWN";
}

// Called by protobuf, on whatever thread logs.
void RouteToSink(google::protobuf::LogLevel level, const char* /*filename*/, int /*line*/,
                 const std::string& message) {
  // Protobuf's messages quote field values only by name, but they are cut to be safe.
  last_message_of_thread = message.substr(0, kMaxMessageBytes);
  std::shared_ptr<LineSink> sink;
  {
    std::lock_guard<std::mutex> lock(route_mu);
    if (route_sink != nullptr) sink = *route_sink;
  }
  if (sink != nullptr) sink->Write(FormatProtobufLogLine(absl::Now(), level, last_message_of_thread));
}

}  // namespace

ProtobufLogRoute::ProtobufLogRoute(std::shared_ptr<LineSink> sink) {
  std::lock_guard<std::mutex> lock(route_mu);
  if (route_sink == nullptr) route_sink = new std::shared_ptr<LineSink>();
  *route_sink = std::move(sink);
  id_ = ++route_id;
  google::protobuf::LogHandler* previous = google::protobuf::SetLogHandler(&RouteToSink);
  if (previous != &RouteToSink) protobuf_handler = previous;
}

ProtobufLogRoute::~ProtobufLogRoute() {
  std::lock_guard<std::mutex> lock(route_mu);
  if (route_id != id_) return;  // another route was installed since
  route_sink->reset();
  google::protobuf::SetLogHandler(protobuf_handler);
}

std::string TakeProtobufLogOfThisThread() { return std::exchange(last_message_of_thread, std::string()); }

std::string FormatProtobufLogLine(absl::Time time, google::protobuf::LogLevel level, absl::string_view message) {
  // `severity` as every server line has it (FATAL is ERROR there); `level` kept as protobuf names it.
  std::string line = "{\"severity\":";
  AppendJsonString(level == google::protobuf::LOGLEVEL_FATAL ? "ERROR" : LevelName(level), &line);
  line += ",\"time\":";
  AppendJsonString(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone()), &line);
  line += ",\"log\":\"protobuf\",\"level\":";
  AppendJsonString(LevelName(level), &line);
  line += ",\"message\":";
  AppendJsonString(message, &line);
  line += "}";
  return line;
}

}  // namespace claude
