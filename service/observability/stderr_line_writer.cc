#include "service/observability/stderr_line_writer.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/observability/server_log.h"

namespace claude {
namespace {

void WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to write: the lines are lost, the server goes on
    done += static_cast<size_t>(n);
  }
}

// A backlog this long is written at once instead of at the next flush.
constexpr size_t kBatchLines = 256;

}  // namespace

StderrLineWriter::StderrLineWriter(size_t max_backlog_lines, int fd,
                                   std::chrono::milliseconds flush_interval)
    : max_backlog_(max_backlog_lines), fd_(fd), flush_interval_(flush_interval), thread_([this] { Run(); }) {}

StderrLineWriter::~StderrLineWriter() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void StderrLineWriter::Write(std::string line) {
  bool wake;
  {
    MutexLock lock(mu_);
    if (lines_.size() >= max_backlog_) {
      ++dropped_;
      return;
    }
    lines_.push_back(std::move(line));
    // The writer sleeps while nothing is queued, and waits out the flush interval otherwise.
    wake = lines_.size() == 1 || lines_.size() == kBatchLines;
  }
  if (wake) wake_.notify_one();
}

void StderrLineWriter::Run() {
  MutexLock lock(mu_);
  while (true) {
    lock.Wait(wake_, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || !lines_.empty() || dropped_ > 0;
    });
    if (lines_.empty() && dropped_ == 0 && stopping_) return;
    // Let a batch gather.
    lock.WaitFor(wake_, absl::FromChrono(flush_interval_),
                 [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                   return stopping_ || lines_.size() >= kBatchLines;
                 });
    // Take the whole backlog and write it in one go, outside the lock.
    std::string text;
    for (const std::string& line : lines_) absl::StrAppend(&text, line, "\n");
    lines_.clear();
    if (dropped_ > 0) {
      absl::StrAppend(&text,
                      FormatLogLine(Severity::kWarning, absl::Now(), "log lines dropped: the backlog was full",
                                    {{"log_lines_dropped", dropped_}}),
                      "\n");
      dropped_ = 0;
    }
    lock.Unlock();
    WriteAll(fd_, text);
    lock.Lock();
  }
}

}  // namespace claude
