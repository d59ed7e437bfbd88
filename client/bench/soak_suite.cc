#include "client/bench/soak_suite.h"

#include <dirent.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "claude/v1/messages.grpc.pb.h"
#include "client/bench/bench_requests.h"
#include "client/bench/child_process.h"
#include "client/bench/grpc_load.h"
#include "client/bench/report.h"
#include "client/bench/server_metrics.h"
#include "client/bench/suite.h"

namespace claude {
namespace bench {
namespace {

// The value of the unlabelled sample `name` in the server's /metrics, or -1.
double Gauge(int metrics_port, const std::string& name) {
  absl::StatusOr<std::string> metrics = FetchMetrics(metrics_port);
  return metrics.ok() ? SampleValue(*metrics, name) : -1;
}

int64_t OpenFds(pid_t pid) {
  int64_t n = 0;
  if (DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str())) {
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++n;
    }
    closedir(dir);
  }
  return n;
}

// Keeps `target` streams open, each cancelled at its own random time, until told to stop.
// Reactors are deleted only by the driving thread, after their OnDone.
class SoakDriver {
 public:
  SoakDriver(Stubs* stubs, const v1::CreateMessageRequest& request, absl::Duration max_cancel_delay)
      : stubs_(stubs), request_(request), max_cancel_delay_(max_cancel_delay) {}

  // Runs until `until`: reaps finished streams, opens new ones up to `target`, cancels those
  // whose time has come.
  void Drive(int target, absl::Time until) {
    while (absl::Now() < until) {
      Step(target);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  // Cancels every stream still open and waits until all have ended.
  void CancelAllAndWait() {
    std::unique_lock<std::mutex> lock(mu_);
    for (auto& [id, s] : live_) s->context.TryCancel();
    done_cv_.wait(lock, [&] { return finished_.size() == live_.size(); });
    live_.clear();
    finished_.clear();
  }

  // The streams started so far and how those that ended did, into `result`.
  void Tally(SoakResult* result) const {
    std::lock_guard<std::mutex> lock(mu_);
    result->streams_started = next_id_;
    result->completed = completed_;
    result->cancelled = cancelled_;
    result->failed = failed_;
    result->first_failure = first_failure_;
  }

 private:
  class SoakStream : public grpc::ClientReadReactor<v1::MessageStreamEvent> {
   public:
    SoakStream(SoakDriver* driver, int64_t id) : driver_(driver), id_(id) {}
    void OnReadDone(bool ok) override {
      if (ok) StartRead(&event);
    }
    void OnDone(const grpc::Status& status) override { driver_->Done(id_, status); }

    grpc::ClientContext context;
    v1::MessageStreamEvent event;

   private:
    SoakDriver* const driver_;
    const int64_t id_;
  };

  void Step(int target) {
    std::vector<SoakStream*> to_start;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int64_t id : finished_) live_.erase(id);
      finished_.clear();
      const absl::Time now = absl::Now();
      while (!cancels_.empty() && cancels_.begin()->first <= now) {
        auto it = live_.find(cancels_.begin()->second);
        if (it != live_.end()) it->second->context.TryCancel();
        cancels_.erase(cancels_.begin());
      }
      std::uniform_real_distribution<double> fraction(0.0, 1.0);
      while (static_cast<int>(live_.size()) < target) {
        const int64_t id = next_id_++;
        auto stream = std::make_unique<SoakStream>(this, id);
        to_start.push_back(stream.get());
        live_.emplace(id, std::move(stream));
        // Half of the streams are cancelled at a random moment of their expected life (before
        // the upstream answers, or mid-stream); the others run to their end.
        if (fraction(random_) < 0.5) cancels_.emplace(now + max_cancel_delay_ * fraction(random_), id);
      }
    }
    // Started outside the lock: OnDone may run inline and takes it.
    for (SoakStream* s : to_start) {
      (*stubs_)[static_cast<size_t>(next_stub_++) % stubs_->size()]->async()->StreamMessage(&s->context, &request_, s);
      s->StartRead(&s->event);
      s->StartCall();
    }
  }

