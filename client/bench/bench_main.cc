// claude-grpc-bench: a load generator for claude-grpc (closed and open loop). It compares three
// scenarios, interleaved over several rounds:
//   raw          gRPC to an echo implementation of claude.v1.Messages hosted in this process
//                (no HTTP): the cost of gRPC alone (echo_server.h);
//   direct_http  the same request JSON POSTed straight to fake-anthropic with libcurl multi
//                (http_load.h);
//   frontend     gRPC to claude-grpc-server, which calls fake-anthropic over HTTP (grpc_load.h).
// fake-anthropic and claude-grpc-server are started as child processes on port 0 and stopped at
// exit (load_environment.h). Latencies go into log-linear histograms (histogram.h); percentiles
// are reported, and the mean beside them; each load run also counts the server's context
// switches per call and flags other runnable processes (run_conditions.h). The suites are
// listed in suite_registry.cc; each reports its own JSON member and text section, which this
// file puts together with the run's configuration.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/bench/bench_config.h"
#include "client/bench/child_process.h"
#include "client/bench/load_environment.h"
#include "client/bench/report.h"
#include "client/bench/suite.h"
#include "common/program_info/help_flags.h"

namespace claude {
namespace bench {
namespace {

struct SelectedSuite {
  const char* name;
  std::unique_ptr<Suite> suite;
  bool reported = false;  // its Run was OK: it has a JSON member and a text section
};

// The suites --suite selects, by stage, then in the registry's order.
std::vector<SelectedSuite> Select(const BenchConfig& config) {
  std::vector<SelectedSuite> selected;
  for (const SuiteEntry& entry : AllSuites()) {
    std::unique_ptr<Suite> suite = entry.make();
    if (config.suite == entry.name || (config.suite == "all" && suite->in_all())) {
      selected.push_back({entry.name, std::move(suite)});
    }
  }
  std::stable_sort(selected.begin(), selected.end(),
                   [](const SelectedSuite& a, const SelectedSuite& b) {
                     return a.suite->stage() < b.suite->stage();
                   });
  return selected;
}

// A kAlone suite: its member alone as the JSON object, or its text; exit 1 when it failed.
int RunAlone(SelectedSuite& selected, SuiteContext& context) {
  const absl::Status status = selected.suite->Run(context);
  if (!status.ok()) {
    std::fprintf(stderr, "claude-grpc-bench: %s: %s\n", selected.name, status.ToString().c_str());
    return 1;
  }
  if (context.config.json) {
    std::printf("{\"%s\":%s}\n", selected.name, selected.suite->Json(context).c_str());
  } else {
    selected.suite->PrintText(context);
  }
  std::fflush(stdout);
  return selected.suite->Failure().empty() ? 0 : 1;
}

// Runs the suites of `stage` among `selected`; each one's failure is added to `*suite_errors`.
void RunStage(SuiteStage stage, std::vector<SelectedSuite>& selected, SuiteContext& context,
              std::string* suite_errors) {
  for (SelectedSuite& s : selected) {
    if (s.suite->stage() != stage) continue;
    const absl::Status status = s.suite->Run(context);
    s.reported = status.ok();
    const std::string failure = status.ok() ? s.suite->Failure() : status.ToString();
    if (!failure.empty()) absl::StrAppend(suite_errors, s.name, ": ", failure, "; ");
  }
}

void PrintJson(const std::vector<SelectedSuite>& selected, const SuiteContext& context,
               int64_t fd_limit, const std::string& suite_errors) {
  const BenchConfig& config = context.config;
  std::vector<std::string> parts;
  parts.push_back(absl::StrCat(
      R"("config":{"duration_s":)", Num(absl::ToDoubleSeconds(config.duration)), R"(,"warmup_s":)",
      Num(absl::ToDoubleSeconds(config.warmup)), R"(,"rounds":)", config.rounds, R"(,"channels":)",
      config.channels, R"(,"concurrency":[)", absl::StrJoin(config.concurrency, ","),
      R"(],"rate":)", Num(config.rate), R"(,"fd_limit":)", fd_limit, R"(,"hardware_threads":)",
      std::thread::hardware_concurrency(), "}"));
  for (const SelectedSuite& s : selected) {
    if (s.reported) parts.push_back(absl::StrCat("\"", s.name, "\":", s.suite->Json(context)));
  }
  parts.push_back(absl::StrCat(R"("errors":)", context.failures->count));
  parts.push_back(absl::StrCat(R"("load":)", LoadJson(SummarizeLoad(*context.results))));
  if (!suite_errors.empty()) {
    parts.push_back(absl::StrCat(R"("suite_errors":")", absl::CHexEscape(suite_errors), "\""));
  }
  std::printf("{%s}\n", absl::StrJoin(parts, ",").c_str());
}

void PrintText(const std::vector<SelectedSuite>& selected, const SuiteContext& context) {
  const BenchConfig& config = context.config;
  std::printf(
      "claude-grpc-bench: %d round(s), %s measured + %s warm-up each, %d channel(s), "
      "%u hardware threads\n",
      config.rounds, absl::FormatDuration(config.duration).c_str(),
      absl::FormatDuration(config.warmup).c_str(), config.channels,
      std::thread::hardware_concurrency());
  for (const SelectedSuite& s : selected) {
    if (s.reported) s.suite->PrintText(context);
  }
  const LoadSummary load = SummarizeLoad(*context.results);
  if (!load.warning.empty()) std::printf("\n%s\n", load.warning.c_str());
}

int Run() {
  std::vector<std::string> names;
  for (const SuiteEntry& entry : AllSuites()) names.push_back(entry.name);
  const absl::StatusOr<BenchConfig> config = ParseBenchConfig(names);
  if (!config.ok()) {
    std::fputs(std::string(config.status().message()).c_str(), stderr);
    return 2;
  }
  std::vector<SelectedSuite> selected = Select(*config);
  Results results;
  CallFailures failures;
  SuiteContext context{*config, nullptr, &results, &failures};
  if (selected.size() == 1 && selected.front().suite->stage() == SuiteStage::kAlone) {
    return RunAlone(selected.front(), context);
  }

  // Before any child or thread: the children inherit the raised limit.
  const int64_t fd_limit = RaiseFileLimit();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::string suite_errors;
  const bool any_shared = std::any_of(selected.begin(), selected.end(), [](const SelectedSuite& s) {
    return s.suite->stage() == SuiteStage::kSharedProcesses;
  });
  if (any_shared) {
    const bool quota = std::any_of(selected.begin(), selected.end(), [](const SelectedSuite& s) {
      return s.suite->needs_quota_servers();
    });
    absl::StatusOr<std::unique_ptr<LoadEnvironment>> load = LoadEnvironment::Start(*config, quota);
    if (!load.ok()) {
      std::fprintf(stderr, "claude-grpc-bench: %s\n", std::string(load.status().message()).c_str());
      return 1;
    }
    context.load = load->get();
    RunStage(SuiteStage::kSharedProcesses, selected, context, &suite_errors);
    // The fresh-process suites measure memory: nothing of these may run beside them.
    (*load)->Stop();
    context.load = nullptr;
  }
  RunStage(SuiteStage::kFreshProcesses, selected, context, &suite_errors);

  if (config->json) {
    PrintJson(selected, context, fd_limit, suite_errors);
  } else {
    PrintText(selected, context);
  }
  std::fflush(stdout);
  curl_global_cleanup();
  int exit_code = 0;
  if (!suite_errors.empty()) {
    std::fprintf(stderr, "claude-grpc-bench: %s\n", suite_errors.c_str());
    exit_code = 1;
  }
  if (failures.count > 0) {
    std::fprintf(stderr, "claude-grpc-bench: %lld failed call(s), first: %s\n",
                 static_cast<long long>(failures.count), failures.first.c_str());
    exit_code = 1;
  }
  return exit_code;
}

}  // namespace
}  // namespace bench
}  // namespace claude

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Load generator for claude-grpc: raw gRPC (in-process echo service) vs direct HTTP to "
      "fake-anthropic vs the front-end (claude-grpc-server -> fake-anthropic), and the server's "
      "memory with many open streams and with a slow reader.\n"
      "Usage: claude-grpc-bench [--suite=all|unary|stream|latency|open_loop|memory|slow_reader|soak|quota|batch_results] "
      "[--json] [--duration=2s] [--warmup=0.5s] [--rounds=3] [--concurrency=1,16,64,256] "
      "[--rate=2000] [--memory_streams=1000,5000,10000] "
      "[--upstream_api=messages|chat_completions|both]");
  claude::ShowFlagsOfFile(claude::bench::kBenchFlagsFile);
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  return claude::bench::Run();
}
