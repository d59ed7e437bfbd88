// The processes the load suites share, started once before them and stopped after: fake-anthropic,
// claude-grpc-server (a second one speaking chat_completions with --upstream_api=both; with
// the quota servers, redis-server and two servers with a per-caller limit), the in-process echo
// service, and gRPC stubs to each, addressed by scenario name.
#ifndef CLIENT_BENCH_LOAD_ENVIRONMENT_H_
#define CLIENT_BENCH_LOAD_ENVIRONMENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/bench/bench_config.h"
#include "client/bench/child_process.h"
#include "client/bench/echo_server.h"
#include "client/bench/grpc_load.h"

namespace claude {
namespace bench {

// The scenarios (a scenario is what a load is aimed at).
inline constexpr char kRaw[] = "raw";            // the in-process echo service
inline constexpr char kHttp[] = "direct_http";   // fake-anthropic over HTTP
inline constexpr char kFrontend[] = "frontend";  // claude-grpc-server -> fake-anthropic
// With --upstream_api=both: the front-end whose server speaks chat_completions upstream.
inline constexpr char kFrontendChat[] = "frontend_chat_completions";
// With --ab_server_flags: the front-end whose server runs with those flags too.
inline constexpr char kFrontendB[] = "frontend_b";
inline constexpr char kLocalQuota[] = "frontend_local_quota";  // limit counted in memory
inline constexpr char kRedisQuota[] = "frontend_redis_quota";  // limit counted in Redis

class LoadEnvironment {
 public:
  // Starts the children before any gRPC thread exists (later children are started with only
  // async-signal-safe calls between fork and exec), then the echo service and the stubs. The
  // status's message names what failed to start.
  static absl::StatusOr<std::unique_ptr<LoadEnvironment>> Start(const BenchConfig& config,
                                                                bool with_quota_servers);
  ~LoadEnvironment() { Stop(); }

  // The stubs of a gRPC scenario (kRaw, kFrontend, ...).
  const Stubs& StubsFor(absl::string_view scenario) const;
  // The claude-grpc-server process behind a front-end scenario; -1 for the others.
  pid_t ServerPidFor(absl::string_view scenario) const;
  // Where direct_http POSTs, and the body for a request in the dialect it speaks.
  const std::string& http_url() const { return http_url_; }
  std::string HttpBody(const v1::CreateMessageRequest& request) const;

  // Stops everything, echo service first; idempotent.
  void Stop();

 private:
  LoadEnvironment() = default;
  absl::Status StartChildren(const BenchConfig& config, bool with_quota_servers);
  absl::Status StartQuotaServers(const BenchConfig& config);

  bool chat_completions_http_ = false;
  std::string fake_url_;
  std::string http_url_;
  Child fake_, server_, chat_server_, server_b_, redis_, local_quota_server_, redis_quota_server_;
  int server_port_ = 0, chat_port_ = 0, server_b_port_ = 0, local_quota_port_ = 0,
      redis_quota_port_ = 0;
  std::unique_ptr<EchoServer> echo_;
  Stubs raw_, frontend_, frontend_chat_, frontend_b_, local_quota_, redis_quota_;
};

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_LOAD_ENVIRONMENT_H_
