// The whole server as one object: the curl event loop, the retry policy, the gRPC services,
// health and reflection, and the drain that ends it. claude-grpc-server's main() and the tests
// build it from the same ServerConfig, so the tests run what production runs.
#ifndef SERVICE_SERVER_CLAUDE_SERVER_H_
#define SERVICE_SERVER_CLAUDE_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sync/mutex.h"
#include "service/config/api_key_source.h"
#include "service/observability/line_sink.h"
#include "service/observability/metrics_endpoint.h"
#include "service/observability/otlp_exporter.h"
#include "service/observability/protobuf_log.h"
#include "service/observability/quota_metrics.h"
#include "service/quota/prices_file.h"
#include "service/quota/redis_client.h"
#include "service/quota/redis_quota.h"
#include "service/routing/router.h"
#include "service/rpc/call_record.h"
#include "service/rpc/call_registry.h"
#include "service/rpc/services.h"
#include "service/security/caller_gate.h"
#include "service/security/server_tls.h"
#include "service/server/health_service.h"
#include "service/server/readiness.h"
#include "service/server/reflection_service.h"
#include "service/server/upstreams.h"
#include "service/upstream/aws_credentials.h"
#include "service/upstream/chat_completions_dialect.h"
#include "service/upstream/curl_event_loop.h"
#include "service/upstream/messages_dialect.h"
#include "service/upstream/retry_policy.h"

namespace claude {

// --upstream_api=vertex: Claude on Google Cloud Vertex AI.
struct VertexUpstreamConfig {
  std::string project;
  std::string region;
  std::shared_ptr<ApiKeySource> access_token;  // a Google OAuth access token (a file a sidecar refreshes)
};

// --upstream_api=bedrock: Claude on Amazon Bedrock.
struct BedrockUpstreamConfig {
  std::string region;
  std::shared_ptr<AwsCredentialsSource> credentials;  // null: requests go unsigned
};

// Limits and budgets shared by the replicas, and the prices that turn tokens into dollars.
struct QuotaConfig {
  // redis://[:password@]host[:port][/db]; empty: every replica counts in memory on its own.
  std::string redis_url;
  // A file holding the Redis password (a mounted secret); overrides the URL's.
  std::string redis_password_file;
  // rediss:// only: the PEM CA certificates Redis's certificate must chain to (empty: the
  // system's bundle).
  std::string redis_ca_file;
  // When Redis cannot answer: admit on the replica's own counts (true) or refuse UNAVAILABLE.
  bool redis_fail_open = true;
  // A Redis command without a reply for this long drops the connection (then retried).
  absl::Duration redis_timeout = absl::Milliseconds(500);
  // The price table (service/quota/prices_file.h); empty: calls cost $0 against USD budgets.
  std::string prices_file;
  absl::Duration prices_check_interval = absl::Seconds(1);
};

struct ServerConfig {
  // gRPC address, HOST:PORT; port 0 picks a free one (see ClaudeServer::port()). Bound
  // exclusively: a port another process listens on fails the start.
  std::string listen = "0.0.0.0:50051";
  // A second, always plaintext address serving only grpc.health.v1.Health (Kubernetes' gRPC
  // probes cannot speak TLS); empty: none. Port 0 picks a free one (health_port()).
  std::string health_listen;
  // How often readiness (an upstream, a readable API key) is checked again.
  absl::Duration readiness_check_interval = absl::Seconds(1);
  // The upstream API: where it is, its version and credentials.
  MessagesDialectOptions upstream;
  // The kind of API the upstream speaks (--upstream_api): "messages" (`upstream`),
  // "chat_completions" (OpenAI's Chat Completions; `upstream` gives its base URL, key, auth
  // scheme and event limit), "vertex" (`vertex`) or "bedrock" (`bedrock`). For the latter two
  // `upstream.base_url` is the endpoint (the region's public one unless --upstream names another)
  // and `upstream.max_event_bytes` bounds a stream's events; the Messages API's key and version
  // are not used.
  std::string upstream_api = "messages";
  // chat_completions: how a request's extended thinking is asked for (--chat_thinking).
  ChatThinking chat_thinking = ChatThinking::kModelSuffix;
  VertexUpstreamConfig vertex;
  BedrockUpstreamConfig bedrock;
  // Serves through this dialect instead of the one upstream_api builds (tests).
  std::shared_ptr<const Dialect> dialect;
  // --upstreams_file: named upstreams and the routes of models to them; replaces the single
  // upstream above. Read at start (a file that does not parse stops the server) and again
  // whenever it changes (a change that does not parse is refused; the running one stays).
  std::string upstreams_file;
  // Outlier ejection of the file's upstreams.
  EjectionPolicy ejection;
  // How to reach it: connections, timeouts, TLS.
  CurlEventLoopOptions transport;
  int max_retries = 2;
  // Jitter source for retry backoff in [0, 1); empty: random.
  std::function<double()> jitter;
  CallOptions call;
  // CreateMessage streams from the upstream (and accumulates) above this max_tokens.
  int64_t unary_stream_threshold = 16384;
  // Largest gRPC request message accepted.
  int max_request_bytes = 64 << 20;

