// Gauges read at scrape time: each family keeps its name, help and type, and every Collect reads
// the state anew (nothing is cached between scrapes). Read back through Collect, as /metrics
// does, and in the Prometheus text format.
#include "service/observability/scrape_gauges.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "tests/testing/collected_metrics.h"

namespace claude {
namespace {

using ::claude::testing::LabelsOf;
using ::claude::testing::MetricLabels;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(ScrapeGaugesTest, AGaugeIsReadAtEachScrape) {
  ScrapeGauges gauges;
  double transfers = 3;
  gauges.Add("claude_grpc_test_transfers", "Transfers in flight.",
             [&transfers] { return transfers; });

  std::vector<prometheus::MetricFamily> families = gauges.Collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "claude_grpc_test_transfers");
  EXPECT_EQ(families[0].help, "Transfers in flight.");
  EXPECT_EQ(families[0].type, prometheus::MetricType::Gauge);
  ASSERT_EQ(families[0].metric.size(), 1u);
  EXPECT_THAT(families[0].metric[0].label, IsEmpty());
  EXPECT_EQ(families[0].metric[0].gauge.value, 3);

  transfers = 1;
  families = gauges.Collect();
  ASSERT_EQ(families.size(), 1u);
  ASSERT_EQ(families[0].metric.size(), 1u);
  EXPECT_EQ(families[0].metric[0].gauge.value, 1) << "read again, not remembered";
}

TEST(ScrapeGaugesTest, ACounterIsTypedAndValuedAsACounter) {
  ScrapeGauges gauges;
  gauges.AddCounter("claude_grpc_test_seconds_total", "Seconds spent.", [] { return 2.5; });
  const std::vector<prometheus::MetricFamily> families = gauges.Collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].type, prometheus::MetricType::Counter);
  ASSERT_EQ(families[0].metric.size(), 1u);
  EXPECT_EQ(families[0].metric[0].counter.value, 2.5);
  EXPECT_EQ(families[0].metric[0].gauge.value, 0) << "the value is where a counter's is read";
}

TEST(ScrapeGaugesTest, ALabelledGaugeHasOneSeriesPerSample) {
  ScrapeGauges gauges;
  std::vector<ScrapeGauges::Sample> samples = {{{{"upstream", "primary"}, {"state", "ejected"}}, 1},
                                               {{{"upstream", "backup"}, {"state", "ejected"}}, 0}};
  gauges.AddLabeled("claude_grpc_test_ejected", "Upstreams ejected.",
                    [&samples] { return samples; });

  std::vector<prometheus::MetricFamily> families = gauges.Collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].type, prometheus::MetricType::Gauge);
  ASSERT_EQ(families[0].metric.size(), 2u);
  EXPECT_EQ(LabelsOf(families[0].metric[0]),
            (MetricLabels{{"upstream", "primary"}, {"state", "ejected"}}));
  EXPECT_EQ(families[0].metric[0].gauge.value, 1);
  EXPECT_EQ(LabelsOf(families[0].metric[1]),
            (MetricLabels{{"upstream", "backup"}, {"state", "ejected"}}));
  EXPECT_EQ(families[0].metric[1].gauge.value, 0);

  samples.clear();
  families = gauges.Collect();
  ASSERT_EQ(families.size(), 1u) << "the family stays, empty";
  EXPECT_EQ(families[0].name, "claude_grpc_test_ejected");
  EXPECT_THAT(families[0].metric, IsEmpty());
}

TEST(ScrapeGaugesTest, FamiliesComeInTheOrderTheyWereAdded) {
  ScrapeGauges gauges;
  gauges.Add("b_gauge", "B.", [] { return 0.0; });
  gauges.AddCounter("a_total", "A.", [] { return 0.0; });
  gauges.AddLabeled("c_labelled", "C.", [] { return std::vector<ScrapeGauges::Sample>{}; });
  const std::vector<prometheus::MetricFamily> families = gauges.Collect();
  ASSERT_EQ(families.size(), 3u);
  EXPECT_EQ(families[0].name, "b_gauge");
  EXPECT_EQ(families[1].name, "a_total");
  EXPECT_EQ(families[2].name, "c_labelled");
}

// The text /metrics serves of them: each read once per scrape.
TEST(ScrapeGaugesTest, OneScrapeReadsEachFamilyOnce) {
  ScrapeGauges gauges;
  int reads = 0;
  gauges.Add("claude_grpc_test_paused", "Transfers paused.", [&reads] {
    ++reads;
    return 4.0;
  });
  gauges.AddLabeled("claude_grpc_test_info", "Info.", [] {
    return std::vector<ScrapeGauges::Sample>{{{{"version", "1.2.3"}}, 1}};
  });
  const std::string text = prometheus::TextSerializer().Serialize(gauges.Collect());
  EXPECT_EQ(reads, 1);
  EXPECT_THAT(text, HasSubstr("# HELP claude_grpc_test_paused Transfers paused.\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE claude_grpc_test_paused gauge\n"));
  EXPECT_THAT(text, HasSubstr("claude_grpc_test_paused 4\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE claude_grpc_test_info gauge\n"));
  EXPECT_THAT(text, HasSubstr("claude_grpc_test_info{version=\"1.2.3\"} 1\n"));
}

}  // namespace
}  // namespace claude
