// The whole server as one object: the curl event loop, the retry policy, the gRPC services,
// health and reflection, and the drain that ends it. claude-grpc-server's main() and the tests
// build it from the same ServerConfig, so the tests run what production runs.
#ifndef SERVICE_SERVER_CLAUDE_SERVER_H_
#define SERVICE_SERVER_CLAUDE_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/rpc/call_registry.h"
#include "service/rpc/services.h"
#include "service/security/caller_gate.h"
#include "service/security/server_tls.h"
#include "service/upstream/curl_event_loop.h"
#include "service/upstream/retry_policy.h"

namespace claude {

struct ServerConfig {
  // gRPC address, HOST:PORT; port 0 picks a free one (see ClaudeServer::port()).
  std::string listen = "0.0.0.0:50051";
  CurlEventLoopOptions upstream;
  int max_retries = 2;
  // Jitter source for retry backoff in [0, 1); empty: random.
  std::function<double()> jitter;
  CallOptions call;
  // CreateMessage streams from the upstream (and accumulates) above this max_tokens.
  int64_t unary_stream_threshold = 16384;
  // Largest gRPC request message accepted.
  int max_request_bytes = 64 << 20;
  // TLS or mutual TLS on the gRPC port; default plaintext.
  ServerTlsConfig tls;
  // Caller authentication (a callers file of token digests) and per-caller limits; default
  // neither.
  CallerPolicy callers;
};

class ClaudeServer {
 public:
  // Starts serving; fails when the address cannot be bound, or a TLS or callers file is
  // missing or malformed.
  static absl::StatusOr<std::unique_ptr<ClaudeServer>> Start(ServerConfig config);
  // Stops at once: calls still running are cancelled, their upstream transfers aborted.
  ~ClaudeServer();
  ClaudeServer(const ClaudeServer&) = delete;
  ClaudeServer& operator=(const ClaudeServer&) = delete;

  int port() const { return port_; }
  CurlEventLoop& loop() { return *loop_; }
  // RPCs that reached an upstream call and have not finished.
  int64_t live_calls() const { return calls_.size(); }
  // Authentication and per-caller limits; RecordTokens() feeds tokens_per_minute.
  CallerGate& gate() { return *gate_; }

  // Starts a graceful drain and returns at once: health turns NOT_SERVING, new calls are
  // refused (UNAVAILABLE), and calls in flight may finish until `grace` has passed; then they
  // end UNAVAILABLE and their upstream transfers are aborted.
  void BeginDrain(absl::Duration grace);
  // Waits up to `timeout` for a drain to end; true once every call has finished.
  bool WaitDrained(absl::Duration timeout);
  // Ends every call in flight now, UNAVAILABLE (a second signal while draining).
  void CancelAll();

 private:
  explicit ClaudeServer(ServerConfig config);

  const ServerConfig config_;
  // Created before the loop's thread starts, so they are ordered before its reads.
  RetryPolicy retry_policy_;
  CallRegistry calls_;
  std::unique_ptr<CallerGate> gate_;
  std::unique_ptr<CurlEventLoop> loop_;
  CallEnvironment env_;
  std::unique_ptr<MessagesService> messages_;
  std::unique_ptr<ModelsService> models_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  std::mutex drain_mu_;
  std::thread shutdown_thread_;  // runs grpc::Server::Shutdown, which blocks until calls end
  std::thread drain_thread_;     // cancels the calls that outlive the grace, then waits for both
  bool drained_ = false;
  std::condition_variable drained_cv_;
};

}  // namespace claude

#endif  // SERVICE_SERVER_CLAUDE_SERVER_H_