  // OTLP/HTTP JSON collector for one span per RPC ("http://collector:4318"); empty: no export.
  std::string otlp_endpoint;
  // Prometheus /metrics on HOST:PORT (port 0 picks a free one, see metrics_port()); empty: off.
  std::string metrics_listen;
  // One JSON line per RPC (to `log_sink`, else stderr).
  bool log_rpcs = true;
  // Log lines carry the request body and the reply's text.
  bool log_bodies = false;
  // Where the JSON log goes: the RPC lines and protobuf's own messages; default stderr.
  std::shared_ptr<LineSink> log_sink;
  // More observers of every RPC's record (after metrics and the log).
  std::vector<std::shared_ptr<CallObserver>> observers;
  // TLS or mutual TLS on the gRPC port; default plaintext.
  ServerTlsConfig tls;
  // Caller authentication (a callers file of token digests) and per-caller limits; default
  // neither.
  CallerPolicy callers;
  QuotaConfig quota;
};

// OK for an http:// or https:// URL with a host; INVALID_ARGUMENT naming `flag` otherwise.
absl::Status CheckUpstreamUrl(const std::string& url, absl::string_view flag = "--upstream");

class ClaudeServer {
 public:
  // Starts serving; fails when an address cannot be bound (another process holds the port, among
  // others), a TLS or callers file is missing or malformed, or the upstream options are invalid
  // (not an http(s) URL, an unknown API or auth scheme). Health answers SERVING once an upstream
  // is configured and the API key readable.
  static absl::StatusOr<std::unique_ptr<ClaudeServer>> Start(ServerConfig config);
  // Stops at once: calls still running are cancelled, their upstream transfers aborted.
  ~ClaudeServer();
  ClaudeServer(const ClaudeServer&) = delete;
  ClaudeServer& operator=(const ClaudeServer&) = delete;

  int port() const { return port_; }
  // The --health_listen port; 0 when there is none.
  int health_port() const { return health_port_; }
  // Why the server is not ready now (kNoApiKeyReason...); empty when it is.
  std::vector<std::string> not_ready_reasons() const { return readiness_->reasons(); }
  // The /metrics port; 0 when metrics are off.
  int metrics_port() const { return metrics_ == nullptr ? 0 : metrics_->port(); }
  CurlEventLoop& loop() { return *loop_; }
  // RPCs that reached an upstream call and have not finished.
  int64_t live_calls() const { return calls_.size(); }
  // Authentication, per-caller limits and budgets; RecordUsage() charges a call's usage.
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
  // The metrics endpoint and the RPC log, as the config asks; fails when /metrics cannot listen.
  absl::Status StartObservability();
  // The prices file and, with --redis_url, the Redis client and the shared quota store.
  // Checks the quota flags and loads the price table; ConnectQuota starts the Redis client.
  absl::Status StartQuota();
  void ConnectQuota();

  const ServerConfig config_;
  // Created before the loop's thread starts, so they are ordered before its reads.
  RetryPolicy retry_policy_;
  CallRegistry calls_;
  CallObservers observers_;
  std::unique_ptr<CallerGate> gate_;
  // The quota store's parts; after the gate (the store reads its limiter), before the services.
  std::shared_ptr<prometheus::Registry> metrics_registry_;  // null when metrics are off
  std::shared_ptr<QuotaMetrics> quota_metrics_;
  std::unique_ptr<PricesFile> prices_;
  // From StartQuota to ConnectQuota.
  std::optional<RedisClientOptions> redis_options_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<RedisQuota> redis_quota_;
  std::shared_ptr<const Dialect> dialect_;
  std::unique_ptr<UpstreamsFileRouters> routers_;  // with an upstreams file
  std::unique_ptr<CurlEventLoop> loop_;
  CallEnvironment env_;
  std::unique_ptr<MessagesService> messages_;
  std::unique_ptr<ModelsService> models_;
  std::unique_ptr<MessageBatchesService> batches_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<HealthStatus> health_status_;
  std::unique_ptr<HealthService> health_;
  std::unique_ptr<HealthService> plaintext_health_;  // the --health_listen server's
  std::unique_ptr<ReflectionServiceV1> reflection_v1_;
  std::unique_ptr<ReflectionServiceV1Alpha> reflection_v1alpha_;
  std::shared_ptr<LineSink> log_sink_;  // config_.log_sink, else the server log's stderr writer
  std::unique_ptr<ProtobufLogRoute> protobuf_log_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;
  int port_ = 0;
  int health_port_ = 0;
  std::unique_ptr<Readiness> readiness_;
  std::shared_ptr<OtlpExporter> otlp_;  // also among observers_; shut down before the loop goes
  // Destroyed first: no scrape reads the loop or the observers once they start going away.
  std::unique_ptr<MetricsEndpoint> metrics_;

  Mutex drain_mu_;
  std::thread shutdown_thread_;  // runs grpc::Server::Shutdown, which blocks until calls end
  std::thread drain_thread_;     // cancels the calls that outlive the grace, then waits for both
  bool drained_ ABSL_GUARDED_BY(drain_mu_) = false;
  std::condition_variable drained_cv_;
  // When the drain's grace ends (Unix seconds; 0 while not draining), for /metrics: a scrape
  // during a drain tells whether streams are still open close to it (the drain-timeout alert).
  std::atomic<double> drain_deadline_unix_seconds_{0};
};

}  // namespace claude

#endif  // SERVICE_SERVER_CLAUDE_SERVER_H_
