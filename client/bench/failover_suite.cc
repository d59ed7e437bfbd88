#include "client/bench/failover_suite.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/bench/bench_requests.h"
#include "client/bench/child_process.h"
#include "client/bench/grpc_load.h"
#include "client/bench/report.h"
#include "client/bench/server_metrics.h"
#include "client/bench/suite.h"

namespace claude {
namespace bench {
namespace {

// One scenario's measurements at one level, summed over the rounds.
struct Totals {
  SlotStats stats;
  double seconds = 0;

  void Add(const RunResult& run) {
    stats.latency.Merge(run.total.latency);
    stats.calls += run.total.calls;
    stats.errors += run.total.errors;
    if (stats.first_error.empty()) stats.first_error = run.total.first_error;
    seconds += run.seconds;
  }
  double qps() const { return seconds > 0 ? static_cast<double>(stats.calls) / seconds : 0; }
  double p50_us() const { return Us(stats.latency.Percentile(0.50)); }
  double p99_us() const { return Us(stats.latency.Percentile(0.99)); }
};

struct Level {
  int concurrency = 0;
  Totals direct;
  Totals failover;
};

// A claude-grpc-server with its own upstreams file, and stubs to it.
struct Frontend {
  Child process;
  int metrics_port = 0;
  Stubs stubs;
};

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::Status StartFrontend(const BenchConfig& config, const std::string& upstreams_file,
                           const std::string& any_upstream, std::vector<std::string> flags,
                           Frontend* frontend) {
  flags.insert(flags.end(), config.binaries.server_flags.begin(),
               config.binaries.server_flags.end());
  flags.push_back("--upstreams_file=" + upstreams_file);
  flags.push_back("--metrics_listen=127.0.0.1:0");
  flags.push_back("--log_rpcs=false");
  absl::StatusOr<int> port = StartServer(&frontend->process, config.binaries.server, any_upstream,
                                         flags, &frontend->metrics_port);
  if (!port.ok()) return port.status();
  if (frontend->metrics_port == 0) return absl::InternalError("the server printed no metrics port");
  frontend->stubs = MakeStubs(absl::StrCat("127.0.0.1:", *port), config.channels);
  return absl::OkStatus();
}

class FailoverSuite : public Suite {
 public:
  SuiteStage stage() const override { return SuiteStage::kAlone; }

  absl::Status Run(SuiteContext& context) override {
    const BenchConfig& config = context.config;
    Child refusing_fake, answering_fake;
    absl::StatusOr<std::string> refusing =
        StartFake(&refusing_fake, config.binaries.fake, {"--fail_status=529"});
    if (!refusing.ok()) return refusing.status();
    absl::StatusOr<std::string> answering = StartFake(&answering_fake, config.binaries.fake, {});
    if (!answering.ok()) return answering.status();

    char dir_template[] = "/tmp/claude-bench-failover-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) return absl::InternalError("mkdtemp failed");
    const std::string dir = dir_template;
    const std::string upstreams = absl::StrCat(
        "upstreams:\n  - {name: refusing, dialect: messages, base_url: ", *refusing,
        "}\n  - {name: answering, dialect: messages, base_url: ", *answering, "}\nroutes:\n");
    const std::string direct_file = dir + "/direct.yaml";
    const std::string failover_file = dir + "/failover.yaml";
    absl::Status written =
        WriteFile(direct_file, upstreams + "  - {model: \"*\", upstreams: [answering]}\n");
    if (written.ok()) {
      written = WriteFile(failover_file,
                          upstreams + "  - {model: \"*\", upstreams: [refusing, answering]}\n");
    }
    Frontend direct, failover;
    absl::Status started = written;
    if (started.ok()) started = StartFrontend(config, direct_file, *answering, {}, &direct);
    // Ejection off: the refusing upstream stays first for every call, so each fails over once.
    if (started.ok())
      started =
          StartFrontend(config, failover_file, *answering, {"--ejection_failures=0"}, &failover);
    // The servers read their files at start.
    std::remove(direct_file.c_str());
    std::remove(failover_file.c_str());
    rmdir(dir.c_str());
    if (!started.ok()) return started;

    const v1::CreateMessageRequest request = MakeRequest(kShortPrompt);
    const LoadTiming timing{config.warmup, config.duration, 0};
    for (int concurrency : config.failover.concurrency) {
      Level level;
      level.concurrency = concurrency;
      for (int round = 0; round < config.rounds; ++round) {
        // Which scenario goes first alternates, so drift in the machine's load hits both alike.
        const bool direct_first = round % 2 == 0;
        for (bool run_direct : {direct_first, !direct_first}) {
          const RunResult run = RunClosedLoop(run_direct ? direct.stubs : failover.stubs, request,
                                              /*stream=*/false, concurrency, timing);
          (run_direct ? level.direct : level.failover).Add(run);
        }
      }
      levels_.push_back(std::move(level));
    }
    absl::StatusOr<std::string> metrics = FetchMetrics(failover.metrics_port);
    if (!metrics.ok()) return metrics.status();
    failovers_ =
        LabelledSum(*metrics, "claude_grpc_upstream_failovers_total", "upstream=\"refusing\"");
    refused_ =
        LabelledSum(*metrics, "claude_grpc_upstream_attempts_total", "upstream=\"refusing\"");
    answered_ =
        LabelledSum(*metrics, "claude_grpc_upstream_attempts_total", "upstream=\"answering\"");
    failover_calls_ = LabelledSum(*metrics, "claude_grpc_rpcs_total",
                                  "method=\"claude.v1.Messages/CreateMessage\"");
    return absl::OkStatus();
  }

