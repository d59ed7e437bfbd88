// gRPC load on claude.v1.Messages: closed loop (a fixed number of calls or streams always in
// flight) and open loop (unary calls started at a fixed rate whatever the replies do).
#ifndef CLIENT_BENCH_GRPC_LOAD_H_
#define CLIENT_BENCH_GRPC_LOAD_H_

#include <memory>
#include <string>
#include <vector>

#include "claude/v1/messages.grpc.pb.h"
#include "client/bench/load_stats.h"

namespace claude {
namespace bench {

using Stubs = std::vector<std::unique_ptr<v1::Messages::Stub>>;

// A finished call's failure as the report shows it ("14: failed to connect"); "" when OK.
std::string CallError(const grpc::Status& status);

// `channels` stubs to `target`, each on its own connection; waits up to 10 s for each to connect.
Stubs MakeStubs(const std::string& target, int channels);

// Calls in flight at most in an open loop; a call due beyond it counts as an error.
inline constexpr int kOpenLoopMaxInFlight = 1000;

// `concurrency` slots, each issuing its next call (CreateMessage, or StreamMessage when
// `stream`) when its previous one ends, spread over `stubs`. Blocks until every slot is done.
RunResult RunClosedLoop(const Stubs& stubs, const v1::CreateMessageRequest& request, bool stream,
                        int concurrency, const LoadTiming& timing);

// Unary calls at `rate` per second, the i-th due at start + i/rate, its latency counted from
// that due time (no coordinated omission), at most `max_in_flight` at once. Blocks until every
// call ended.
RunResult RunOpenLoop(const Stubs& stubs, const v1::CreateMessageRequest& request, double rate,
                      int max_in_flight, const LoadTiming& timing);

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_GRPC_LOAD_H_
