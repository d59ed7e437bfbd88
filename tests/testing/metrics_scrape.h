// The server's Prometheus text, fetched the way a scraper does, for tests that check metrics.
#ifndef TESTS_TESTING_METRICS_SCRAPE_H_
#define TESTS_TESTING_METRICS_SCRAPE_H_

#include <string>

namespace claude::testing {

// GET http://127.0.0.1:<port>/metrics with libcurl; the body, or "" on failure (a test
// failure is recorded unless the status is 200).
std::string ScrapeMetrics(int port);

}  // namespace claude::testing

#endif  // TESTS_TESTING_METRICS_SCRAPE_H_
