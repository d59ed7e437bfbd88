// claude-grpc-server: the gRPC front-end for Claude's Messages API.
#include <csignal>
#include <ctime>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/program_info/build_info.h"
#include "common/program_info/help_flags.h"
#include "service/config/api_key_source.h"
#include "service/observability/server_log.h"
#include "service/server/claude_server.h"
#include "service/upstream/api_key_signer.h"
#include "service/upstream/aws_credentials.h"
#include "service/upstream/bedrock_dialect.h"
#include "service/upstream/vertex_dialect.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:50051", "gRPC address to serve on (HOST:PORT; port 0 picks a free one).");
ABSL_FLAG(std::string, health_listen, "",
          "A second, plaintext address serving only grpc.health.v1.Health, for Kubernetes' gRPC "
          "probes when the gRPC port serves TLS (HOST:PORT; port 0 picks a free one). Default: none.");
ABSL_FLAG(std::string, upstream, "",
          "Base URL (http:// or https://) of the upstream API. Default: $ANTHROPIC_BASE_URL, else "
          "https://api.anthropic.com.");
ABSL_FLAG(std::string, api_key_file, "",
          "File holding the API key, re-read when it changes (a mounted secret). Default: the key "
          "comes from $ANTHROPIC_API_KEY.");
ABSL_FLAG(std::string, upstream_auth, "",
          "How the key is sent: x-api-key (the API) or bearer (Authorization: Bearer, gateways). "
          "Default: x-api-key for --upstream_api=messages, bearer for chat_completions.");
ABSL_FLAG(std::string, upstream_api, "messages",
          "The upstream's API: messages (Anthropic's Messages API or a compatible gateway), "
          "chat_completions (an OpenAI-compatible Chat Completions API, e.g. a gateway in front of "
          "Claude), vertex (Claude on Google Cloud Vertex AI) or bedrock (Claude on Amazon "
          "Bedrock). For vertex and bedrock, --upstream overrides the region's public endpoint.");
ABSL_FLAG(std::string, upstreams_file, "",
          "YAML file naming several upstreams (any --upstream_api kind, their credentials) and the "
          "routes of models to them, with failover; replaces --upstream and --upstream_api. A file "
          "that does not parse stops the server at start, naming the line; it is re-read when it "
          "changes (a broken change is refused and the running one stays).");
ABSL_FLAG(std::string, vertex_project, "", "With --upstream_api=vertex: the Google Cloud project.");
ABSL_FLAG(std::string, vertex_region, "",
          "With --upstream_api=vertex: the region (us-east5, europe-west1, global, ...).");
ABSL_FLAG(std::string, google_token_file, "",
          "With --upstream_api=vertex: file holding a Google OAuth access token (what a "
          "token-refreshing sidecar or workload identity writes), re-read when it changes.");
ABSL_FLAG(std::string, aws_region, "", "With --upstream_api=bedrock: the AWS region (us-east-1, ...).");
ABSL_FLAG(std::string, aws_credentials_file, "",
          "With --upstream_api=bedrock: an AWS shared credentials file ($AWS_PROFILE's section, "
          "else [default]), re-read when it changes. Default: AWS_ACCESS_KEY_ID, "
          "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.");
ABSL_FLAG(std::string, chat_thinking, "model_suffix",
          "With --upstream_api=chat_completions, how extended thinking is asked for: model_suffix "
          "(the model name gains -thinking), reasoning_effort, or off (refused).");
ABSL_FLAG(std::string, anthropic_version, "2023-06-01", "The anthropic-version header sent upstream.");
ABSL_FLAG(absl::Duration, connect_timeout, absl::Seconds(10),
          "Time to connect to the upstream, TLS handshake included; past it: UNAVAILABLE, retried.");
ABSL_FLAG(absl::Duration, default_timeout, absl::Minutes(15),
          "Time an upstream request may take when the caller sets no gRPC deadline.");
ABSL_FLAG(absl::Duration, stall_timeout, absl::Minutes(5),
          "Fail an upstream transfer that receives no byte for this long (UNAVAILABLE; retried while "
          "nothing reached the caller); a transfer paused for a slow caller never stalls (0 = never).");
ABSL_FLAG(absl::Duration, upstream_idle_timeout, absl::Seconds(60),
          "Close kept-alive upstream connections idle for longer than this (whole seconds).");
