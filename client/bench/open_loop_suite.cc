// The open_loop suite: CreateMessage calls started at --rate per second whatever the replies do
// (latency under load without coordinated omission), raw gRPC, direct HTTP and the front-end
// in turn. Its headline: the front-end's overhead at that rate, p50 and p99.
#include <cstdio>
#include <memory>

#include "client/bench/bench_requests.h"
#include "client/bench/grpc_load.h"
#include "client/bench/http_load.h"
#include "client/bench/load_environment.h"
#include "client/bench/load_rounds.h"
#include "client/bench/report.h"
#include "client/bench/suite.h"

namespace claude {
namespace bench {
namespace {

constexpr char kSuite[] = "open_loop";

class OpenLoopSuite : public LoadSuite {
 public:
  OpenLoopSuite() : LoadSuite(kSuite) {}

  absl::Status Run(SuiteContext& context) override {
    const BenchConfig& config = context.config;
    const v1::CreateMessageRequest request = MakeRequest(kShortPrompt);
    const std::string body = context.load->HttpBody(request);
    for (int round = 0; round < config.rounds; ++round) {
      for (const char* scenario : {kRaw, kHttp, kFrontend}) {
        const RunResult r =
            absl::string_view(scenario) == kHttp
                ? RunHttpOpenLoop(context.load->http_url(), body, config.rate, TimingOf(config))
                : RunOpenLoop(context.load->StubsFor(scenario), request, config.rate,
                              kOpenLoopMaxInFlight, TimingOf(config));
        context.failures->Note(r);
        context.results->Add(kSuite, scenario, Level(config), UnaryMetrics(r));
      }
    }
    return absl::OkStatus();
  }

  void PrintText(const SuiteContext& context) const override {
    const DerivedFigures figures = Figures(context);
    PrintUnaryTable(*context.results, kSuite, "open loop (calls started at a fixed rate)", "rate");
    std::printf("front-end overhead at %.0f calls/s: p50 %.0f us, p99 %.0f us\n",
                context.config.rate, figures.Get("overhead_p50_us"),
                figures.Get("overhead_p99_us"));
  }

 private:
  // Results are filed under the rate, as a level.
  static int Level(const BenchConfig& config) { return static_cast<int>(config.rate); }

  DerivedFigures Figures(const SuiteContext& context) const override {
    const int level = Level(context.config);
    DerivedFigures figures;
    figures.Add("rate", context.config.rate);
    figures.Add("overhead_p50_us", FrontendOverhead(*context.results, kSuite, level, "p50_us"));
    figures.Add("overhead_p99_us", FrontendOverhead(*context.results, kSuite, level, "p99_us"));
    return figures;
  }
};

}  // namespace

std::unique_ptr<Suite> MakeOpenLoopSuite() { return std::make_unique<OpenLoopSuite>(); }

}  // namespace bench
}  // namespace claude
