// A LineSink that writes to stderr from its own thread, so the threads that end RPCs (the curl
// loop among them) never wait on a slow or full stderr pipe. Lines beyond a bounded backlog are
// dropped and counted, and a note says how many. Lines are written in batches, at most
// `flush_interval` after they arrive: one wakeup of the writer per RPC would cost the server a
// context switch per call.
#ifndef SERVICE_OBSERVABILITY_STDERR_LINE_WRITER_H_
#define SERVICE_OBSERVABILITY_STDERR_LINE_WRITER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "common/sync/mutex.h"
#include "service/observability/line_sink.h"

namespace claude {

class StderrLineWriter final : public LineSink {
 public:
  explicit StderrLineWriter(size_t max_backlog_lines = 10000, int fd = 2,
                            std::chrono::milliseconds flush_interval = std::chrono::milliseconds(20));
  // Writes what is queued, then stops.
  ~StderrLineWriter() override;

  void Write(std::string line) override;

 private:
  void Run();

  const size_t max_backlog_;
  const int fd_;
  const std::chrono::milliseconds flush_interval_;
  Mutex mu_;
  std::condition_variable wake_;
  std::deque<std::string> lines_ ABSL_GUARDED_BY(mu_);
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_STDERR_LINE_WRITER_H_
