// The bench's run measures: the histogram's mean, a process's context switches from /proc, and
// the warning for runs that shared the cores.
#include "client/bench/run_conditions.h"

#include <unistd.h>

#include <climits>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/bench/histogram.h"

namespace claude::bench {
namespace {

using ::testing::HasSubstr;

TEST(LatencyHistogramTest, MeanIsTheMeanOfTheRecordedValuesAndSurvivesMergeAndClear) {
  LatencyHistogram a;
  EXPECT_EQ(a.Mean(), 0);
  a.Record(1'000);
  a.Record(3'000);
  EXPECT_DOUBLE_EQ(a.Mean(), 2'000);
  LatencyHistogram b;
  b.Record(8'000);
  a.Merge(b);
  EXPECT_DOUBLE_EQ(a.Mean(), 4'000);
  // Values are clamped as the percentiles clamp them.
  LatencyHistogram tiny;
  tiny.Record(1);
  EXPECT_DOUBLE_EQ(tiny.Mean(), LatencyHistogram::kMinNanos);
  a.Clear();
  EXPECT_EQ(a.Mean(), 0);
}

TEST(ProcessContextSwitchesTest, EachBlockingSleepOfAThreadCounts) {
  const int64_t before = ProcessContextSwitches(getpid());
  ASSERT_GE(before, 0);
  for (int i = 0; i < 20; ++i) usleep(1000);
  const int64_t after = ProcessContextSwitches(getpid());
  EXPECT_GE(after - before, 20);
}

TEST(ProcessContextSwitchesTest, AProcessThatDoesNotExistReadsAsMinusOne) {
  EXPECT_EQ(ProcessContextSwitches(INT_MAX), -1);
}

TEST(RunConditionsTest, CountsTheServersSwitchesOverTheWindowPerCall) {
  // This process stands for the server: its main thread sleeps 50 times in the window.
  RunConditions conditions(getpid(), absl::ZeroDuration(), absl::Milliseconds(300),
                           absl::Milliseconds(50));
  conditions.Start();
  for (int i = 0; i < 50; ++i) usleep(1000);
  std::map<std::string, double> metrics;
  conditions.Finish(/*calls=*/50, &metrics);
  ASSERT_EQ(metrics.count("server_switches_per_call"), 1u);
  EXPECT_GE(metrics["server_switches_per_call"], 1.0);
  EXPECT_GE(metrics["others_runnable_share"], 0.0);
  EXPECT_LE(metrics["others_runnable_share"], 1.0);
  EXPECT_GE(metrics["others_runnable_max"], 0.0);
  EXPECT_GE(metrics["loadavg_1m"], 0.0);
}

TEST(RunConditionsTest, WithoutAServerThereIsNoSwitchFigure) {
  RunConditions conditions(-1, absl::ZeroDuration(), absl::Milliseconds(20),
                           absl::Milliseconds(10));
  conditions.Start();
  std::map<std::string, double> metrics;
  conditions.Finish(10, &metrics);
  EXPECT_EQ(metrics.count("server_switches_per_call"), 0u);
  EXPECT_EQ(metrics.count("others_runnable_share"), 1u);
}

TEST(LoadWarningTest, OnlyRunsThatSawOthersWarn) {
  EXPECT_EQ(LoadWarning(0, 12, 0, 0.5), "");
  const std::string warning = LoadWarning(3, 12, 7, 9.25);
  EXPECT_THAT(warning, HasSubstr("during 3 of 12 measured runs"));
  EXPECT_THAT(warning, HasSubstr("up to 7 at once"));
  EXPECT_THAT(warning, HasSubstr("9.25"));
}

}  // namespace
}  // namespace claude::bench
