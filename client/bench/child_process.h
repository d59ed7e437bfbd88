// A child process of the bench (fake-anthropic, claude-grpc-server, redis-server): started with
// a clean ANTHROPIC_API_KEY, killed with SIGTERM when the bench stops or dies, and watched
// through /proc for its resident memory. Its own library (claude_bench_child_process), which
// the tests' redis-server helper uses too: tests may build on client/, never the reverse.
#ifndef CLIENT_BENCH_CHILD_PROCESS_H_
#define CLIENT_BENCH_CHILD_PROCESS_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace claude {
namespace bench {

class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { Stop(); }

  // Starts argv (argv[0] is the path) with ANTHROPIC_API_KEY set and waits up to 30 s for a
  // stdout line containing `marker`; returns that line.
  absl::StatusOr<std::string> Start(const std::vector<std::string>& argv, absl::string_view marker);
  // SIGTERM, then SIGKILL after 5 s; reaps it.
  void Stop();
  // SIGKILL at once (its connections break, as when a pod dies); reaps it.
  void Kill();

  pid_t pid() const { return pid_; }
  // A field of /proc/PID/status in kB ("VmRSS", "VmHWM"); -1 when unreadable.
  int64_t StatusKb(absl::string_view field) const;
  // Resets the peak resident size (VmHWM) to the current one (/proc/PID/clear_refs).
  bool ResetPeakRss() const;

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
};

// The peak resident size of a child over a stretch of time: VmHWM (reset at construction)
// catches the peak between samples; a 10 ms sampler of VmRSS covers kernels without clear_refs.
class PeakRssSampler {
 public:
  explicit PeakRssSampler(const Child& child);
  ~PeakRssSampler() { Stop(); }
  PeakRssSampler(const PeakRssSampler&) = delete;
  PeakRssSampler& operator=(const PeakRssSampler&) = delete;

  int64_t baseline_kb() const { return baseline_kb_; }
  // Stops sampling; the peak in kB since construction.
  int64_t Stop();

 private:
  const Child& child_;
  const int64_t baseline_kb_;
  std::atomic<bool> sampling_{true};
  std::atomic<int64_t> sampled_peak_;
  std::thread sampler_;
};

// Raises this process's RLIMIT_NOFILE (inherited by the children started after) as far as
// allowed: the hard limit, raised first when the process may (root). Returns the soft limit.
int64_t RaiseFileLimit();

// A loopback TCP port free at this moment (for children that cannot pick their own, redis-server).
int FreeLoopbackPort();

// Starts fake-anthropic with `flags` on a free loopback port; returns its base URL.
absl::StatusOr<std::string> StartFake(Child* fake, const std::string& binary,
                                      const std::vector<std::string>& flags);
// Starts claude-grpc-server against `upstream` on a free loopback port; returns the port.
// `metrics_port`, when given, gets the /metrics port the server printed (0 if none).
absl::StatusOr<int> StartServer(Child* server, const std::string& binary, const std::string& upstream,
                                const std::vector<std::string>& flags, int* metrics_port = nullptr);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_CHILD_PROCESS_H_