  void Done(int64_t id, const grpc::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    finished_.push_back(id);
    if (status.ok()) {
      ++completed_;
    } else if (status.error_code() == grpc::StatusCode::CANCELLED) {
      ++cancelled_;
    } else {
      ++failed_;
      if (first_failure_.empty()) first_failure_ = CallError(status);
    }
    done_cv_.notify_all();
  }

  Stubs* const stubs_;
  const v1::CreateMessageRequest& request_;
  const absl::Duration max_cancel_delay_;
  std::mt19937_64 random_{20261129};
  int64_t next_stub_ = 0;
  std::atomic<int64_t> next_id_{0};

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::map<int64_t, std::unique_ptr<SoakStream>> live_;
  std::vector<int64_t> finished_;  // OnDone ran; still in live_ until reaped
  std::multimap<absl::Time, int64_t> cancels_;
  int64_t completed_ = 0, cancelled_ = 0, failed_ = 0;
  std::string first_failure_;
};

}  // namespace

absl::StatusOr<SoakResult> RunSoakSuite(const SuiteBinaries& binaries,
                                        const v1::CreateMessageRequest& request,
                                        const SoakOptions& options) {
  RaiseFileLimit();
  Child fake;
  absl::StatusOr<std::string> url =
      StartFake(&fake, binaries.fake,
                {absl::StrCat("--generate_deltas=", options.deltas), "--delta_bytes=32",
                 absl::StrCat("--chunk_delay_ms=", absl::ToInt64Milliseconds(options.drip))});
  if (!url.ok()) return url.status();
  std::vector<std::string> server_flags = binaries.server_flags;
  server_flags.push_back("--metrics_listen=127.0.0.1:0");
  server_flags.push_back("--log_rpcs=false");
  server_flags.push_back(absl::StrCat("--max_idle_connections=", options.max_idle_connections));
  Child server;
  int metrics_port = 0;
  absl::StatusOr<int> port = StartServer(&server, binaries.server, *url, server_flags, &metrics_port);
  if (!port.ok()) return port.status();
  if (metrics_port == 0) return absl::InternalError("the server printed no metrics port");

  Stubs stubs = MakeStubs(absl::StrCat("127.0.0.1:", *port), options.channels);
  SoakResult result;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  result.rss_idle_kb = server.StatusKb("VmRSS");
  result.fds_idle = OpenFds(server.pid());

  SoakDriver driver(&stubs, request, options.drip * options.deltas);
  // The warm-up ends like the run: every stream ended, then a moment for the server to finish
  // them. Both RSS figures are of the idle server, so the difference is what the run left.
  driver.Drive(options.streams, absl::Now() + options.warmup);
  driver.CancelAllAndWait();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  result.rss_after_warmup_kb = server.StatusKb("VmRSS");
  driver.Drive(options.streams, absl::Now() + options.duration);
  driver.CancelAllAndWait();
  // Calls end an instant after their callers have the status (the server's OnDone).
  const absl::Time settle_until = absl::Now() + absl::Seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    result.live_transfers = Gauge(metrics_port, "claude_grpc_upstream_live_transfers");
    result.paused_transfers = Gauge(metrics_port, "claude_grpc_upstream_paused_transfers");
    result.live_streams = Gauge(metrics_port, "claude_grpc_live_streams");
  } while ((result.live_transfers != 0 || result.paused_transfers != 0 || result.live_streams != 0) &&
           absl::Now() < settle_until);
  result.rss_after_kb = server.StatusKb("VmRSS");
  result.fds_after = OpenFds(server.pid());
  driver.Tally(&result);

  std::vector<std::string> problems;
  if (result.live_transfers != 0 || result.paused_transfers != 0 || result.live_streams != 0) {
    problems.push_back(absl::StrCat("gauges not 0: live_transfers ", result.live_transfers, ", paused ",
                                    result.paused_transfers, ", live_streams ", result.live_streams));
  }
  const double growth_mb = static_cast<double>(result.rss_after_kb - result.rss_after_warmup_kb) / 1024.0;
  if (growth_mb > options.rss_bound_mb) {
    problems.push_back(absl::StrCat("RSS grew ", growth_mb, " MB after the warm-up (bound ",
                                    options.rss_bound_mb, " MB)"));
  }
  if (result.fds_after > result.fds_idle + options.max_idle_connections) {
    problems.push_back(absl::StrCat(result.fds_after, " fds open, idle baseline ", result.fds_idle,
                                    " + pool ", options.max_idle_connections));
  }
  if (result.failed > 0) {
    problems.push_back(absl::StrCat(result.failed, " stream(s) failed, first: ", result.first_failure));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  result.rss_after_kb = server.StatusKb("VmRSS");
  if (result.completed == 0 || result.cancelled == 0) {
    problems.push_back("the mix needs both completed and cancelled streams");
  }
  result.passed = problems.empty();
  for (const std::string& p : problems) absl::StrAppend(&result.verdict, result.verdict.empty() ? "" : "; ", p);
  return result;
}

