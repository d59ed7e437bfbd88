// The stream suite: --streams StreamMessage calls always in flight, each echoing a prompt of
// --stream_events words (one delta per word): raw gRPC against the front-end (and the
// chat_completions front-end with --upstream_api=both). Its headline: the front-end's events/s
// as a fraction of raw gRPC's.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "client/bench/bench_requests.h"
#include "client/bench/grpc_load.h"
#include "client/bench/load_environment.h"
#include "client/bench/load_rounds.h"
#include "client/bench/report.h"
#include "client/bench/suite.h"

namespace claude {
namespace bench {
namespace {

constexpr char kSuite[] = "stream";
// Events of an echo stream besides its --stream_events text deltas ("Echo:" and the prompt's
// --stream_events - 1 words): message_start, content_block_start, content_block_stop,
// message_delta and message_stop.
constexpr int kEventsBesidesDeltas = 5;

class StreamSuite : public LoadSuite {
 public:
  StreamSuite() : LoadSuite(kSuite) {}

  absl::Status Run(SuiteContext& context) override {
    const BenchConfig& config = context.config;
    std::vector<std::string> scenarios = {kRaw, kFrontend};
    if (config.upstream_api == UpstreamApi::kBoth) scenarios.push_back(kFrontendChat);
    scenarios = WithAbScenario(config, std::move(scenarios));
    // fake-anthropic echoes "Echo: " plus the prompt, one delta per word.
    const v1::CreateMessageRequest request =
        MakeRequest(Words(std::max(config.stream_events - 1, 1)));
    for (int round = 0; round < config.rounds; ++round) {
      for (const std::string& scenario : RoundOrder(scenarios, round)) {
        const Metrics metrics = MeasureRun(
            context, scenario,
            [&] {
              return RunClosedLoop(context.load->StubsFor(scenario), request, true, config.streams,
                                   TimingOf(config));
            },
            StreamMetrics);
        context.results->Add(kSuite, scenario, config.streams, metrics);
      }
    }
    return absl::OkStatus();
  }

  void PrintText(const SuiteContext& context) const override {
    const Results& results = *context.results;
    const int streams = context.config.streams;
    std::printf("\nstream (%d streams in flight): median (min..max); times in microseconds\n",
                streams);
    static const std::vector<SpreadColumn> kColumns = {
        {"events/s", "events_per_s", "%.0f", 30},
        {"first-event p50", "first_event_p50_us", "%.0f", 24},
        {"first-event p99", "first_event_p99_us", "%.0f", 24},
        {"gap p50", "gap_p50_us", "%.1f", 24},
        {"gap p99", "gap_p99_us", "%.1f", 24},
        {"server switches/stream", "server_switches_per_call", "%.1f", 0},
    };
    std::printf("%-10s %s\n", "scenario", SpreadHeadings(kColumns).c_str());
    for (const char* scenario : {kRaw, kFrontend, kFrontendChat, kFrontendB}) {
      if (!results.Has(kSuite, scenario, streams)) continue;
      std::printf("%-10s %s\n", scenario,
                  SpreadCells(results, kSuite, scenario, streams, kColumns).c_str());
    }
    const DerivedFigures figures = Figures(context);
    std::printf("front-end events/s / raw gRPC events/s: %.3f (%d events per stream)\n",
                figures.Get("ratio_vs_raw"), context.config.stream_events + kEventsBesidesDeltas);
    if (context.config.upstream_api == UpstreamApi::kBoth) {
      std::printf("chat_completions front-end events/s / messages front-end events/s: %.3f\n",
                  figures.Get("chat_completions_vs_messages"));
    }
  }

 private:
  DerivedFigures Figures(const SuiteContext& context) const override {
    const int streams = context.config.streams;
    return ThroughputRatios(
        context, kSuite, streams, "events_per_s",
        {{"streams", streams},
         {"events_per_stream", context.config.stream_events + kEventsBesidesDeltas}});
  }
};

}  // namespace

std::unique_ptr<Suite> MakeStreamSuite() { return std::make_unique<StreamSuite>(); }

}  // namespace bench
}  // namespace claude
