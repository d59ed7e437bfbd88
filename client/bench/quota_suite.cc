// The quota suite (not part of --suite=all: it needs redis-server, and the perf table does not
// show it): one CreateMessage in flight against two servers with the same per-caller limit,
// counted in memory and in Redis. Its headline: what the Redis-checked admission adds, p50 and
// p99, same run.
#include <cstdio>
#include <memory>

#include "client/bench/load_environment.h"
#include "client/bench/load_rounds.h"
#include "client/bench/report.h"
#include "client/bench/suite.h"

namespace claude {
namespace bench {
namespace {

constexpr char kSuite[] = "quota";

class QuotaSuite : public Suite {
 public:
  SuiteStage stage() const override { return SuiteStage::kSharedProcesses; }
  bool in_all() const override { return false; }
  bool needs_quota_servers() const override { return true; }

  absl::Status Run(SuiteContext& context) override {
    RunUnaryRounds(context, kSuite, {kLocalQuota, kRedisQuota}, {1});
    return absl::OkStatus();
  }

  std::string Json(const SuiteContext& context) const override {
    return SuiteJson(*context.results, kSuite, Figures(*context.results));
  }

  void PrintText(const SuiteContext& context) const override {
    const DerivedFigures figures = Figures(*context.results);
    PrintUnaryTable(*context.results, kSuite, "per-caller limit counted in memory / in Redis (1 in flight)");
    std::printf("added by the Redis-checked admission: p50 %.0f us, p99 %.0f us\n",
                figures.Get("redis_added_p50_us"), figures.Get("redis_added_p99_us"));
  }

 private:
  static DerivedFigures Figures(const Results& results) {
    DerivedFigures figures;
    for (const char* p : {"p50", "p99"}) {
      const std::string metric = std::string(p) + "_us";
      figures.Add("redis_added_" + metric, results.Get(kSuite, kRedisQuota, 1, metric).median -
                                              results.Get(kSuite, kLocalQuota, 1, metric).median);
    }
    return figures;
  }
};

}  // namespace

std::unique_ptr<Suite> MakeQuotaSuite() { return std::make_unique<QuotaSuite>(); }

}  // namespace bench
}  // namespace claude
