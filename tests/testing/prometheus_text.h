// /metrics as tests see it: one GET over real HTTP, and the Prometheus text format parsed into
// samples. Shared by the metrics tests (tests/integration/metrics_test.cc) and the check that
// the shipped monitoring uses only exported metrics (tests/deploy/monitoring_metrics_test.cc).
#ifndef TESTS_TESTING_PROMETHEUS_TEXT_H_
#define TESTS_TESTING_PROMETHEUS_TEXT_H_

#include <map>
#include <string>
#include <vector>

namespace claude::testing {

// GET http://<host>:<port><path> with libcurl; the body, or "" when the answer's status is not
// `expected_status` (which also fails the current test).
std::string ScrapeMetrics(int port, const std::string& host = "127.0.0.1", const std::string& path = "/metrics",
                          long expected_status = 200);

// One sample line of the Prometheus text format: name{k="v",...} value.
struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The samples of `text`; comment lines (# HELP, # TYPE) are skipped. Label values must hold
// no commas or quotes (ours do not).
std::vector<MetricSample> ParseMetrics(const std::string& text);

// The sum of the samples named `name` whose labels include `labels` (0 when none match).
double SumSamples(const std::vector<MetricSample>& samples, const std::string& name,
                  const std::map<std::string, std::string>& labels = {});

}  // namespace claude::testing

#endif  // TESTS_TESTING_PROMETHEUS_TEXT_H_