ABSL_FLAG(int, max_idle_connections, 256,
          "Most idle upstream connections kept open for reuse; the oldest beyond it are closed.");
ABSL_FLAG(int, max_retries, 2, "Retries of a failed upstream request (before any event reached the caller).");
ABSL_FLAG(int, ejection_failures, 5,
          "With --upstreams_file: failed attempts in a row (connection errors, 408, 5xx) after "
          "which an upstream is skipped for --ejection_time (0: never ejected).");
ABSL_FLAG(absl::Duration, ejection_time, absl::Seconds(10),
          "With --upstreams_file: an ejected upstream's first time out; doubles each time it fails "
          "again, up to --max_ejection_time.");
ABSL_FLAG(absl::Duration, max_ejection_time, absl::Minutes(5),
          "With --upstreams_file: the longest ejection.");
ABSL_FLAG(int, max_connections_per_host, 0, "Most upstream connections per host (0 = unlimited).");
ABSL_FLAG(int, max_total_connections, 0, "Most upstream connections in all (0 = unlimited).");
ABSL_FLAG(bool, http2, false, "Use HTTP/2 to https:// upstreams (multiplexed connections).");
ABSL_FLAG(int64_t, stream_buffer_bytes, 256 * 1024,
          "Per-stream backlog of events for a slow caller before the upstream is paused.");
ABSL_FLAG(int64_t, unary_stream_threshold, 16384,
          "CreateMessage streams from the upstream (and accumulates) when max_tokens exceeds this.");
ABSL_FLAG(int, max_request_bytes, 64 << 20, "Largest gRPC request accepted.");
ABSL_FLAG(int64_t, max_response_bytes, int64_t{64} << 20,
          "Largest upstream reply a unary call takes in (JSON, or the SSE it accumulates); "
          "larger: RESOURCE_EXHAUSTED. StreamMessage is not limited.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of the gRPC port; with --tls_key, serves TLS (files re-read when "
          "rotated).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: clients must present a certificate signed by one of these (mutual TLS).");
ABSL_FLAG(std::string, callers_file, "",
          "File of caller token digests, one per line: \"sha256:<hex> <caller-name> "
          "[concurrent_streams=N] [requests_per_minute=N] [tokens_per_minute=N]\"; re-read when it "
          "changes. Set: every claude.v1 call needs \"authorization: Bearer <token>\" metadata. "
          "Default: no authentication.");
ABSL_FLAG(int64_t, caller_concurrent_streams, 0,
          "Calls in flight per caller (0 = unlimited); without --callers_file, for all callers together.");
ABSL_FLAG(int64_t, caller_requests_per_minute, 0,
          "Calls started per caller per minute (0 = unlimited); without --callers_file, for all "
          "callers together.");
ABSL_FLAG(int64_t, caller_tokens_per_minute, 0,
          "Tokens per caller per minute (0 = unlimited); without --callers_file, for all callers "
          "together.");
ABSL_FLAG(std::string, upstream_ca_file, "",
          "PEM CA bundle trusted for the upstream's TLS (default: the system's). Verification is "
          "always on.");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(25),
          "On SIGTERM or SIGINT, calls in flight may finish for this long before they are "
          "cancelled; a second signal cancels them at once.");
ABSL_FLAG(std::string, metrics_listen, "",
          "Serve Prometheus metrics at http://HOST:PORT/metrics (port 0 picks a free one and prints "
          "it). Default: no metrics.");
ABSL_FLAG(std::string, redis_url, "",
          "redis://[:password@]host[:port][/db] (rediss:// for TLS): count requests and tokens per "
          "minute and the budgets in Redis, shared by every replica. Calls in flight "
          "(concurrent_streams) stay per replica. Default: in memory, per replica.");
ABSL_FLAG(std::string, redis_password_file, "",
          "File holding the Redis password (a mounted secret; a trailing newline is ignored).");
ABSL_FLAG(std::string, redis_ca_file, "",
          "rediss:// only: PEM CA certificates Redis's certificate must chain to (default: the "
          "system's). The certificate must also name the URL's host. Verification is always on.");
