// What the machine and the server did during one measured run of the bench: the server's
// context switches (every blocking wait of one of its threads is one voluntary switch, every
// preemption one nonvoluntary switch), and whether other processes wanted the cores meanwhile.
// On a shared machine a wake-up that finds the cores busy waits a scheduler slice, so a run
// with other runnable processes is flagged rather than silently compared with a quiet one.
#ifndef CLIENT_BENCH_RUN_CONDITIONS_H_
#define CLIENT_BENCH_RUN_CONDITIONS_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <thread>

#include "absl/time/time.h"

namespace claude {
namespace bench {

// The sum of voluntary and nonvoluntary context switches over the threads of process `pid`
// (/proc/<pid>/task/*/status); -1 when the process cannot be read. Threads that ended before
// the call are not counted, so compare two readings only across a run that keeps its threads.
int64_t ProcessContextSwitches(pid_t pid);

// Processes in state R (/proc/*/stat) other than `self` and its direct children.
int RunnableOtherProcesses(pid_t self);

// The 1-minute load average (/proc/loadavg); -1 when unreadable.
double LoadAverage1m();

// Watches one run from another thread: `warmup` after Start it reads the server's switches,
// then samples the other runnable processes every `sample_every` until `duration` has passed,
// and reads the switches again. Start and Finish are called from one thread.
class RunConditions {
 public:
  // `server_pid`: the claude-grpc-server measured (-1: none, e.g. direct HTTP).
  RunConditions(pid_t server_pid, absl::Duration warmup, absl::Duration duration,
                absl::Duration sample_every = absl::Milliseconds(100));
  ~RunConditions();
  RunConditions(const RunConditions&) = delete;
  RunConditions& operator=(const RunConditions&) = delete;

  void Start();
  // Waits for the sampler and adds to `metrics`: server_switches_per_call (when a server is
  // measured and `calls` > 0), others_runnable_max, others_runnable_share (the share of samples
  // that saw any) and loadavg_1m.
  void Finish(int64_t calls, std::map<std::string, double>* metrics);

 private:
  void Sample();

  const pid_t server_pid_;
  const absl::Duration warmup_;
  const absl::Duration duration_;
  const absl::Duration sample_every_;
  std::thread sampler_;
  // Written by the sampler, read after it is joined.
  int64_t switches_at_start_ = -1;
  int64_t switches_at_end_ = -1;
  int samples_ = 0;
  int samples_with_others_ = 0;
  int others_max_ = 0;
};

// The warning for runs that saw other runnable processes ("" when none did): `runs_flagged` of
// `runs`, at most `others_max` at once.
std::string LoadWarning(int runs_flagged, int runs, double others_max, double loadavg_max);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_RUN_CONDITIONS_H_
