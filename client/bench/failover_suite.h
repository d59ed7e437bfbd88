// The bench's failover suite (--suite=failover): what one failover costs. Two fake-anthropic
// processes, one refusing every call with 529 (--fail_status), one answering; two
// claude-grpc-server processes with upstreams files: "direct" routes every model to the
// answering fake alone, "failover" to the refusing one first, then the answering one, with
// outlier ejection off (--ejection_failures=0) so that every call pays exactly one failover.
// Both run in the same rounds (alternating which goes first), under the same closed-loop load,
// and are compared: the latency one failover adds (p50, p99) and the throughput ratio. The
// failover server's per-upstream counters confirm that each of its calls made two attempts.
#ifndef CLIENT_BENCH_FAILOVER_SUITE_H_
#define CLIENT_BENCH_FAILOVER_SUITE_H_

#include <vector>

namespace claude {
namespace bench {

struct FailoverOptions {
  std::vector<int> concurrency = {1, 16};  // calls in flight, one measurement each
};

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_FAILOVER_SUITE_H_
