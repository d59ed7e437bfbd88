// The memory suite (its measurement: RunMemorySuite, memory_suites.h): the server's RSS per
// open, slowly dripping stream, on a fresh server. A level not reached fails the run.
#include <cstdio>
#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/bench/bench_requests.h"
#include "client/bench/memory_suites.h"
#include "client/bench/report.h"
#include "client/bench/suite.h"

namespace claude {
namespace bench {
namespace {

class MemorySuite : public MeasurementSuite<MemoryResult> {
 public:
  SuiteStage stage() const override { return SuiteStage::kFreshProcesses; }

  std::string Failure() const override { return result().stopped_by; }

  std::string Json(const SuiteContext& /*context*/) const override {
    const MemoryResult& m = result();
    std::vector<std::string> levels;
    for (const MemoryLevel& l : m.levels) {
      levels.push_back(absl::StrCat(R"({"streams":)", l.streams, R"(,"rss_kb":)", l.rss_kb,
                                    R"(,"kb_per_stream":)", Num(l.kb_per_stream), "}"));
    }
    const MemoryLevel last = m.levels.empty() ? MemoryLevel{} : m.levels.back();
    return absl::StrCat(R"({"kb_per_stream":)", Num(last.kb_per_stream), R"(,"streams":)",
                        last.streams, R"(,"baseline_kb":)", m.baseline_kb, R"(,"fd_limit":)",
                        m.fd_limit, R"(,"levels":[)", absl::StrJoin(levels, ","),
                        R"(],"stopped_by":")", absl::CHexEscape(m.stopped_by), "\"}");
  }

  void PrintText(const SuiteContext& /*context*/) const override {
    const MemoryResult& m = result();
    std::printf(
        "\nmemory: claude-grpc-server RSS with slowly dripping streams open (a fresh server; "
        "idle baseline %lld kB after warm-up; file limit %lld)\n",
        static_cast<long long>(m.baseline_kb), static_cast<long long>(m.fd_limit));
    std::printf("%-10s %-14s %s\n", "streams", "RSS kB", "kB per stream");
    for (const MemoryLevel& l : m.levels) {
      std::printf("%-10d %-14lld %.1f\n", l.streams, static_cast<long long>(l.rss_kb),
                  l.kb_per_stream);
    }
    if (!m.stopped_by.empty()) std::printf("stopped at %s\n", m.stopped_by.c_str());
  }

 private:
  absl::StatusOr<MemoryResult> Measure(const BenchConfig& config) const override {
    return RunMemorySuite(config.binaries, MakeRequest(kStoryPrompt), config.memory);
  }
};

}  // namespace

std::unique_ptr<Suite> MakeMemorySuite() { return std::make_unique<MemorySuite>(); }

}  // namespace bench
}  // namespace claude
