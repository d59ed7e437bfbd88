#include "service/server/claude_server.h"

#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

#include <grpc/grpc.h>
#include <grpcpp/health_check_service_interface.h>

#include "claude/v1/messages.grpc.pb.h"
#include "claude/v1/models.grpc.pb.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/config/watched_file.h"
#include "service/observability/protobuf_log.h"
#include "service/observability/rpc_log.h"
#include "service/observability/rpc_metrics.h"
#include "service/observability/scrape_gauges.h"
#include "service/observability/server_log.h"
#include "service/observability/stderr_line_writer.h"
#include "service/routing/upstreams_file.h"
#include "service/server/upstreams.h"
#include "service/upstream/api_key_signer.h"
#include "service/upstream/bedrock_dialect.h"
#include "service/upstream/vertex_dialect.h"
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

// Why `address` (HOST:PORT, [V6]:PORT) cannot be bound, as the system says, for a clear start
// error: gRPC only reports that the port could not be added.
std::string BindProblem(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return "not HOST:PORT";
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (const int error = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found); error != 0) {
    return gai_strerror(error);
  }
  std::string problem = "gRPC refused the address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
      problem = errno == EADDRINUSE ? "the port is in use (another server listens on it)" : std::strerror(errno);
    }
    close(fd);
  }
  freeaddrinfo(found);
  return problem;
}

// A server builder that binds its port exclusively: gRPC sets SO_REUSEPORT by default, so a
// second server on a port in use would start and take part of its traffic.
void BindExclusively(grpc::ServerBuilder& builder) { builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0); }

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
  if (config.upstream_api == "vertex") {
    if (config.vertex.project.empty() || config.vertex.region.empty()) {
      return absl::InvalidArgumentError("--upstream_api=vertex needs --vertex_project and --vertex_region");
    }
    VertexDialectOptions options;
    options.base_url = config.upstream.base_url;
    options.project = config.vertex.project;
    options.region = config.vertex.region;
    if (config.vertex.access_token != nullptr) {
      options.signer = std::make_shared<ApiKeySigner>(config.vertex.access_token, ApiKeyScheme::kBearer);
    }
    options.max_event_bytes = config.upstream.max_event_bytes;
    return std::unique_ptr<Dialect>(std::make_unique<VertexDialect>(std::move(options)));
  }
  if (config.upstream_api == "bedrock") {
    if (config.bedrock.region.empty()) {
      return absl::InvalidArgumentError("--upstream_api=bedrock needs --aws_region");
    }
    BedrockDialectOptions options;
    options.base_url = config.upstream.base_url;
    if (config.bedrock.credentials != nullptr) {
      options.signer = std::make_shared<SigV4RequestSigner>(
          config.bedrock.credentials, SigV4Options{config.bedrock.region, "bedrock", true});
    }
    options.max_frame_bytes = config.upstream.max_event_bytes;
    return std::unique_ptr<Dialect>(std::make_unique<BedrockDialect>(std::move(options)));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--upstream_api must be messages, chat_completions, vertex or bedrock, got \"",
                   config.upstream_api, "\""));
}

}  // namespace

absl::Status CheckUpstreamUrl(const std::string& url, absl::string_view flag) {
  CURLU* parsed = curl_url();
  std::string scheme, host;
  if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* part = nullptr;
    if (curl_url_get(parsed, CURLUPART_SCHEME, &part, 0) == CURLUE_OK) scheme = absl::AsciiStrToLower(part);
    curl_free(part);
    part = nullptr;
    if (curl_url_get(parsed, CURLUPART_HOST, &part, 0) == CURLUE_OK) host = part;
    curl_free(part);
  }
  curl_url_cleanup(parsed);
  const bool control_characters =
      std::any_of(url.begin(), url.end(), [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; });
  if ((scheme != "http" && scheme != "https") || host.empty() || control_characters) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " must be an http:// or https:// URL with a host, got \"", absl::CHexEscape(url), "\""));
  }
  return absl::OkStatus();
}

ClaudeServer::ClaudeServer(ServerConfig config)
    : config_(std::move(config)), retry_policy_(config_.max_retries, config_.jitter) {}

