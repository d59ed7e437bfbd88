#include "client/bench/run_conditions.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace claude {
namespace bench {
namespace {

// The whole of a small /proc file ("" when it cannot be read).
std::string ReadProcFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The numeric entries of a /proc directory (process or thread ids).
template <typename Visit>
void ForEachNumericEntry(const char* dir, Visit visit) {
  DIR* d = opendir(dir);
  if (d == nullptr) return;
  while (dirent* entry = readdir(d)) {
    int id = 0;
    if (absl::SimpleAtoi(entry->d_name, &id)) visit(id);
  }
  closedir(d);
}

// The value of `field:` in a /proc status text, 0 when absent.
int64_t StatusField(absl::string_view status, absl::string_view field) {
  const std::string key = absl::StrCat("\n", field, ":");
  const size_t at = status.find(key);
  if (at == absl::string_view::npos) return 0;
  absl::string_view rest = status.substr(at + key.size());
  rest = rest.substr(0, rest.find('\n'));
  int64_t value = 0;
  return absl::SimpleAtoi(rest, &value) ? value : 0;
}

}  // namespace

int64_t ProcessContextSwitches(pid_t pid) {
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  int64_t total = 0;
  bool any = false;
  ForEachNumericEntry(tasks.c_str(), [&](int tid) {
    const std::string status = ReadProcFile(absl::StrCat(tasks, "/", tid, "/status"));
    if (status.empty()) return;  // the thread ended meanwhile
    any = true;
    total += StatusField(status, "voluntary_ctxt_switches") +
             StatusField(status, "nonvoluntary_ctxt_switches");
  });
  return any ? total : -1;
}

int RunnableOtherProcesses(pid_t self) {
  int runnable = 0;
  ForEachNumericEntry("/proc", [&](int pid) {
    if (pid == self) return;
    // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
    const std::string stat = ReadProcFile(absl::StrCat("/proc/", pid, "/stat"));
    const size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) return;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + close + 2, "%c %d", &state, &ppid) != 2) return;
    if (state == 'R' && ppid != self) ++runnable;
  });
  return runnable;
}

double LoadAverage1m() {
  double load = -1;
  const std::string text = ReadProcFile("/proc/loadavg");
  if (std::sscanf(text.c_str(), "%lf", &load) != 1) return -1;
  return load;
}

RunConditions::RunConditions(pid_t server_pid, absl::Duration warmup, absl::Duration duration,
                             absl::Duration sample_every)
    : server_pid_(server_pid), warmup_(warmup), duration_(duration), sample_every_(sample_every) {}

RunConditions::~RunConditions() {
  if (sampler_.joinable()) sampler_.join();
}

void RunConditions::Start() {
  sampler_ = std::thread([this] { Sample(); });
}

void RunConditions::Sample() {
  absl::SleepFor(warmup_);
  const absl::Time end = absl::Now() + duration_;
  if (server_pid_ > 0) switches_at_start_ = ProcessContextSwitches(server_pid_);
  const pid_t self = getpid();
  // Samples spread over the window; the last one lands just before its end.
  while (absl::Now() + sample_every_ <= end) {
    absl::SleepFor(sample_every_);
    const int others = RunnableOtherProcesses(self);
    ++samples_;
    if (others > 0) ++samples_with_others_;
    others_max_ = std::max(others_max_, others);
  }
  absl::SleepFor(std::max(absl::ZeroDuration(), end - absl::Now()));
  if (server_pid_ > 0) switches_at_end_ = ProcessContextSwitches(server_pid_);
}

void RunConditions::Finish(int64_t calls, std::map<std::string, double>* metrics) {
  if (sampler_.joinable()) sampler_.join();
  if (server_pid_ > 0 && calls > 0 && switches_at_start_ >= 0 &&
      switches_at_end_ >= switches_at_start_) {
    (*metrics)["server_switches_per_call"] =
        static_cast<double>(switches_at_end_ - switches_at_start_) / static_cast<double>(calls);
  }
  (*metrics)["others_runnable_max"] = others_max_;
  (*metrics)["others_runnable_share"] =
      samples_ == 0 ? 0 : static_cast<double>(samples_with_others_) / static_cast<double>(samples_);
  (*metrics)["loadavg_1m"] = LoadAverage1m();
}

std::string LoadWarning(int runs_flagged, int runs, double others_max, double loadavg_max) {
  if (runs_flagged == 0) return "";
  return absl::StrFormat(
      "WARNING: other processes were runnable during %d of %d measured runs (up to %.0f at once; "
      "1-minute load average up to %.2f): their wake-ups may have waited for a core, so compare "
      "only runs interleaved in this same invocation",
      runs_flagged, runs, others_max, loadavg_max);
}

}  // namespace bench
}  // namespace claude
