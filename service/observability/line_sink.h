// Where log lines go: stderr in production (StderrLineWriter), a capture in tests.
#ifndef SERVICE_OBSERVABILITY_LINE_SINK_H_
#define SERVICE_OBSERVABILITY_LINE_SINK_H_

#include <string>

namespace claude {

class LineSink {
 public:
  virtual ~LineSink() = default;
  // Takes one line, without its newline. Called from any thread; must not block for long.
  virtual void Write(std::string line) = 0;
};

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_LINE_SINK_H_
