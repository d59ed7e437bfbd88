// A claude-grpc-server's Prometheus /metrics, as the suites that check the server's own
// counters read it (soak's gauges, failover's per-upstream counters).
#ifndef CLIENT_BENCH_SERVER_METRICS_H_
#define CLIENT_BENCH_SERVER_METRICS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace claude {
namespace bench {

// The text of http://127.0.0.1:PORT/metrics (10 s at most).
absl::StatusOr<std::string> FetchMetrics(int metrics_port);

// The value of the unlabelled sample `name` in `text`, or -1 when there is none.
double SampleValue(absl::string_view text, absl::string_view name);
// The sum of the samples of `name` whose labels contain `label` (e.g. `upstream="a"`); 0 when
// there are none.
double LabelledSum(absl::string_view text, absl::string_view name, absl::string_view label);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_SERVER_METRICS_H_