absl::StatusOr<std::unique_ptr<ClaudeServer>> ClaudeServer::Start(ServerConfig config) {
  if (!config.upstream.base_url.empty()) {
    if (absl::Status s = CheckUpstreamUrl(config.upstream.base_url); !s.ok()) return s;
  }
  if (!config.otlp_endpoint.empty()) {
    if (absl::Status s = CheckUpstreamUrl(config.otlp_endpoint, "--otlp_endpoint"); !s.ok()) return s;
  }
  std::unique_ptr<ClaudeServer> self(new ClaudeServer(std::move(config)));
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(self->config_.tls);
  if (!credentials.ok()) return credentials.status();
  self->gate_ = std::make_unique<CallerGate>(self->config_.callers);
  if (absl::Status s = self->gate_->Load(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--callers_file: ", s.message()));
  }
  if (!self->config_.upstreams_file.empty()) {
    UpstreamDefaults defaults;
    defaults.anthropic_version = self->config_.upstream.anthropic_version;
    defaults.max_event_bytes = self->config_.upstream.max_event_bytes;
    defaults.ejection = self->config_.ejection;
    defaults.chat_thinking = self->config_.chat_thinking;
    absl::StatusOr<std::unique_ptr<UpstreamsFileRouters>> routers =
        UpstreamsFileRouters::Load(self->config_.upstreams_file, std::move(defaults));
    if (!routers.ok()) return routers.status();
    self->routers_ = *std::move(routers);
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
  self->env_.routers = self->routers_.get();
  self->env_.retry_policy = &self->retry_policy_;
  self->env_.calls = &self->calls_;
  self->env_.gate = self->gate_.get();
  self->env_.options = self->config_.call;
  self->health_status_ = std::make_unique<HealthStatus>(std::vector<std::string>{
      claude::v1::Messages::service_full_name(), claude::v1::Models::service_full_name(),
      claude::v1::Admin::service_full_name()});
  // SERVING from the first check that finds an upstream and a key.
  self->readiness_ = std::make_unique<Readiness>(self->config_.upstream.base_url, self->config_.upstream.api_key,
                                                 self->health_status_.get(), self->config_.readiness_check_interval);
  if (absl::Status s = self->StartObservability(); !s.ok()) return s;
  self->env_.observers = &self->observers_;
  self->env_.record_bodies = self->config_.log_rpcs && self->config_.log_bodies;
  self->ConnectQuota();
  self->messages_ = std::make_unique<MessagesService>(&self->env_, self->config_.unary_stream_threshold);
  self->models_ = std::make_unique<ModelsService>(&self->env_);
  self->batches_ = std::make_unique<MessageBatchesService>(&self->env_);
  self->admin_ = std::make_unique<AdminService>(&self->env_);

  // Health and reflection are ours (service/server/), from generated stubs, so reflection can
  // describe every service; gRPC's built-in health service (a process-wide switch) stays off.
  grpc::EnableDefaultHealthCheckService(false);
  self->health_ = std::make_unique<HealthService>(self->health_status_.get());
  const std::vector<std::string> services = {
      claude::v1::Messages::service_full_name(), claude::v1::Models::service_full_name(),
      claude::v1::Admin::service_full_name(), grpc::health::v1::Health::service_full_name(), grpc::reflection::v1::ServerReflection::service_full_name(),
      grpc::reflection::v1alpha::ServerReflection::service_full_name()};
  self->reflection_v1_ = std::make_unique<ReflectionServiceV1>(services);
  self->reflection_v1alpha_ = std::make_unique<ReflectionServiceV1Alpha>(services);
  grpc::ServerBuilder builder;
  BindExclusively(builder);
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
  builder.RegisterService(self->health_.get());
  builder.RegisterService(self->reflection_v1_.get());
  builder.RegisterService(self->reflection_v1alpha_.get());
  self->server_ = builder.BuildAndStart();
  if (self->server_ == nullptr || self->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", self->config_.listen, ": ", BindProblem(self->config_.listen)));
  }
  if (!self->config_.health_listen.empty()) {
    self->plaintext_health_ = std::make_unique<HealthService>(self->health_status_.get());
    grpc::ServerBuilder health_builder;
    BindExclusively(health_builder);
    health_builder.AddListeningPort(self->config_.health_listen, grpc::InsecureServerCredentials(),
                                    &self->health_port_);
    health_builder.RegisterService(self->plaintext_health_.get());
    self->health_server_ = health_builder.BuildAndStart();
    if (self->health_server_ == nullptr || self->health_port_ == 0) {
      return absl::UnavailableError(absl::StrCat("--health_listen: cannot listen on ", self->config_.health_listen,
                                                 ": ", BindProblem(self->config_.health_listen)));
    }
  }
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
  if (endpoint->tls) {
    absl::StatusOr<std::shared_ptr<ssl_ctx_st>> tls = MakeRedisTlsContext(quota.redis_ca_file);
    if (!tls.ok())
      return absl::InvalidArgumentError(absl::StrCat("--redis_ca_file: ", tls.status().message()));
    options.tls_context = *std::move(tls);
  } else if (!quota.redis_ca_file.empty()) {
    return absl::InvalidArgumentError("--redis_ca_file needs a rediss:// (TLS) --redis_url");
  }
  options.endpoint = *std::move(endpoint);
  options.command_timeout = quota.redis_timeout;
  redis_options_ = std::move(options);
  return absl::OkStatus();
}

void ClaudeServer::ConnectQuota() {
  if (!redis_options_) return;
  const absl::Duration first_connect = redis_options_->connect_timeout;
  // Its thread starts after every field the calls read is set: the admissions it answers start
  // calls on that thread, or on the event loop's, which reads its replies (where the calls
  // they admit go next).
  redis_options_->reply_watcher = loop_.get();
  redis_ = std::make_unique<RedisClient>(*std::move(redis_options_), quota_metrics_);
  redis_options_.reset();
  // The first calls find the connection up, rather than failing open (or closed) because the
  // server answered before its Redis thread had connected. Unreachable: start anyway, as the
  // failure mode says; the client keeps retrying.
  redis_->WaitForFirstAttempt(first_connect);
  RedisQuotaOptions store;
  store.windows = config_.callers.windows;
  store.fail_open = config_.quota.redis_fail_open;
  redis_quota_ = std::make_unique<RedisQuota>(redis_.get(), &gate_->limiter(), store, quota_metrics_);
  gate_->UseSharedLimits(redis_quota_.get());
}

absl::Status ClaudeServer::StartObservability() {
  // The per-RPC lines share the stderr writer of the server log's problems, so lines never
  // interleave.
  log_sink_ = config_.log_sink != nullptr ? config_.log_sink : ProblemLogSink();
  protobuf_log_ = std::make_unique<ProtobufLogRoute>(log_sink_);
  if (!config_.otlp_endpoint.empty()) {
    OtlpExporterOptions options;
    options.endpoint = config_.otlp_endpoint;
    otlp_ = std::make_shared<OtlpExporter>(loop_.get(), options);
  }
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
    AddProcessMetrics(*gauges);
    HealthStatus* health = health_status_.get();
    gauges->Add("claude_grpc_ready", "1 while health answers SERVING, else 0 (see claude_grpc_not_ready_reasons).",
                [health] { return health->serving() ? 1.0 : 0.0; });
    if (OtlpExporter* otlp = otlp_.get()) {
      gauges->AddCounter("claude_grpc_otlp_spans_exported_total", "Spans the OTLP collector accepted.",
                         [otlp] { return static_cast<double>(otlp->exported_spans()); });
      gauges->AddCounter("claude_grpc_otlp_spans_dropped_total",
                         "Spans dropped because the export queue was full (collector slow or down).",
                         [otlp] { return static_cast<double>(otlp->dropped_spans()); });
      gauges->AddCounter("claude_grpc_otlp_export_failures_total", "OTLP exports that failed (batches).",
                         [otlp] { return static_cast<double>(otlp->failed_exports()); });
    }
    Readiness* readiness = readiness_.get();
    gauges->AddLabeled("claude_grpc_not_ready_reasons",
                       "1 for each reason the server cannot work now: no_api_key, no_upstream.", [readiness] {
                         std::vector<ScrapeGauges::Sample> samples;
                         for (const std::string& reason : readiness->reasons()) samples.push_back({{{"reason", reason}}, 1});
                         return samples;
                       });
    gauges->Add("claude_grpc_drain_deadline_timestamp_seconds",
                "While draining, when the drain timeout cuts the calls still running (Unix time); 0 otherwise.",
                [this] { return drain_deadline_unix_seconds_.load(); });
    if (routers_ != nullptr) {
      // The upstreams of the file at start (a reload that adds some gets no gauge for them).
      UpstreamsFileRouters* routers = routers_.get();
      std::vector<std::string> names;
      const std::shared_ptr<const Router> first = routers->Current(absl::Now());
      for (size_t i = 0; i < first->size(); ++i) names.push_back(first->name(i));
      gauges->AddLabeled(
          "claude_grpc_upstream_state",
          "Each upstream of the upstreams file: 0 healthy, 1 ejected or backing off "
          "(retry-after), 2 ejection over, a call probing it.",
          [routers, names] {
            const absl::Time now = absl::Now();
            const std::shared_ptr<const Router> router = routers->Current(now);
            std::vector<ScrapeGauges::Sample> samples;
            for (const std::string& name : names) {
              double state = 0;
              for (size_t j = 0; j < router->size(); ++j) {
                if (router->name(j) != name) continue;
                switch (router->health(j).state(now)) {
                  case UpstreamHealth::State::kHealthy: state = 0; break;
                  case UpstreamHealth::State::kEjected: state = 1; break;
                  case UpstreamHealth::State::kProbing: state = 2; break;
                }
              }
              samples.push_back({{{"upstream", name}}, state});
            }
            return samples;
          });
      gauges->Add("claude_grpc_upstreams_file_reload_failures",
                  "Changes of the upstreams file refused since start (the running one stays).",
                  [routers] { return static_cast<double>(routers->reload_failures()); });
    }
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
        MetricsEndpoint::Start(config_.metrics_listen, {registry, gauges});
    if (!endpoint.ok()) return endpoint.status();
    metrics_ = std::move(*endpoint);
  }
  // Always: budgets, tokens per minute and GetCallerUsage all read what it charges.
  observers_.Add(std::make_shared<CallerUsageAccounting>(gate_.get(), prices_.get(), quota_metrics_));
  if (otlp_ != nullptr) observers_.Add(otlp_);
  if (config_.log_rpcs) {
    observers_.Add(std::make_shared<RpcLogger>(log_sink_));
  }
  for (const auto& observer : config_.observers) observers_.Add(observer);
  return absl::OkStatus();
}

ClaudeServer::~ClaudeServer() {
  // First: no scrape reads what goes away below.
  metrics_.reset();
  readiness_.reset();
  if (server_ != nullptr) {
    BeginDrain(absl::ZeroDuration());
    drain_thread_.join();
  }
  if (health_server_ != nullptr) health_server_->Shutdown(std::chrono::system_clock::now());
  if (otlp_ != nullptr) otlp_->Shutdown();
  health_server_.reset();
  server_.reset();
  // The Redis client may still answer an admission that was refused (ended) meanwhile: it stops
  // before the store and the gate it calls into go, and before the loop that reads its replies.
  redis_.reset();
  loop_.reset();
}

void ClaudeServer::BeginDrain(absl::Duration grace) {
  MutexLock lock(drain_mu_);
  if (drain_thread_.joinable()) return;
  calls_.Close();
  drain_deadline_unix_seconds_ = absl::ToDoubleSeconds(absl::Now() + grace - absl::UnixEpoch());
  // NOT_SERVING for every service, for good, on both ports (the --health_listen one keeps
  // answering until the process ends): probes see the drain at once, and Watch streams end.
  health_status_->Shutdown();
  // Shutdown closes the listener and sends GOAWAY on open connections, so clients move to
  // other replicas; it returns once every call has finished. Its own deadline is a backstop
  // for calls outside the registry (reflection streams): ours are ended first, below.
  const auto backstop = std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace) +
                        std::chrono::seconds(1);
  shutdown_thread_ = std::thread([this, backstop] { server_->Shutdown(backstop); });
  drain_thread_ = std::thread([this, grace] {
    if (!calls_.WaitEmpty(grace)) {
      calls_.CancelAll(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                    "the server is shutting down: the drain timeout expired"));
    }
    shutdown_thread_.join();
    MutexLock drained_lock(drain_mu_);
    drained_ = true;
    drained_cv_.notify_all();
  });
}

void ClaudeServer::CancelAll() {
  calls_.CancelAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
}

bool ClaudeServer::WaitDrained(absl::Duration timeout) {
  MutexLock lock(drain_mu_);
  return lock.WaitFor(drained_cv_, timeout,
                      [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(drain_mu_) { return drained_; });
}

}  // namespace claude
