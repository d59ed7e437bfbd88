// The unary suite: CreateMessage, closed loop, at each --concurrency level: raw gRPC, direct
// HTTP and the front-end (and the chat_completions front-end with --upstream_api=both). Its
// headline: the front-end's QPS as a fraction of raw gRPC's at 64 in flight (or the level
// nearest to it).
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "client/bench/load_environment.h"
#include "client/bench/load_rounds.h"
#include "client/bench/report.h"
#include "client/bench/suite.h"

namespace claude {
namespace bench {
namespace {

constexpr char kSuite[] = "unary";

class UnarySuite : public LoadSuite {
 public:
  UnarySuite() : LoadSuite(kSuite) {}

  absl::Status Run(SuiteContext& context) override {
    std::vector<std::string> scenarios = {kRaw, kHttp, kFrontend};
    if (context.config.upstream_api == UpstreamApi::kBoth) scenarios.push_back(kFrontendChat);
    RunUnaryRounds(context, kSuite, WithAbScenario(context.config, scenarios),
                   context.config.concurrency);
    return absl::OkStatus();
  }

  void PrintText(const SuiteContext& context) const override {
    const DerivedFigures figures = Figures(context);
    PrintUnaryTable(*context.results, kSuite, "unary (CreateMessage)");
    const int level = RatioLevel(context.config);
    std::printf("front-end QPS / raw gRPC QPS at %d in flight: %.3f\n", level,
                figures.Get("ratio_vs_raw"));
    if (context.config.upstream_api == UpstreamApi::kBoth) {
      std::printf("chat_completions front-end QPS / messages front-end QPS at %d in flight: %.3f\n",
                  level, figures.Get("chat_completions_vs_messages"));
    }
  }

 private:
  // The level the ratios are taken at: 64 in flight, or the level nearest to it.
  static int RatioLevel(const BenchConfig& config) {
    int nearest = config.concurrency.front();
    for (int level : config.concurrency) {
      if (std::abs(level - 64) < std::abs(nearest - 64)) nearest = level;
    }
    return nearest;
  }

  DerivedFigures Figures(const SuiteContext& context) const override {
    const int level = RatioLevel(context.config);
    return ThroughputRatios(context, kSuite, level, "qps", {{"ratio_in_flight", level}});
  }
};

}  // namespace

std::unique_ptr<Suite> MakeUnarySuite() { return std::make_unique<UnarySuite>(); }

}  // namespace bench
}  // namespace claude
