// Reading the server's Prometheus /metrics in tests: one GET, the text format parsed into
// samples, and sums over label subsets.
#ifndef TESTS_TESTING_METRICS_SCRAPE_H_
#define TESTS_TESTING_METRICS_SCRAPE_H_

#include <map>
#include <string>
#include <vector>

namespace claude::testing {

// One sample line of the Prometheus text format: name{k="v",...} value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// GET http://127.0.0.1:<port>/metrics with libcurl; the body, or "" on failure.
std::string Scrape(int port);

std::vector<Sample> Parse(const std::string& text);

// The sum of the samples named `name` whose labels include `labels` (0 when none match).
double Sum(const std::vector<Sample>& samples, const std::string& name,
           const std::map<std::string, std::string>& labels = {});

}  // namespace claude::testing

#endif  // TESTS_TESTING_METRICS_SCRAPE_H_