ABSL_FLAG(std::string, redis_failure, "open",
          "When Redis cannot answer: \"open\" admits on this replica's own counts (logged and "
          "counted in claude_grpc_quota_fail_open_admissions_total); \"closed\" refuses with "
          "UNAVAILABLE. The connection is retried with backoff either way.");
ABSL_FLAG(absl::Duration, redis_timeout, absl::Milliseconds(500),
          "A Redis reply later than this drops the connection (its calls fail over as above).");
ABSL_FLAG(std::string, prices_file, "",
          "Price table for the USD budgets: \"<model> <input> <output> <cache_write> "
          "<cache_read>\" in US dollars per million tokens, \"*\" for other models; re-read on "
          "change.");
ABSL_FLAG(std::string, otlp_endpoint, "",
          "OpenTelemetry collector (OTLP/HTTP, JSON) that receives one span per RPC, e.g. "
          "http://otel-collector:4318 (/v1/traces is added). Default: no export.");
ABSL_FLAG(bool, log_rpcs, true, "Write one JSON line per RPC to stderr.");
ABSL_FLAG(bool, log_bodies, false,
          "The RPC log lines also carry the request body and the reply's text (prompts and "
          "completions: keep off unless the logs may hold them).");

namespace {

constexpr char kProgram[] = "claude-grpc-server";

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// A configuration the server cannot start with: one ERROR line, then `exit_code`.
int Fail(int exit_code, absl::string_view message) {
  claude::LogEvent(claude::Severity::kError, message, {{"event", "start_failed"}});
  claude::FlushServerLog();
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "The gRPC front-end for Claude: serves claude.v1.Messages and claude.v1.Models and calls "
      "the Anthropic Messages API (or a compatible gateway).\n"
      "Environment: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL.");
  claude::HandleHelpAndVersion(argc, argv, kProgram, "service/main.cc");
  claude::ShowFlagsOfFile("service/main.cc");
  absl::ParseCommandLine(argc, argv);
  claude::RouteGrpcLogsToServerLog();
  // Debian's Abseil is built with absl::Mutex deadlock detection on, which gRPC's locks then pay
  // for on every acquisition (a lock-order graph update); profiles showed it per call.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Signals are taken by this thread (sigwait), never by gRPC or curl threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  claude::ServerConfig config;
  config.listen = absl::GetFlag(FLAGS_listen);
  config.health_listen = absl::GetFlag(FLAGS_health_listen);
  claude::MessagesDialectOptions& upstream = config.upstream;
  config.upstream_api = absl::GetFlag(FLAGS_upstream_api);
  config.upstreams_file = absl::GetFlag(FLAGS_upstreams_file);
  upstream.base_url = absl::GetFlag(FLAGS_upstream);
  bool has_credentials = false;
  if (config.upstream_api == "vertex") {
    config.vertex.project = absl::GetFlag(FLAGS_vertex_project);
    config.vertex.region = absl::GetFlag(FLAGS_vertex_region);
    if (upstream.base_url.empty()) upstream.base_url = claude::VertexEndpoint(config.vertex.region);
    const std::string token_file = absl::GetFlag(FLAGS_google_token_file);
    if (token_file.empty()) return Fail(2, "--upstream_api=vertex needs --google_token_file");
    auto token = std::make_shared<claude::FileApiKeySource>(token_file);
    if (token->Key().empty()) {
      return Fail(1, absl::StrCat("--google_token_file: ", token_file, " is missing or empty"));
    }
    config.vertex.access_token = std::move(token);
    has_credentials = true;
  } else if (config.upstream_api == "bedrock") {
    config.bedrock.region = absl::GetFlag(FLAGS_aws_region);
    if (upstream.base_url.empty()) upstream.base_url = claude::BedrockEndpoint(config.bedrock.region);
    if (const std::string file = absl::GetFlag(FLAGS_aws_credentials_file); !file.empty()) {
      const std::string profile = Env("AWS_PROFILE").empty() ? "default" : Env("AWS_PROFILE");
      auto credentials = std::make_shared<claude::AwsSharedCredentialsFile>(file, profile);
      if (absl::StatusOr<claude::AwsCredentials> c = credentials->Credentials(); !c.ok()) {
        return Fail(1, absl::StrCat("--aws_credentials_file: ", c.status().message()));
      }
      config.bedrock.credentials = std::move(credentials);
    } else {
      absl::StatusOr<claude::AwsCredentials> c = claude::AwsCredentialsFromEnvironment();
      if (!c.ok()) {
        return Fail(1, absl::StrCat("--upstream_api=bedrock: ", c.status().message(),
                                    " (or give --aws_credentials_file)"));
      }
      config.bedrock.credentials = std::make_shared<claude::StaticAwsCredentials>(*std::move(c));
    }
    has_credentials = true;
  } else if (config.upstream_api != "messages" && config.upstream_api != "chat_completions") {
    return Fail(2, "--upstream_api must be messages, chat_completions, vertex or bedrock");
  }
  if (upstream.base_url.empty()) upstream.base_url = Env("ANTHROPIC_BASE_URL");
  if (upstream.base_url.empty()) upstream.base_url = "https://api.anthropic.com";
  if (absl::Status s = claude::CheckUpstreamUrl(upstream.base_url); !s.ok()) return Fail(2, s.message());
  absl::StatusOr<claude::ChatThinking> chat_thinking =
      claude::ParseChatThinking(absl::GetFlag(FLAGS_chat_thinking));
  if (!chat_thinking.ok()) return Fail(2, chat_thinking.status().message());
  config.chat_thinking = *chat_thinking;
  upstream.auth_scheme = absl::GetFlag(FLAGS_upstream_auth);
  if (upstream.auth_scheme.empty()) {
    upstream.auth_scheme = config.upstream_api == "chat_completions" ? "bearer" : "x-api-key";
  }
  if (!claude::ParseApiKeyScheme(upstream.auth_scheme).ok()) {
    return Fail(2, "--upstream_auth must be x-api-key or bearer");
  }
  upstream.anthropic_version = absl::GetFlag(FLAGS_anthropic_version);
  if (const std::string file = absl::GetFlag(FLAGS_api_key_file); !file.empty()) {
    upstream.api_key = std::make_shared<claude::FileApiKeySource>(file);
  } else if (const std::string key = Env("ANTHROPIC_API_KEY"); !key.empty()) {
    upstream.api_key = std::make_shared<claude::StaticApiKeySource>(key);
  }
  claude::CurlEventLoopOptions& transport = config.transport;
  transport.connect_timeout = absl::GetFlag(FLAGS_connect_timeout);
  transport.stall_timeout = absl::GetFlag(FLAGS_stall_timeout);
  transport.idle_connection_timeout = absl::GetFlag(FLAGS_upstream_idle_timeout);
  transport.max_idle_connections = absl::GetFlag(FLAGS_max_idle_connections);
  if (transport.idle_connection_timeout < absl::Seconds(1) || transport.max_idle_connections < 1) {
    return Fail(2, "--upstream_idle_timeout must be at least 1s and --max_idle_connections at least 1");
  }
  transport.max_connections_per_host = absl::GetFlag(FLAGS_max_connections_per_host);
  transport.max_total_connections = absl::GetFlag(FLAGS_max_total_connections);
  transport.http2 = absl::GetFlag(FLAGS_http2);
  transport.ca_file = absl::GetFlag(FLAGS_upstream_ca_file);
  config.max_retries = absl::GetFlag(FLAGS_max_retries);
  config.ejection.consecutive_failures = absl::GetFlag(FLAGS_ejection_failures);
  config.ejection.base_ejection = absl::GetFlag(FLAGS_ejection_time);
  config.ejection.max_ejection = absl::GetFlag(FLAGS_max_ejection_time);
  if (config.ejection.consecutive_failures < 0 ||
      config.ejection.base_ejection <= absl::ZeroDuration() ||
      config.ejection.max_ejection < config.ejection.base_ejection) {
    return Fail(2,
                "--ejection_failures must be >= 0, --ejection_time positive and at most "
                "--max_ejection_time");
  }
  config.call.stream_buffer_bytes = absl::GetFlag(FLAGS_stream_buffer_bytes);
  config.call.default_timeout = absl::GetFlag(FLAGS_default_timeout);
  if (absl::GetFlag(FLAGS_max_response_bytes) < 1) {
    return Fail(2, "--max_response_bytes must be at least 1");
  }
  config.call.max_response_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_response_bytes));
  config.unary_stream_threshold = absl::GetFlag(FLAGS_unary_stream_threshold);
  config.max_request_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  config.otlp_endpoint = absl::GetFlag(FLAGS_otlp_endpoint);
  config.log_rpcs = absl::GetFlag(FLAGS_log_rpcs);
  config.log_bodies = absl::GetFlag(FLAGS_log_bodies);
  config.tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  config.tls.key_file = absl::GetFlag(FLAGS_tls_key);
  config.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  config.callers.callers_file = absl::GetFlag(FLAGS_callers_file);
  config.callers.limits.concurrent_streams = absl::GetFlag(FLAGS_caller_concurrent_streams);
  config.callers.limits.requests_per_minute = absl::GetFlag(FLAGS_caller_requests_per_minute);
  config.callers.limits.tokens_per_minute = absl::GetFlag(FLAGS_caller_tokens_per_minute);
  config.quota.redis_url = absl::GetFlag(FLAGS_redis_url);
  config.quota.redis_password_file = absl::GetFlag(FLAGS_redis_password_file);
  config.quota.redis_ca_file = absl::GetFlag(FLAGS_redis_ca_file);
  config.quota.redis_timeout = absl::GetFlag(FLAGS_redis_timeout);
  config.quota.prices_file = absl::GetFlag(FLAGS_prices_file);
  if (const std::string failure = absl::GetFlag(FLAGS_redis_failure); failure == "open" || failure == "closed") {
    config.quota.redis_fail_open = failure == "open";
  } else {
    return Fail(2, "--redis_failure must be \"open\" or \"closed\"");
  }

  const std::string base_url = upstream.base_url;
  const bool has_key = has_credentials || upstream.api_key != nullptr;
  const bool tls = config.tls.enabled(), mtls = !config.tls.client_ca_file.empty();
  const bool authenticating = !config.callers.callers_file.empty();
  const std::string config_api = config.upstream_api;
  const std::string upstreams_file = config.upstreams_file;
  const bool shared_quota = !config.quota.redis_url.empty();
  auto server = claude::ClaudeServer::Start(std::move(config));
  if (!server.ok()) return Fail(1, server.status().message());
  const int port = (*server)->port(), metrics_port = (*server)->metrics_port();
  const int health_port = (*server)->health_port();
  // Scripts wait for "listening on port N," (the quickstart, the bench).
  claude::LogEvent(
      claude::Severity::kInfo,
      absl::StrCat(kProgram, " listening on port ", port, ", upstream",
                   upstreams_file.empty() ? absl::StrCat(" ", base_url, " (", config_api)
                                          : absl::StrCat("s of ", upstreams_file, " ("),
                   has_key || !upstreams_file.empty() ? "" : ", no API key", ")",
                   mtls ? ", mutual TLS" : tls ? ", TLS" : ", plaintext",
                   authenticating ? ", caller tokens required" : "",
                   shared_quota ? ", limits shared in Redis" : "",
                   metrics_port != 0 ? absl::StrCat(", metrics on port ", metrics_port) : "",
                   health_port != 0 ? absl::StrCat(", health on port ", health_port) : ""),
      {{"event", "started"}, {"port", port}, {"metrics_port", metrics_port}, {"health_port", health_port},
       {"upstream", base_url}, {"upstream_api", absl::GetFlag(FLAGS_upstream_api)}, {"version", claude::BuildVersion()}, {"revision", claude::BuildRevision()}});

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  const absl::Duration grace = absl::GetFlag(FLAGS_drain_timeout);
  claude::LogEvent(claude::Severity::kInfo,
                   absl::StrCat("signal ", signal_number, ", draining for up to ", absl::FormatDuration(grace)),
                   {{"event", "drain_started"}, {"signal", signal_number}});
  (*server)->BeginDrain(grace);
  // Until the drain ends, a second signal cancels whatever still runs.
  const timespec poll = {0, 100 * 1000 * 1000};
  while (!(*server)->WaitDrained(absl::ZeroDuration())) {
    if (sigtimedwait(&signals, nullptr, &poll) > 0) {
      claude::LogEvent(claude::Severity::kWarning, "second signal, cancelling calls in flight",
                       {{"event", "drain_cancelled"}});
      (*server)->CancelAll();
    }
  }
  claude::LogEvent(claude::Severity::kInfo, "drained", {{"event", "drained"}});
  server->reset();
  claude::FlushServerLog();
  return 0;
}
