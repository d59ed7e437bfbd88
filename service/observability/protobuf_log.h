// Protobuf reports problems through a logger of its own that prints plain text on stderr, e.g.
// when a request holds a string that is not UTF-8: "[libprotobuf ERROR ...] String field
// 'claude.v1.TextBlock.text' contains invalid UTF-8 data when parsing a protocol buffer...".
// The server's stderr is one JSON object per line, so a ProtobufLogRoute sends those messages
// to the server's log sink as JSON lines instead:
//
//   {"severity":"ERROR","time":"2026-11-29T12:00:00.000Z","log":"protobuf","level":"ERROR","message":"String field ..."}
//
// and remembers, per thread, the last message, so the code that saw a parse fail on that
// thread can say why (TakeProtobufLogOfThisThread).
#ifndef SERVICE_OBSERVABILITY_PROTOBUF_LOG_H_
#define SERVICE_OBSERVABILITY_PROTOBUF_LOG_H_

#include <memory>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/observability/line_sink.h"

namespace claude {

// Protobuf's log is process-wide: the route installed last wins; destroying it restores
// protobuf's own handler unless another route was installed since.
class ProtobufLogRoute {
 public:
  explicit ProtobufLogRoute(std::shared_ptr<LineSink> sink);
  ~ProtobufLogRoute();
  ProtobufLogRoute(const ProtobufLogRoute&) = delete;
  ProtobufLogRoute& operator=(const ProtobufLogRoute&) = delete;

 private:
  uint64_t id_;
};

// The last message protobuf logged on the calling thread since the last call, or "".
std::string TakeProtobufLogOfThisThread();

// The JSON line of one protobuf log message.
std::string FormatProtobufLogLine(absl::Time time, google::protobuf::LogLevel level, absl::string_view message);

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_PROTOBUF_LOG_H_
