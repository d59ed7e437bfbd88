#include "client/bench/load_rounds.h"

#include <algorithm>

#include "client/bench/bench_requests.h"
#include "client/bench/grpc_load.h"
#include "client/bench/http_load.h"
#include "client/bench/load_environment.h"
#include "client/bench/report.h"
#include "client/bench/run_conditions.h"

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
  for (const char* other : {kFrontendChat, kFrontendB}) {
    auto it = std::find(scenarios.begin(), scenarios.end(), other);
    if (round % 2 == 1 && messages != scenarios.end() && it != scenarios.end())
      std::iter_swap(messages, it);
  }
  return scenarios;
}

std::vector<std::string> WithAbScenario(const BenchConfig& config,
                                        std::vector<std::string> scenarios) {
  if (!config.ab_server_flags.empty()) scenarios.push_back(kFrontendB);
  return scenarios;
}

Metrics MeasureRun(SuiteContext& context, const std::string& scenario,
                   const std::function<RunResult()>& run, Metrics (*metrics_of)(const RunResult&)) {
  // With --calls a run has no fixed window, so the switches per call would be read over the
  // wrong span: they are left out.
  const pid_t server = context.config.calls > 0 ? -1 : context.load->ServerPidFor(scenario);
  RunConditions conditions(server, context.config.warmup, context.config.duration);
  conditions.Start();
  const RunResult r = run();
  context.failures->Note(r);
  Metrics metrics = metrics_of(r);
  conditions.Finish(r.total.calls, &metrics);
  return metrics;
}

void RunUnaryRounds(SuiteContext& context, const std::string& suite,
                    const std::vector<std::string>& scenarios, const std::vector<int>& levels) {
  const v1::CreateMessageRequest request = MakeRequest(kShortPrompt);
  const std::string body = context.load->HttpBody(request);
  const LoadTiming timing = TimingOf(context.config);
  for (int round = 0; round < context.config.rounds; ++round) {
    for (int level : levels) {
      for (const std::string& scenario : RoundOrder(scenarios, round)) {
        const Metrics metrics = MeasureRun(
            context, scenario,
            [&] {
              return scenario == kHttp
                         ? RunHttpClosedLoop(context.load->http_url(), body, level, timing)
                         : RunClosedLoop(context.load->StubsFor(scenario), request, false, level,
                                         timing);
            },
            UnaryMetrics);
        context.results->Add(suite, scenario, level, metrics);
      }
    }
  }
}

double FrontendOverhead(const Results& results, const std::string& suite, int level,
                        const std::string& metric, const char* frontend) {
  return results.Get(suite, frontend, level, metric).median -
         (results.Get(suite, kRaw, level, metric).median +
          results.Get(suite, kHttp, level, metric).median);
}

DerivedFigures ThroughputRatios(const SuiteContext& context, const std::string& suite, int level,
                                const std::string& metric,
                                const std::vector<std::pair<std::string, double>>& about_level) {
  const auto median_ratio = [&](const char* numerator, const char* denominator) {
    const double below = context.results->Get(suite, denominator, level, metric).median;
    return below > 0 ? context.results->Get(suite, numerator, level, metric).median / below : 0;
  };
  DerivedFigures figures;
  figures.Add("ratio_vs_raw", median_ratio(kFrontend, kRaw));
  for (const auto& [name, value] : about_level) figures.Add(name, value);
  if (context.config.upstream_api == UpstreamApi::kBoth) {
    figures.Add("chat_completions_vs_messages", median_ratio(kFrontendChat, kFrontend));
  }
  return figures;
}

std::string LoadSuite::Json(const SuiteContext& context) const {
  return SuiteJson(*context.results, name_, Figures(context));
}

}  // namespace bench
}  // namespace claude
