#include "client/bench/load_rounds.h"

#include <algorithm>

#include "client/bench/bench_requests.h"
#include "client/bench/grpc_load.h"
#include "client/bench/http_load.h"
#include "client/bench/load_environment.h"

namespace claude {
namespace bench {

LoadTiming TimingOf(const BenchConfig& config) {
  LoadTiming timing;
  timing.warmup = config.warmup;
  timing.duration = config.duration;
  timing.calls = config.calls;
  return timing;
}

std::vector<std::string> RoundOrder(std::vector<std::string> scenarios, int round) {
  auto messages = std::find(scenarios.begin(), scenarios.end(), kFrontend);
  auto chat = std::find(scenarios.begin(), scenarios.end(), kFrontendChat);
  if (round % 2 == 1 && messages != scenarios.end() && chat != scenarios.end()) {
    std::iter_swap(messages, chat);
  }
  return scenarios;
}

void RunUnaryRounds(SuiteContext& context, const std::string& suite, const std::vector<std::string>& scenarios,
                    const std::vector<int>& levels) {
  const v1::CreateMessageRequest request = MakeRequest(kShortPrompt);
  const std::string body = context.load->HttpBody(request);
  const LoadTiming timing = TimingOf(context.config);
  for (int round = 0; round < context.config.rounds; ++round) {
    for (int level : levels) {
      for (const std::string& scenario : RoundOrder(scenarios, round)) {
        const RunResult r = scenario == kHttp
                                ? RunHttpClosedLoop(context.load->http_url(), body, level, timing)
                                : RunClosedLoop(context.load->StubsFor(scenario), request, false, level, timing);
        context.failures->Note(r);
        context.results->Add(suite, scenario, level, UnaryMetrics(r));
      }
    }
  }
}

double FrontendOverhead(const Results& results, const std::string& suite, int level, const std::string& metric) {
  return results.Get(suite, kFrontend, level, metric).median -
         (results.Get(suite, kRaw, level, metric).median + results.Get(suite, kHttp, level, metric).median);
}

}  // namespace bench
}  // namespace claude
