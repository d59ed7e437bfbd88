#include "service/server/claude_server.h"

#include <chrono>
#include <utility>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "service/config/watched_file.h"
#include "service/observability/protobuf_log.h"
#include "service/observability/rpc_log.h"
#include "service/observability/rpc_metrics.h"
#include "service/observability/scrape_gauges.h"
#include "service/observability/stderr_line_writer.h"
#include "service/rpc/unparsable_request_interceptor.h"

namespace claude {
namespace {

// Charges each call's usage to its caller once the call ends (cancelled streams too: their
// usage is message_start's, overwritten by the last message_delta's cumulative counts): tokens
// for tokens_per_minute and the token budgets, and their price for the USD budgets.
class CallerUsageAccounting final : public CallObserver {
 public:
  CallerUsageAccounting(CallerGate* gate, PricesFile* prices, std::shared_ptr<QuotaMetrics> metrics)
      : gate_(gate), prices_(prices), metrics_(std::move(metrics)) {}
  void OnCallEnd(const CallRecord& record) override {
    if (!record.usage.has_value()) return;
    const CallUsage& usage = *record.usage;
    int64_t micros = 0;
    if (prices_ != nullptr) {
      micros = prices_->CostMicros(record.model,
                                   TokenCounts{usage.count("input"), usage.count("output"),
                                               usage.count("cache_creation_input"), usage.count("cache_read_input")},
                                   absl::Now());
    }
    gate_->RecordUsage(record.caller, usage.count("input") + usage.count("output"), micros);
    if (metrics_ != nullptr) metrics_->OnSpend(record.caller, record.model, micros);
  }

 private:
  CallerGate* const gate_;
  PricesFile* const prices_;
  const std::shared_ptr<QuotaMetrics> metrics_;
};

// The dialect of config.upstream_api.
absl::StatusOr<std::unique_ptr<Dialect>> NewDialect(const ServerConfig& config) {
  if (config.upstream_api == "messages") {
    absl::StatusOr<std::unique_ptr<MessagesDialect>> dialect = MessagesDialect::Create(config.upstream);
    if (!dialect.ok()) return dialect.status();
    return std::unique_ptr<Dialect>(*std::move(dialect));
  }
  if (config.upstream_api == "chat_completions") {
    ChatCompletionsOptions options;
    options.base_url = config.upstream.base_url;
    options.auth_scheme = config.upstream.auth_scheme;
    options.api_key = config.upstream.api_key;
    options.max_event_bytes = config.upstream.max_event_bytes;
    options.thinking = config.chat_thinking;
    absl::StatusOr<std::unique_ptr<ChatCompletionsDialect>> dialect =
        ChatCompletionsDialect::Create(std::move(options));
    if (!dialect.ok()) return dialect.status();
    return std::unique_ptr<Dialect>(*std::move(dialect));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--upstream_api must be messages or chat_completions, got \"", config.upstream_api, "\""));
}

}  // namespace

ClaudeServer::ClaudeServer(ServerConfig config)
    : config_(std::move(config)), retry_policy_(config_.max_retries, config_.jitter) {}

