// The latency suite: one CreateMessage in flight at a time against raw gRPC, direct HTTP and
// the front-end. Its headline: the front-end's overhead, front-end - (raw gRPC + direct HTTP),
// at p50 and p99.
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/bench/load_environment.h"
#include "client/bench/load_rounds.h"
#include "client/bench/report.h"
#include "client/bench/suite.h"

namespace claude {
namespace bench {
namespace {

constexpr char kSuite[] = "latency";

class LatencySuite : public LoadSuite {
 public:
  LatencySuite() : LoadSuite(kSuite) {}

  absl::Status Run(SuiteContext& context) override {
    RunUnaryRounds(context, kSuite, WithAbScenario(context.config, {kRaw, kHttp, kFrontend}), {1});
    return absl::OkStatus();
  }

  void PrintText(const SuiteContext& context) const override {
    const DerivedFigures figures = Figures(context);
    PrintUnaryTable(*context.results, kSuite, "latency (1 in flight)");
    std::printf(
        "front-end overhead = front-end - (raw gRPC + direct HTTP): p50 %.0f us, p99 %.0f us\n",
        figures.Get("overhead_p50_us"), figures.Get("overhead_p99_us"));
    if (!context.config.ab_server_flags.empty()) {
      std::printf(
          "frontend_b (%s) overhead: p50 %.0f us, p99 %.0f us, mean %.0f us (frontend: mean %.0f "
          "us)\n",
          absl::StrJoin(context.config.ab_server_flags, ",").c_str(),
          figures.Get("overhead_p50_us_b"), figures.Get("overhead_p99_us_b"),
          figures.Get("overhead_mean_us_b"), figures.Get("overhead_mean_us"));
    }
  }

 private:
  DerivedFigures Figures(const SuiteContext& context) const override {
    const Results& results = *context.results;
    DerivedFigures figures;
    figures.Add("overhead_p50_us", FrontendOverhead(results, kSuite, 1, "p50_us"));
    figures.Add("overhead_p99_us", FrontendOverhead(results, kSuite, 1, "p99_us"));
    figures.Add("overhead_mean_us", FrontendOverhead(results, kSuite, 1, "mean_us"));
    if (results.Has(kSuite, kFrontendB, 1)) {
      for (const char* p : {"p50", "p99", "mean"}) {
        figures.Add(absl::StrCat("overhead_", p, "_us_b"),
                    FrontendOverhead(results, kSuite, 1, absl::StrCat(p, "_us"), kFrontendB));
      }
    }
    return figures;
  }
};

}  // namespace

std::unique_ptr<Suite> MakeLatencySuite() { return std::make_unique<LatencySuite>(); }

}  // namespace bench
}  // namespace claude
