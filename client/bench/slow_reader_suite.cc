// The slow_reader suite (its measurement: RunSlowReaderSuite, memory_suites.h): the server's
// RSS growth while one big stream is read at a slow pace, on a fresh server. A stream that does
// not end OK fails the run.
#include <cstdio>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/bench/bench_requests.h"
#include "client/bench/memory_suites.h"
#include "client/bench/report.h"
#include "client/bench/suite.h"

namespace claude {
namespace bench {
namespace {

class SlowReaderSuite : public MeasurementSuite<SlowReaderResult> {
 public:
  SuiteStage stage() const override { return SuiteStage::kFreshProcesses; }

  std::string Failure() const override {
    return result().status == "OK" ? "" : absl::StrCat("stream ended ", result().status);
  }

  std::string Json(const SuiteContext& context) const override {
    const SlowReaderOptions& o = context.config.slow_reader;
    const SlowReaderResult& s = result();
    return absl::StrCat(R"({"rss_growth_mb":)", Num(s.growth_mb), R"(,"stream_mb":)", o.megabytes,
                        R"(,"read_mb_per_s":)", Num(o.read_bytes_per_s / 1e6), R"(,"baseline_kb":)",
                        s.baseline_kb, R"(,"peak_kb":)", s.peak_kb, R"(,"text_bytes":)",
                        s.text_bytes, R"(,"events":)", s.events, R"(,"seconds":)", Num(s.seconds),
                        R"(,"status":")", absl::CHexEscape(s.status), "\"}");
  }

  void PrintText(const SuiteContext& context) const override {
    const SlowReaderOptions& o = context.config.slow_reader;
    const SlowReaderResult& s = result();
    std::printf(
        "\nslow-reader: one %lld MiB stream read at %.1f MB/s: %.1f s, %lld events, status %s\n"
        "claude-grpc-server RSS: baseline %lld kB, peak %lld kB, growth %.2f MB\n",
        static_cast<long long>(o.megabytes), o.read_bytes_per_s / 1e6, s.seconds,
        static_cast<long long>(s.events), s.status.c_str(), static_cast<long long>(s.baseline_kb),
        static_cast<long long>(s.peak_kb), s.growth_mb);
  }

 private:
  absl::StatusOr<SlowReaderResult> Measure(const BenchConfig& config) const override {
    return RunSlowReaderSuite(config.binaries, MakeRequest(kStoryPrompt), config.slow_reader);
  }
};

}  // namespace

std::unique_ptr<Suite> MakeSlowReaderSuite() { return std::make_unique<SlowReaderSuite>(); }

}  // namespace bench
}  // namespace claude
