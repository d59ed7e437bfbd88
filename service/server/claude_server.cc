#include "service/server/claude_server.h"

#include <chrono>
#include <utility>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace claude {

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
  self->loop_ = std::make_unique<CurlEventLoop>(self->config_.upstream);
  self->env_.loop = self->loop_.get();
  self->env_.retry_policy = &self->retry_policy_;
  self->env_.calls = &self->calls_;
  self->env_.gate = self->gate_.get();
  self->env_.options = self->config_.call;
  self->messages_ = std::make_unique<MessagesService>(&self->env_, self->config_.unary_stream_threshold);
  self->models_ = std::make_unique<ModelsService>(&self->env_);

  // Both are process-wide switches that take effect for servers built afterwards.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(self->config_.listen, *credentials, &self->port_);
  builder.SetMaxReceiveMessageSize(self->config_.max_request_bytes);
  builder.RegisterService(self->messages_.get());
  builder.RegisterService(self->models_.get());
  self->server_ = builder.BuildAndStart();
  if (self->server_ == nullptr || self->port_ == 0) {
    return absl::UnavailableError("cannot listen on " + self->config_.listen);
  }
  // The upstream configuration is loaded (the loop runs with its options): ready to serve.
  self->server_->GetHealthCheckService()->SetServingStatus(true);
  return self;
}

ClaudeServer::~ClaudeServer() {
  if (server_ != nullptr) {
    BeginDrain(absl::ZeroDuration());
    drain_thread_.join();
  }
  server_.reset();
  loop_.reset();
}

void ClaudeServer::BeginDrain(absl::Duration grace) {
  std::lock_guard<std::mutex> lock(drain_mu_);
  if (drain_thread_.joinable()) return;
  calls_.Close();
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
