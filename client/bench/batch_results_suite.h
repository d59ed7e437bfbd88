// The bench's batch_results suite: StreamMessageBatchResults against fake-anthropic's synthetic
// batch (lazily generated JSONL results), in fresh child processes (memory_suites.h):
//  - throughput: results per second read through the front-end (gRPC, as fast as the client
//    reads) and directly (HTTP GET of the same results_url, lines counted), same batch;
//  - memory: the server's RSS growth (peak minus its baseline) while a reader paced at
//    `read_bytes_per_s` streams `megabytes` of results.
#ifndef CLIENT_BENCH_BATCH_RESULTS_SUITE_H_
#define CLIENT_BENCH_BATCH_RESULTS_SUITE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "client/bench/memory_suites.h"

namespace claude {
namespace bench {

struct BatchResultsOptions {
  int64_t throughput_results = 100000;  // results in the throughput batch
  int result_bytes = 1024;              // text per result
  int64_t megabytes = 1024;             // results the paced reader reads, MiB
  double read_bytes_per_s = 10e6;       // its pace
};

struct BatchResultsResult {
  double frontend_results_per_s = 0;
  double direct_results_per_s = 0;
  int64_t paced_results = 0;
  double paced_seconds = 0;
  int64_t baseline_kb = 0;
  int64_t peak_kb = 0;
  double growth_mb = 0;  // (peak_kb - baseline_kb) / 1024 while paced
  std::string status;    // "OK" when every stream completed
};

absl::StatusOr<BatchResultsResult> RunBatchResultsSuite(const SuiteBinaries& binaries,
                                                        const BatchResultsOptions& options);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_BATCH_RESULTS_SUITE_H_
