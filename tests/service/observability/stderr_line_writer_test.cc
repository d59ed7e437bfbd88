// The log writer thread, writing into a pipe the test reads: every line in order with its
// newline, all of them written before the writer is gone, and a backlog bounded when the pipe
// does not drain, the lines beyond it dropped and counted in a note.
#include "service/observability/stderr_line_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace claude {
namespace {

using ::testing::HasSubstr;

// A pipe whose read end a thread drains into `received` until every write end is closed.
class DrainedPipe {
 public:
  DrainedPipe() { EXPECT_EQ(pipe2(fds_, O_CLOEXEC), 0); }
  ~DrainedPipe() {
    CloseWriteEnd();
    if (reader_.joinable()) reader_.join();
    close(fds_[0]);
  }
  int write_fd() const { return fds_[1]; }
  // Fills the pipe's buffer with 'x' bytes, so that the next blocking write waits for Drain().
  void Fill() {
    ASSERT_EQ(fcntl(fds_[1], F_SETFL, O_NONBLOCK), 0);
    const std::string filler(4096, 'x');
    while (write(fds_[1], filler.data(), filler.size()) > 0) {
    }
    ASSERT_EQ(errno, EAGAIN);
    ASSERT_EQ(fcntl(fds_[1], F_SETFL, 0), 0);
  }
  void Drain() {
    reader_ = std::thread([this] {
      char buffer[4096];
      ssize_t n;
      while ((n = read(fds_[0], buffer, sizeof(buffer))) > 0)
        received_.append(buffer, static_cast<size_t>(n));
    });
  }
  void CloseWriteEnd() {
    if (fds_[1] >= 0) close(fds_[1]);
    fds_[1] = -1;
  }
  // Everything read, once the write end is closed; the 'x' filler left out.
  std::string Received() {
    CloseWriteEnd();
    if (reader_.joinable()) reader_.join();
    return received_.substr(received_.find_first_not_of('x') == std::string::npos
                                ? received_.size()
                                : received_.find_first_not_of('x'));
  }

 private:
  int fds_[2] = {-1, -1};
  std::thread reader_;
  std::string received_;  // the reader's until it is joined
};

TEST(StderrLineWriterTest, EveryLineIsWrittenInOrderBeforeTheWriterIsGone) {
  DrainedPipe pipe;
  pipe.Drain();
  std::string expected;
  {
    StderrLineWriter writer(/*max_backlog_lines=*/10000, pipe.write_fd());
    for (int i = 0; i < 1000; ++i) {
      writer.Write(absl::StrCat("line ", i));
      absl::StrAppend(&expected, "line ", i, "\n");
    }
  }
  EXPECT_EQ(pipe.Received(), expected);
}

TEST(StderrLineWriterTest, AStuckPipeBoundsTheBacklogAndTheDroppedLinesAreCounted) {
  DrainedPipe pipe;
  pipe.Fill();
  constexpr int kLines = 100;
  {
    StderrLineWriter writer(/*max_backlog_lines=*/2, pipe.write_fd(), std::chrono::milliseconds(1));
    // The writer blocks on its first write into the full pipe: from then on, at most two lines
    // wait and the rest are dropped.
    for (int i = 0; i < kLines; ++i) writer.Write(absl::StrCat("line ", i));
    pipe.Drain();
  }
  const std::vector<std::string> lines = absl::StrSplit(pipe.Received(), '\n', absl::SkipEmpty());
  int written = 0;
  int64_t dropped = 0;
  for (const std::string& line : lines) {
    if (absl::StartsWith(line, "line ")) {
      ++written;
      continue;
    }
    EXPECT_THAT(line, HasSubstr("\"message\":\"log lines dropped: the backlog was full\""));
    const size_t at = line.find("\"log_lines_dropped\":");
    ASSERT_NE(at, std::string::npos) << line;
    int64_t n = 0;
    ASSERT_TRUE(absl::SimpleAtoi(line.substr(at + 20, line.size() - at - 21), &n)) << line;
    dropped += n;
  }
  EXPECT_LE(written, 4) << "the first batch and the backlog of two";
  EXPECT_EQ(written + dropped, kLines) << "every line written or counted";
}

}  // namespace
}  // namespace claude
