// The process's own metrics (AddProcessMetrics), read from /proc at each scrape: each family
// under the name every Prometheus client uses, and values that follow what this process does
// (a file it opens, memory it touches, CPU it burns).
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "common/program_info/build_info.h"
#include "service/observability/scrape_gauges.h"
#include "tests/testing/collected_metrics.h"

namespace claude {
namespace {

using ::claude::testing::CollectSeries;
using ::claude::testing::FindFamily;
using ::claude::testing::LabelsOf;
using ::claude::testing::MetricLabels;
using ::testing::Gt;
using ::testing::NotNull;

class ProcessMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override { AddProcessMetrics(gauges_); }
  // The one value of the unlabelled family `name` at a new scrape; fails the test when absent.
  double Read(const std::string& name) const {
    const std::vector<prometheus::MetricFamily> families = gauges_.Collect();
    const prometheus::MetricFamily* family = FindFamily(families, name);
    EXPECT_THAT(family, NotNull()) << name;
    if (family == nullptr || family->metric.size() != 1) {
      ADD_FAILURE() << name << " has no single series";
      return -1;
    }
    return family->type == prometheus::MetricType::Counter ? family->metric[0].counter.value
                                                           : family->metric[0].gauge.value;
  }

  ScrapeGauges gauges_;
};

TEST_F(ProcessMetricsTest, EveryFamilyUnderItsUsualNameAndType) {
  const std::vector<prometheus::MetricFamily> families = gauges_.Collect();
  const std::vector<std::pair<std::string, prometheus::MetricType>> expected = {
      {"process_cpu_seconds_total", prometheus::MetricType::Counter},
      {"process_resident_memory_bytes", prometheus::MetricType::Gauge},
      {"process_virtual_memory_bytes", prometheus::MetricType::Gauge},
      {"process_open_fds", prometheus::MetricType::Gauge},
      {"process_max_fds", prometheus::MetricType::Gauge},
      {"process_start_time_seconds", prometheus::MetricType::Gauge},
      {"claude_grpc_build_info", prometheus::MetricType::Gauge},
  };
  ASSERT_EQ(families.size(), expected.size());
  for (const auto& [name, type] : expected) {
    const prometheus::MetricFamily* family = FindFamily(families, name);
    ASSERT_THAT(family, NotNull()) << name;
    EXPECT_EQ(family->type, type) << name;
    EXPECT_FALSE(family->help.empty()) << name;
  }
}

TEST_F(ProcessMetricsTest, BuildInfoNamesTheVersionAndRevision) {
  const std::optional<prometheus::ClientMetric> info =
      CollectSeries(gauges_, "claude_grpc_build_info");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(LabelsOf(*info),
            (MetricLabels{{"version", BuildVersion()}, {"revision", BuildRevision()}}));
  EXPECT_EQ(info->gauge.value, 1);
}

TEST_F(ProcessMetricsTest, OpenFdsCountsAFileThisProcessOpens) {
  const double before = Read("process_open_fds");
  EXPECT_THAT(before, Gt(2)) << "stdin, stdout and stderr at least";
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(Read("process_open_fds"), before + 1);
  close(fd);
  EXPECT_EQ(Read("process_open_fds"), before);
}

TEST_F(ProcessMetricsTest, MaxFdsIsTheSoftLimit) {
  rlimit files{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &files), 0);
  const double expected =
      files.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(files.rlim_cur);
  EXPECT_EQ(Read("process_max_fds"), expected);
}

TEST_F(ProcessMetricsTest, ResidentMemoryGrowsWithTouchedPages) {
  const double before = Read("process_resident_memory_bytes");
  EXPECT_THAT(before, Gt(0));
  constexpr size_t kBytes = 64 << 20;
  std::unique_ptr<char[]> block(new char[kBytes]);
  std::memset(block.get(), 1, kBytes);  // every page written, so resident
  const double after = Read("process_resident_memory_bytes");
  EXPECT_THAT(after - before, Gt(kBytes / 2)) << "before " << before << ", after " << after;
  EXPECT_THAT(Read("process_virtual_memory_bytes"), Gt(after - 1))
      << "resident memory is mapped memory";
  EXPECT_EQ(block[kBytes - 1], 1);
}

TEST_F(ProcessMetricsTest, CpuSecondsCountWorkDone) {
  const double before = Read("process_cpu_seconds_total");
  EXPECT_GE(before, 0);
  // Busy until the kernel has counted at least two more clock ticks (0.02 s at 100 Hz).
  const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  volatile unsigned sink = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (Read("process_cpu_seconds_total") < before + 2 * tick && absl::Now() < give_up) {
    for (int i = 0; i < 1'000'000; ++i) sink = sink + i;
  }
  EXPECT_GE(Read("process_cpu_seconds_total"), before + 2 * tick);
}

TEST_F(ProcessMetricsTest, StartTimeIsThisProcessesStart) {
  const double start = Read("process_start_time_seconds");
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  // The start is read at boot-time resolution (ticks), so it can only be slightly off.
  EXPECT_LE(start, now + 1);
  EXPECT_GE(start, now - 600) << "this test process started minutes ago at most";
  EXPECT_EQ(Read("process_start_time_seconds"), start) << "fixed at AddProcessMetrics";
}

}  // namespace
}  // namespace claude