absl::StatusOr<std::unique_ptr<ClaudeServer>> ClaudeServer::Start(ServerConfig config) {
  std::unique_ptr<ClaudeServer> self(new ClaudeServer(std::move(config)));
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(self->config_.tls);
  if (!credentials.ok()) return credentials.status();
  self->gate_ = std::make_unique<CallerGate>(self->config_.callers);
  if (absl::Status s = self->gate_->Load(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--callers_file: ", s.message()));
  }
  if (absl::Status s = self->StartQuota(); !s.ok()) return s;
  self->dialect_ = self->config_.dialect;
  if (self->dialect_ == nullptr) {
    absl::StatusOr<std::unique_ptr<Dialect>> dialect = NewDialect(self->config_);
    if (!dialect.ok()) return dialect.status();
    self->dialect_ = *std::move(dialect);
  }
  self->loop_ = std::make_unique<CurlEventLoop>(self->config_.transport);
  self->env_.transport = self->loop_.get();
  self->env_.dialect = self->dialect_.get();
  self->env_.retry_policy = &self->retry_policy_;
  self->env_.calls = &self->calls_;
  self->env_.gate = self->gate_.get();
  self->env_.options = self->config_.call;
  if (absl::Status s = self->StartObservability(); !s.ok()) return s;
  self->env_.observers = &self->observers_;
  self->env_.record_bodies = self->config_.log_rpcs && self->config_.log_bodies;
  self->messages_ = std::make_unique<MessagesService>(&self->env_, self->config_.unary_stream_threshold);
  self->models_ = std::make_unique<ModelsService>(&self->env_);
  self->batches_ = std::make_unique<MessageBatchesService>(&self->env_);
  self->admin_ = std::make_unique<AdminService>(&self->env_);

  // Both are process-wide switches that take effect for servers built afterwards.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(self->config_.listen, *credentials, &self->port_);
  builder.SetMaxReceiveMessageSize(self->config_.max_request_bytes);
  // Requests that do not parse never reach a handler; this answers and records them.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<UnparsableRequestInterceptorFactory>(&self->observers_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(self->messages_.get());
  builder.RegisterService(self->models_.get());
  builder.RegisterService(self->batches_.get());
  builder.RegisterService(self->admin_.get());
  self->server_ = builder.BuildAndStart();
  if (self->server_ == nullptr || self->port_ == 0) {
    return absl::UnavailableError("cannot listen on " + self->config_.listen);
  }
  // The upstream configuration is loaded (the loop runs with its options): ready to serve.
  self->server_->GetHealthCheckService()->SetServingStatus(true);
  return self;
}

absl::Status ClaudeServer::StartQuota() {
  const QuotaConfig& quota = config_.quota;
  if (!config_.metrics_listen.empty()) {
    metrics_registry_ = std::make_shared<prometheus::Registry>();
    quota_metrics_ = std::make_shared<QuotaMetrics>(metrics_registry_);
  }
  if (!quota.prices_file.empty()) {
    prices_ = std::make_unique<PricesFile>(quota.prices_file, quota.prices_check_interval);
    if (absl::Status s = prices_->Load(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--prices_file: ", s.message()));
    }
  }
  if (quota.redis_url.empty()) return absl::OkStatus();
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(quota.redis_url);
  if (!endpoint.ok()) return absl::InvalidArgumentError(absl::StrCat("--redis_url: ", endpoint.status().message()));
  if (!quota.redis_password_file.empty()) {
    WatchedFile file(quota.redis_password_file);
    absl::StatusOr<std::optional<std::string>> password = file.ReadIfChanged();
    if (!password.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--redis_password_file: ", password.status().message()));
    }
    // A mounted secret may end with a newline that is not part of the password.
    endpoint->password = std::string(absl::StripTrailingAsciiWhitespace(password->value_or("")));
  }
  RedisClientOptions options;
  options.endpoint = *std::move(endpoint);
  options.command_timeout = quota.redis_timeout;
  redis_ = std::make_unique<RedisClient>(std::move(options), quota_metrics_);
  RedisQuotaOptions store;
  store.windows = config_.callers.windows;
  store.fail_open = quota.redis_fail_open;
  redis_quota_ = std::make_unique<RedisQuota>(redis_.get(), &gate_->limiter(), store, quota_metrics_);
  gate_->UseSharedLimits(redis_quota_.get());
  return absl::OkStatus();
}

absl::Status ClaudeServer::StartObservability() {
  log_sink_ = config_.log_sink != nullptr ? config_.log_sink : std::make_shared<StderrLineWriter>();
  protobuf_log_ = std::make_unique<ProtobufLogRoute>(log_sink_);
  if (!config_.metrics_listen.empty()) {
    auto registry = metrics_registry_;
    observers_.Add(std::make_shared<RpcMetrics>(registry));
    auto gauges = std::make_shared<ScrapeGauges>();
    CurlEventLoop* loop = loop_.get();
    gauges->Add("claude_grpc_upstream_live_transfers",
                "Upstream transfers started and not done (waiting for a retry delay included).",
                [loop] { return static_cast<double>(loop->live_transfers()); });
    gauges->Add("claude_grpc_upstream_paused_transfers",
                "Upstream transfers paused because their caller reads slower than the upstream writes.",
                [loop] { return static_cast<double>(loop->paused_transfers()); });
    gauges->Add("claude_grpc_drain_deadline_timestamp_seconds",
                "While draining, when the drain timeout cuts the calls still running (Unix time); 0 otherwise.",
                [this] { return drain_deadline_unix_seconds_.load(); });
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
        MetricsEndpoint::Start(config_.metrics_listen, {registry, gauges});
    if (!endpoint.ok()) return endpoint.status();
    metrics_ = std::move(*endpoint);
  }
  // Always: budgets, tokens per minute and GetCallerUsage all read what it charges.
  observers_.Add(std::make_shared<CallerUsageAccounting>(gate_.get(), prices_.get(), quota_metrics_));
  if (config_.log_rpcs) {
    observers_.Add(std::make_shared<RpcLogger>(log_sink_));
  }
  for (const auto& observer : config_.observers) observers_.Add(observer);
  return absl::OkStatus();
}

ClaudeServer::~ClaudeServer() {
  if (server_ != nullptr) {
    BeginDrain(absl::ZeroDuration());
    drain_thread_.join();
  }
  metrics_.reset();
  server_.reset();
  loop_.reset();
  // The Redis thread may still answer an admission that was refused (ended) meanwhile; the
  // client stops before the store and the gate it calls into go.
  redis_.reset();
}

void ClaudeServer::BeginDrain(absl::Duration grace) {
  std::lock_guard<std::mutex> lock(drain_mu_);
  if (drain_thread_.joinable()) return;
  calls_.Close();
  drain_deadline_unix_seconds_ = absl::ToDoubleSeconds(absl::Now() + grace - absl::UnixEpoch());
  // NOT_SERVING for every service, for good: probes and watchers see the drain at once.
  server_->GetHealthCheckService()->Shutdown();
  // Shutdown closes the listener and sends GOAWAY on open connections, so clients move to
  // other replicas; it returns once every call has finished. Its own deadline is a backstop
  // for calls outside the registry (health watches): ours are ended first, below.
  const auto backstop = std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace) +
                        std::chrono::seconds(1);
  shutdown_thread_ = std::thread([this, backstop] { server_->Shutdown(backstop); });
  drain_thread_ = std::thread([this, grace] {
    if (!calls_.WaitEmpty(grace)) {
      calls_.CancelAll(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                    "the server is shutting down: the drain timeout expired"));
    }
    shutdown_thread_.join();
    std::lock_guard<std::mutex> drained_lock(drain_mu_);
    drained_ = true;
    drained_cv_.notify_all();
  });
}

void ClaudeServer::CancelAll() {
  calls_.CancelAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
}

bool ClaudeServer::WaitDrained(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(drain_mu_);
  return drained_cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [this] { return drained_; });
}

}  // namespace claude
