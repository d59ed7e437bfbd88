#include "client/bench/failover_suite.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "claude/v1/messages.grpc.pb.h"
#include "client/bench/child_process.h"
#include "client/bench/histogram.h"

ABSL_FLAG(std::vector<std::string>, failover_concurrency, std::vector<std::string>({"1", "16"}),
          "failover suite: calls in flight, one measurement each (comma-separated).");

namespace claude {
namespace bench {
namespace {

using Stub = v1::Messages::Stub;

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// The sum of the samples of `name` whose labels include `label` (e.g. upstream="refusing") in
// the server's /metrics; -1 when it cannot be scraped.
double ScrapeSum(int metrics_port, const std::string& name, const std::string& label) {
  std::string body;
  CURL* curl = curl_easy_init();
  const std::string url = absl::StrCat("http://127.0.0.1:", metrics_port, "/metrics");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) return -1;
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    if (!absl::StartsWith(line, name + "{") || !absl::StrContains(line, label)) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) sum += value;
  }
  return sum;
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// A server in front of the fakes, with its own upstreams file.
struct Frontend {
  Child process;
  int metrics_port = 0;
  std::vector<std::unique_ptr<Stub>> stubs;
};

absl::Status StartFrontend(const SuiteBinaries& binaries, const std::string& upstreams_file,
                           const std::string& any_upstream, std::vector<std::string> flags, int channels,
                           Frontend* frontend) {
  flags.insert(flags.end(), binaries.server_flags.begin(), binaries.server_flags.end());
  flags.push_back("--upstreams_file=" + upstreams_file);
  flags.push_back("--metrics_listen=127.0.0.1:0");
  flags.push_back("--log_rpcs=false");
  absl::StatusOr<int> port =
      StartServer(&frontend->process, binaries.server, any_upstream, flags, &frontend->metrics_port);
  if (!port.ok()) return port.status();
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per channel
    auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", *port),
                                             grpc::InsecureChannelCredentials(), args);
    channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
    frontend->stubs.push_back(v1::Messages::NewStub(channel));
  }
  return absl::OkStatus();
}

struct Measured {
  LatencyHistogram latency;
  int64_t calls = 0;
  int64_t failed = 0;
  absl::Duration time;
};

// `concurrency` callers, each making one unary call after another for `warmup` (not recorded)
// then `duration`.
Measured ClosedLoop(const std::vector<std::unique_ptr<Stub>>& stubs, const v1::CreateMessageRequest& request,
                    int concurrency, absl::Duration warmup, absl::Duration duration) {
  struct Slot {
    LatencyHistogram latency;
    int64_t calls = 0;
    int64_t failed = 0;
  };
  std::vector<Slot> slots(concurrency);
  const absl::Time measure_from = absl::Now() + warmup;
  const absl::Time until = measure_from + duration;
  std::vector<std::thread> callers;
  for (int c = 0; c < concurrency; ++c) {
    callers.emplace_back([&, c] {
      Stub& stub = *stubs[c % stubs.size()];
      Slot& slot = slots[c];
      for (;;) {
        const absl::Time started = absl::Now();
        if (started >= until) return;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::Message reply;
        const grpc::Status status = stub.CreateMessage(&context, request, &reply);
        const absl::Time ended = absl::Now();
        if (started < measure_from || ended > until) continue;
        ++slot.calls;
        if (!status.ok()) ++slot.failed;
        slot.latency.Record(absl::ToInt64Nanoseconds(ended - started));
      }
    });
  }
  for (std::thread& t : callers) t.join();
  Measured m;
  m.time = duration;
  for (const Slot& slot : slots) {
    m.latency.Merge(slot.latency);
    m.calls += slot.calls;
    m.failed += slot.failed;
  }
  return m;
}

void Add(const Measured& m, LatencyHistogram* latency, int64_t* calls, int64_t* failed, absl::Duration* time) {
  latency->Merge(m.latency);
  *calls += m.calls;
  *failed += m.failed;
  *time += m.time;
}

