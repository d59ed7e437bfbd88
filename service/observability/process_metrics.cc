#include "service/observability/scrape_gauges.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/program_info/build_info.h"

namespace claude {
namespace {

std::string ReadAll(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The fields of /proc/self/stat after the command name (which may hold spaces and parentheses):
// fields[0] is the state, field N of proc(5) is fields[N - 3].
std::vector<std::string> StatFields() {
  const std::string stat = ReadAll("/proc/self/stat");
  const size_t end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) return {};
  return absl::StrSplit(absl::string_view(stat).substr(end_of_name + 1), ' ', absl::SkipEmpty());
}

double Field(const std::vector<std::string>& fields, size_t proc_index) {
  double value = 0;
  if (proc_index >= 3 && proc_index - 3 < fields.size()) (void)absl::SimpleAtod(fields[proc_index - 3], &value);
  return value;
}

// The boot time, seconds since the epoch (/proc/stat's btime).
double BootTime() {
  std::istringstream stat(ReadAll("/proc/stat"));
  std::string line;
  while (std::getline(stat, line)) {
    absl::string_view rest = line;
    double value = 0;
    if (absl::ConsumePrefix(&rest, "btime ") && absl::SimpleAtod(rest, &value)) return value;
  }
  return 0;
}

int OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory's own descriptor
}

}  // namespace

void AddProcessMetrics(ScrapeGauges& gauges) {
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // proc(5): utime 14, stime 15, starttime 22 (ticks since boot), vsize 23, rss 24 (pages).
  gauges.AddCounter("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", [] {
    const std::vector<std::string> stat = StatFields();
    return (Field(stat, 14) + Field(stat, 15)) / ticks;
  });
  gauges.Add("process_resident_memory_bytes", "Resident memory size, in bytes.",
             [] { return Field(StatFields(), 24) * page; });
  gauges.Add("process_virtual_memory_bytes", "Virtual memory size, in bytes.", [] { return Field(StatFields(), 23); });
  gauges.Add("process_open_fds", "Open file descriptors.", [] { return static_cast<double>(OpenFds()); });
  gauges.Add("process_max_fds", "The limit of open file descriptors (RLIMIT_NOFILE).", [] {
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    return files.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(files.rlim_cur);
  });
  const double start_time = BootTime() + Field(StatFields(), 22) / ticks;
  gauges.Add("process_start_time_seconds", "Start time of the process, seconds since the epoch.",
             [start_time] { return start_time; });
  gauges.AddLabeled("claude_grpc_build_info", "The version and source revision running; always 1.", [] {
    return std::vector<ScrapeGauges::Sample>{{{{"version", BuildVersion()}, {"revision", BuildRevision()}}, 1}};
  });
}

}  // namespace claude