  std::string Failure() const override {
    for (const Level& level : levels_) {
      for (const Totals* t : {&level.direct, &level.failover}) {
        if (t->stats.errors > 0) {
          return absl::StrCat(t->stats.errors, " failed calls, the first: ", t->stats.first_error);
        }
      }
    }
    // Every call of the failover server, warm-ups included: one refused attempt, one failover.
    if (failover_calls_ <= 0 || failovers_ != failover_calls_ || refused_ != failover_calls_ ||
        answered_ != failover_calls_) {
      return absl::StrCat("the failover server's counters do not show one failover per call: ",
                          failover_calls_, " calls, ", failovers_, " failovers, ", refused_,
                          " refused and ", answered_, " answered attempts");
    }
    return "";
  }

  std::string Json(const SuiteContext&) const override {
    const auto scenario = [](const Totals& t) {
      return absl::StrCat(R"({"calls":)", t.stats.calls, R"(,"errors":)", t.stats.errors,
                          R"(,"qps":)", Num(t.qps()), R"(,"p50_us":)", Num(t.p50_us()),
                          R"(,"p99_us":)", Num(t.p99_us()), "}");
    };
    std::string out = R"({"levels":[)";
    for (size_t i = 0; i < levels_.size(); ++i) {
      const Level& l = levels_[i];
      absl::StrAppend(&out, i > 0 ? "," : "", R"({"concurrency":)", l.concurrency, R"(,"direct":)",
                      scenario(l.direct), R"(,"failover":)", scenario(l.failover),
                      R"(,"added_p50_us":)", Num(l.failover.p50_us() - l.direct.p50_us()),
                      R"(,"added_p99_us":)", Num(l.failover.p99_us() - l.direct.p99_us()),
                      R"(,"qps_ratio":)", Num(QpsRatio(l)), "}");
    }
    absl::StrAppend(&out, R"(],"failover_calls":)", Num(failover_calls_), R"(,"failovers":)",
                    Num(failovers_), R"(,"refused_attempts":)", Num(refused_),
                    R"(,"answered_attempts":)", Num(answered_), "}");
    return out;
  }

  void PrintText(const SuiteContext& context) const override {
    std::printf(
        "\nfailover: the first upstream refuses every call with 529, the second answers; "
        "%d round(s) of %s per scenario and level\n",
        context.config.rounds, absl::FormatDuration(context.config.duration).c_str());
    std::printf("%-11s %-9s %10s %10s %10s %8s\n", "concurrency", "scenario", "qps", "p50 us",
                "p99 us", "errors");
    for (const Level& level : levels_) {
      for (const auto& [name, t] : {std::pair<const char*, const Totals*>{"direct", &level.direct},
                                    {"failover", &level.failover}}) {
        std::printf("%-11d %-9s %10.0f %10.0f %10.0f %8lld\n", level.concurrency, name, t->qps(),
                    t->p50_us(), t->p99_us(), static_cast<long long>(t->stats.errors));
      }
      std::printf("%-11d one failover adds p50 %+.0f us, p99 %+.0f us; qps failover/direct %.2f\n",
                  level.concurrency, level.failover.p50_us() - level.direct.p50_us(),
                  level.failover.p99_us() - level.direct.p99_us(), QpsRatio(level));
    }
    std::printf(
        "failover server: %.0f calls, %.0f failovers, attempts refused %.0f, answered %.0f\n",
        failover_calls_, failovers_, refused_, answered_);
  }

 private:
  static double QpsRatio(const Level& l) {
    return l.direct.qps() > 0 ? l.failover.qps() / l.direct.qps() : 0;
  }

  std::vector<Level> levels_;
  // The failover server's counters after the run.
  double failovers_ = -1, refused_ = -1, answered_ = -1, failover_calls_ = -1;
};

}  // namespace

std::unique_ptr<Suite> MakeFailoverSuite() { return std::make_unique<FailoverSuite>(); }

}  // namespace bench
}  // namespace claude