FailoverScenario Summarize(const LatencyHistogram& latency, int64_t calls, int64_t failed, absl::Duration time) {
  FailoverScenario s;
  s.calls = calls;
  s.failed = failed;
  s.qps = static_cast<double>(calls) / absl::ToDoubleSeconds(time);
  s.p50_us = static_cast<double>(latency.Percentile(0.50)) / 1e3;
  s.p99_us = static_cast<double>(latency.Percentile(0.99)) / 1e3;
  return s;
}

}  // namespace

absl::StatusOr<FailoverResult> RunFailoverSuite(const SuiteBinaries& binaries,
                                                const v1::CreateMessageRequest& request,
                                                const FailoverOptions& options) {
  Child refusing_fake, answering_fake;
  absl::StatusOr<std::string> refusing = StartFake(&refusing_fake, binaries.fake, {"--fail_status=529"});
  if (!refusing.ok()) return refusing.status();
  absl::StatusOr<std::string> answering = StartFake(&answering_fake, binaries.fake, {});
  if (!answering.ok()) return answering.status();

  char dir_template[] = "/tmp/claude-bench-failover-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return absl::InternalError("mkdtemp failed");
  const std::string dir = dir_template;
  const std::string upstreams = absl::StrCat("upstreams:\n  - {name: refusing, dialect: messages, base_url: ",
                                             *refusing, "}\n  - {name: answering, dialect: messages, base_url: ",
                                             *answering, "}\n");
  const std::string direct_file = dir + "/direct.yaml";
  const std::string failover_file = dir + "/failover.yaml";
  if (absl::Status s = WriteFile(direct_file, upstreams + "routes:\n  - {model: \"*\", upstreams: [answering]}\n");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteFile(failover_file,
                                 upstreams + "routes:\n  - {model: \"*\", upstreams: [refusing, answering]}\n");
      !s.ok()) {
    return s;
  }
  Frontend direct, failover;
  if (absl::Status s = StartFrontend(binaries, direct_file, *answering, {}, options.channels, &direct); !s.ok()) {
    return s;
  }
  // Ejection off: the refusing upstream stays first for every call, so each call fails over once.
  if (absl::Status s = StartFrontend(binaries, failover_file, *answering, {"--ejection_failures=0"},
                                     options.channels, &failover);
      !s.ok()) {
    return s;
  }

  FailoverResult result;
  for (int concurrency : options.concurrency) {
    LatencyHistogram direct_latency, failover_latency;
    int64_t direct_calls = 0, direct_failed = 0, failover_calls = 0, failover_failed = 0;
    absl::Duration direct_time, failover_time;
    for (int round = 0; round < options.rounds; ++round) {
      // Alternating which goes first, so drift of the machine's load hits both alike.
      for (int i = 0; i < 2; ++i) {
        const bool direct_now = (i == 0) == (round % 2 == 0);
        const Measured m = ClosedLoop(direct_now ? direct.stubs : failover.stubs, request, concurrency,
                                      options.warmup, options.duration);
        if (direct_now) {
          Add(m, &direct_latency, &direct_calls, &direct_failed, &direct_time);
        } else {
          Add(m, &failover_latency, &failover_calls, &failover_failed, &failover_time);
        }
      }
    }
    FailoverLevel level;
    level.concurrency = concurrency;
    level.direct = Summarize(direct_latency, direct_calls, direct_failed, direct_time);
    level.failover = Summarize(failover_latency, failover_calls, failover_failed, failover_time);
    level.added_p50_us = level.failover.p50_us - level.direct.p50_us;
    level.added_p99_us = level.failover.p99_us - level.direct.p99_us;
    level.qps_ratio = level.direct.qps > 0 ? level.failover.qps / level.direct.qps : 0;
    result.levels.push_back(level);
  }
  result.failovers = ScrapeSum(failover.metrics_port, "claude_grpc_upstream_failovers_total", "upstream=\"refusing\"");
  result.refused_attempts =
      ScrapeSum(failover.metrics_port, "claude_grpc_upstream_attempts_total", "upstream=\"refusing\"");
  result.answered_attempts =
      ScrapeSum(failover.metrics_port, "claude_grpc_upstream_attempts_total", "upstream=\"answering\"");
  result.failover_calls = static_cast<int64_t>(
      ScrapeSum(failover.metrics_port, "claude_grpc_rpcs_total", "method=\"claude.v1.Messages/CreateMessage\""));
  std::remove(direct_file.c_str());
  std::remove(failover_file.c_str());
  rmdir(dir.c_str());
  return result;
}

