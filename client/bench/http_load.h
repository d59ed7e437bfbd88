// HTTP load straight to fake-anthropic (the direct_http scenario): the same request JSON POSTed
// with libcurl multi on the calling thread, as a caller without claude-grpc would send it.
#ifndef CLIENT_BENCH_HTTP_LOAD_H_
#define CLIENT_BENCH_HTTP_LOAD_H_

#include <string>

#include "client/bench/load_stats.h"

namespace claude {
namespace bench {

// `concurrency` POSTs of `body` to `url` always in flight, each handle reused (keeping its
// connection) once its reply is in. A transfer that cannot be set up counts as a failed call.
RunResult RunHttpClosedLoop(const std::string& url, const std::string& body, int concurrency,
                            const LoadTiming& timing);

// The open loop of RunOpenLoop (grpc_load.h) over libcurl multi: POSTs due at start + i/rate,
// latency from the due time, at most kOpenLoopMaxInFlight at once, on handles reused once free.
RunResult RunHttpOpenLoop(const std::string& url, const std::string& body, double rate,
                          const LoadTiming& timing);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_HTTP_LOAD_H_