namespace {

// --suite=soak: its own fresh processes, nothing else (not part of "all": it is a check that
// nothing leaks, run for a minute or more, not a performance figure).
class SoakSuite : public MeasurementSuite<SoakResult> {
 public:
  SuiteStage stage() const override { return SuiteStage::kAlone; }

  std::string Failure() const override {
    if (result().passed) return "";
    return result().verdict.empty() ? "soak failed" : result().verdict;
  }

  std::string Json(const SuiteContext& context) const override {
    const SoakOptions& o = context.config.soak;
    const SoakResult& s = result();
    return absl::StrCat(R"({"passed":)", s.passed ? "true" : "false", R"(,"streams":)", o.streams,
                        R"(,"duration_s":)", Num(absl::ToDoubleSeconds(o.duration)),
                        R"(,"started":)", s.streams_started, R"(,"completed":)", s.completed,
                        R"(,"cancelled":)", s.cancelled, R"(,"failed":)", s.failed,
                        R"(,"rss_idle_kb":)", s.rss_idle_kb, R"(,"rss_after_warmup_kb":)",
                        s.rss_after_warmup_kb, R"(,"rss_after_kb":)", s.rss_after_kb,
                        R"(,"rss_bound_mb":)", Num(o.rss_bound_mb), R"(,"fds_idle":)", s.fds_idle,
                        R"(,"fds_after":)", s.fds_after, R"(,"idle_pool":)", o.max_idle_connections,
                        R"(,"live_transfers":)", Num(s.live_transfers), R"(,"paused_transfers":)",
                        Num(s.paused_transfers), R"(,"live_streams":)", Num(s.live_streams),
                        R"(,"verdict":")", absl::CHexEscape(s.verdict), "\"}");
  }

  void PrintText(const SuiteContext& context) const override {
    const SoakOptions& o = context.config.soak;
    const SoakResult& s = result();
    std::printf(
        "\nsoak: %d streams at once for %s (+%s warm-up), cancelled at random times: %lld "
        "started, %lld completed, %lld cancelled, %lld failed\n"
        "claude-grpc-server RSS: idle %lld kB, after warm-up %lld kB, after %lld kB; fds: idle "
        "%lld, "
        "after %lld; gauges after: live transfers %.0f, paused %.0f, live streams %.0f\nsoak "
        "%s%s\n",
        o.streams, absl::FormatDuration(o.duration).c_str(), absl::FormatDuration(o.warmup).c_str(),
        static_cast<long long>(s.streams_started), static_cast<long long>(s.completed),
        static_cast<long long>(s.cancelled), static_cast<long long>(s.failed),
        static_cast<long long>(s.rss_idle_kb), static_cast<long long>(s.rss_after_warmup_kb),
        static_cast<long long>(s.rss_after_kb), static_cast<long long>(s.fds_idle),
        static_cast<long long>(s.fds_after), s.live_transfers, s.paused_transfers, s.live_streams,
        s.passed ? "passed" : "FAILED: ", s.verdict.c_str());
  }

 private:
  absl::StatusOr<SoakResult> Measure(const BenchConfig& config) const override {
    return RunSoakSuite(config.binaries, MakeRequest(kStoryPrompt), config.soak);
  }
};

}  // namespace

std::unique_ptr<Suite> MakeSoakSuite() { return std::make_unique<SoakSuite>(); }

}  // namespace bench
}  // namespace claude