void PrintFailover(const FailoverResult& result, const FailoverOptions& options) {
  std::printf("\nfailover: the first upstream refuses every call with 529, the second answers; "
              "%d round(s) of %s per scenario and level\n",
              options.rounds, absl::FormatDuration(options.duration).c_str());
  std::printf("%-11s %-9s %10s %10s %10s %8s\n", "concurrency", "scenario", "qps", "p50 us", "p99 us", "failed");
  for (const FailoverLevel& level : result.levels) {
    for (const auto& [name, s] : {std::pair<const char*, const FailoverScenario*>{"direct", &level.direct},
                                  {"failover", &level.failover}}) {
      std::printf("%-11d %-9s %10.0f %10.0f %10.0f %8lld\n", level.concurrency, name, s->qps, s->p50_us,
                  s->p99_us, static_cast<long long>(s->failed));
    }
    std::printf("%-11d one failover adds p50 %+.0f us, p99 %+.0f us; qps ratio failover/direct %.2f\n",
                level.concurrency, level.added_p50_us, level.added_p99_us, level.qps_ratio);
  }
  std::printf("failover server: %lld calls, %.0f failovers, attempts refused %.0f answered %.0f\n",
              static_cast<long long>(result.failover_calls), result.failovers, result.refused_attempts,
              result.answered_attempts);
}

std::string FailoverJson(const FailoverResult& result) {
  std::string out = "{\"levels\":[";
  for (size_t i = 0; i < result.levels.size(); ++i) {
    const FailoverLevel& l = result.levels[i];
    const auto scenario = [](const FailoverScenario& s) {
      return absl::StrCat("{\"calls\":", s.calls, ",\"failed\":", s.failed, ",\"qps\":", s.qps,
                          ",\"p50_us\":", s.p50_us, ",\"p99_us\":", s.p99_us, "}");
    };
    absl::StrAppend(&out, i > 0 ? "," : "", "{\"concurrency\":", l.concurrency, ",\"direct\":", scenario(l.direct),
                    ",\"failover\":", scenario(l.failover), ",\"added_p50_us\":", l.added_p50_us,
                    ",\"added_p99_us\":", l.added_p99_us, ",\"qps_ratio\":", l.qps_ratio, "}");
  }
  absl::StrAppend(&out, "],\"failover_calls\":", result.failover_calls, ",\"failovers\":", result.failovers,
                  ",\"refused_attempts\":", result.refused_attempts, ",\"answered_attempts\":",
                  result.answered_attempts, "}");
  return out;
}

int RunFailoverCommand(const SuiteBinaries& binaries, const v1::CreateMessageRequest& request,
                       FailoverOptions options, bool json) {
  options.concurrency.clear();
  for (const std::string& value : absl::GetFlag(FLAGS_failover_concurrency)) {
    int level = 0;
    if (!absl::SimpleAtoi(value, &level) || level < 1) {
      std::fprintf(stderr, "claude-grpc-bench: bad --failover_concurrency value \"%s\"\n", value.c_str());
      return 2;
    }
    options.concurrency.push_back(level);
  }
  absl::StatusOr<FailoverResult> result = RunFailoverSuite(binaries, request, options);
  if (!result.ok()) {
    std::fprintf(stderr, "claude-grpc-bench: failover: %s\n", result.status().ToString().c_str());
    return 1;
  }
  if (json) {
    std::printf("{\"failover\":%s}\n", FailoverJson(*result).c_str());
  } else {
    PrintFailover(*result, options);
  }
  std::fflush(stdout);
  for (const FailoverLevel& level : result->levels) {
    if (level.direct.failed > 0 || level.failover.failed > 0) return 1;  // figures of failed calls mean nothing
  }
  return 0;
}

}  // namespace bench
}  // namespace claude
