// claude-grpc-server: the gRPC front-end for Claude's Messages API.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "service/config/help_flags.h"
#include "service/config/api_key_source.h"
#include "service/rpc/services.h"
#include "service/upstream/curl_event_loop.h"
#include "service/upstream/retry_policy.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:50051", "gRPC address to serve on (HOST:PORT; port 0 picks a free one).");
ABSL_FLAG(std::string, upstream, "",
          "Base URL of the Messages API. Default: $ANTHROPIC_BASE_URL, else https://api.anthropic.com.");
ABSL_FLAG(std::string, api_key_file, "",
          "File holding the API key, re-read when it changes (a mounted secret). Default: the key "
          "comes from $ANTHROPIC_API_KEY.");
ABSL_FLAG(std::string, upstream_auth, "x-api-key",
          "How the key is sent: x-api-key (the API) or bearer (Authorization: Bearer, gateways).");
ABSL_FLAG(std::string, anthropic_version, "2023-06-01", "The anthropic-version header sent upstream.");
ABSL_FLAG(absl::Duration, connect_timeout, absl::Seconds(10), "Time to connect to the upstream.");
ABSL_FLAG(absl::Duration, default_timeout, absl::Minutes(15),
          "Time an upstream request may take when the caller sets no gRPC deadline.");
ABSL_FLAG(absl::Duration, stall_timeout, absl::Minutes(5),
          "Fail an upstream response that sends nothing for this long (0 = never).");
ABSL_FLAG(int, max_retries, 2, "Retries of a failed upstream request (before any event reached the caller).");
ABSL_FLAG(int, max_connections_per_host, 0, "Most upstream connections per host (0 = unlimited).");
ABSL_FLAG(int, max_total_connections, 0, "Most upstream connections in all (0 = unlimited).");
ABSL_FLAG(bool, http2, false, "Use HTTP/2 to https:// upstreams (multiplexed connections).");
ABSL_FLAG(int64_t, stream_buffer_bytes, 256 * 1024,
          "Per-stream backlog of events for a slow caller before the upstream is paused.");
ABSL_FLAG(int64_t, unary_stream_threshold, 16384,
          "CreateMessage streams from the upstream (and accumulates) when max_tokens exceeds this.");
ABSL_FLAG(int, max_request_bytes, 64 << 20, "Largest gRPC request accepted.");

namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "The gRPC front-end for Claude: serves claude.v1.Messages and claude.v1.Models and calls "
      "the Anthropic Messages API (or a compatible gateway).\n"
      "Environment: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL.");
  claude::ShowFlagsOfFile("service/main.cc");
  absl::ParseCommandLine(argc, argv);

  // Signals are taken by a thread of our own (sigwait), never by gRPC or curl threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  claude::CurlEventLoopOptions loop_options;
  loop_options.base_url = absl::GetFlag(FLAGS_upstream);
  if (loop_options.base_url.empty()) loop_options.base_url = Env("ANTHROPIC_BASE_URL");
  if (loop_options.base_url.empty()) loop_options.base_url = "https://api.anthropic.com";
  while (!loop_options.base_url.empty() && loop_options.base_url.back() == '/') loop_options.base_url.pop_back();
  loop_options.auth_scheme = absl::GetFlag(FLAGS_upstream_auth);
  if (loop_options.auth_scheme != "x-api-key" && loop_options.auth_scheme != "bearer") {
    std::cerr << "--upstream_auth must be x-api-key or bearer\n";
    return 2;
  }
  loop_options.anthropic_version = absl::GetFlag(FLAGS_anthropic_version);
  if (const std::string file = absl::GetFlag(FLAGS_api_key_file); !file.empty()) {
    loop_options.api_key = std::make_shared<claude::FileApiKeySource>(file);
  } else if (const std::string key = Env("ANTHROPIC_API_KEY"); !key.empty()) {
    loop_options.api_key = std::make_shared<claude::StaticApiKeySource>(key);
  }
  loop_options.connect_timeout = absl::GetFlag(FLAGS_connect_timeout);
  loop_options.stall_timeout = absl::GetFlag(FLAGS_stall_timeout);
  loop_options.max_connections_per_host = absl::GetFlag(FLAGS_max_connections_per_host);
  loop_options.max_total_connections = absl::GetFlag(FLAGS_max_total_connections);
  loop_options.http2 = absl::GetFlag(FLAGS_http2);

  // The retry policy exists before the loop's thread starts, so it is ordered before its reads.
  claude::RetryPolicy retry_policy(absl::GetFlag(FLAGS_max_retries));
  claude::CurlEventLoop loop(loop_options);
  claude::CallEnvironment env;
  env.loop = &loop;
  env.retry_policy = &retry_policy;
  env.options.stream_buffer_bytes = absl::GetFlag(FLAGS_stream_buffer_bytes);
  env.options.default_timeout = absl::GetFlag(FLAGS_default_timeout);

  claude::MessagesService messages(&env, absl::GetFlag(FLAGS_unary_stream_threshold));
  claude::ModelsService models(&env);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(absl::GetFlag(FLAGS_max_request_bytes));
  builder.RegisterService(&messages);
  builder.RegisterService(&models);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "claude-grpc-server: cannot listen on " << absl::GetFlag(FLAGS_listen) << "\n";
    return 1;
  }
  std::cout << "claude-grpc-server listening on port " << port << ", upstream "
            << loop_options.base_url << (loop_options.api_key ? "" : " (no API key)") << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cout << "claude-grpc-server: signal " << signal_number << ", shutting down" << std::endl;
  // Calls still running at the deadline are cancelled, which aborts their upstream transfers.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return 0;
}
