#include "client/bench/load_environment.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/bench/bench_requests.h"

namespace claude {
namespace bench {
namespace {

// `what`'s failure to start, named for the bench's stderr.
absl::Status StartFailed(absl::string_view what, const absl::Status& status) {
  return absl::UnavailableError(absl::StrCat(what, ": ", status.ToString()));
}

std::string Loopback(int port) { return absl::StrCat("127.0.0.1:", port); }

}  // namespace

absl::StatusOr<std::unique_ptr<LoadEnvironment>> LoadEnvironment::Start(const BenchConfig& config,
                                                                        bool with_quota_servers) {
  std::unique_ptr<LoadEnvironment> env(new LoadEnvironment);
  if (absl::Status s = env->StartChildren(config, with_quota_servers); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<EchoServer>> echo = EchoServer::Start();
  if (!echo.ok()) return absl::UnavailableError(echo.status().message());
  env->echo_ = *std::move(echo);
  env->raw_ = MakeStubs(Loopback(env->echo_->port()), config.channels);
  env->frontend_ = MakeStubs(Loopback(env->server_port_), config.channels);
  if (config.upstream_api == UpstreamApi::kBoth) {
    env->frontend_chat_ = MakeStubs(Loopback(env->chat_port_), config.channels);
  }
  if (!config.ab_server_flags.empty())
    env->frontend_b_ = MakeStubs(Loopback(env->server_b_port_), config.channels);
  env->chat_completions_http_ = config.upstream_api == UpstreamApi::kChatCompletions;
  env->http_url_ =
      env->fake_url_ + (env->chat_completions_http_ ? "/v1/chat/completions" : "/v1/messages");
  if (with_quota_servers) {
    env->local_quota_ = MakeStubs(Loopback(env->local_quota_port_), config.channels);
    env->redis_quota_ = MakeStubs(Loopback(env->redis_quota_port_), config.channels);
  }
  return env;
}

absl::Status LoadEnvironment::StartChildren(const BenchConfig& config, bool with_quota_servers) {
  const SuiteBinaries& binaries = config.binaries;
  absl::StatusOr<std::string> fake_url = StartFake(&fake_, binaries.fake, {});
  if (!fake_url.ok()) return StartFailed("fake-anthropic", fake_url.status());
  fake_url_ = *fake_url;
  std::vector<std::string> chat_flags = binaries.server_flags;
  chat_flags.push_back("--upstream_api=chat_completions");
  const bool chat_only = config.upstream_api == UpstreamApi::kChatCompletions;
  absl::StatusOr<int> port = StartServer(&server_, binaries.server, fake_url_,
                                         chat_only ? chat_flags : binaries.server_flags);
  if (!port.ok()) return StartFailed("claude-grpc-server", port.status());
  server_port_ = *port;
  if (config.upstream_api == UpstreamApi::kBoth) {
    port = StartServer(&chat_server_, binaries.server, fake_url_, chat_flags);
    if (!port.ok()) return StartFailed("claude-grpc-server (chat_completions)", port.status());
    chat_port_ = *port;
  }
  if (!config.ab_server_flags.empty()) {
    std::vector<std::string> b_flags = chat_only ? chat_flags : binaries.server_flags;
    b_flags.insert(b_flags.end(), config.ab_server_flags.begin(), config.ab_server_flags.end());
    port = StartServer(&server_b_, binaries.server, fake_url_, b_flags);
    if (!port.ok()) return StartFailed("claude-grpc-server (--ab_server_flags)", port.status());
    server_b_port_ = *port;
  }
  return with_quota_servers ? StartQuotaServers(config) : absl::OkStatus();
}

// redis-server, and two more servers with the same per-caller limit (high enough never to
// refuse), counted in memory and in Redis.
absl::Status LoadEnvironment::StartQuotaServers(const BenchConfig& config) {
  const int redis_port = FreeLoopbackPort();
  absl::StatusOr<std::string> ready =
      redis_.Start({config.redis_server_binary, "--port", absl::StrCat(redis_port), "--bind",
                    "127.0.0.1", "--save", "", "--appendonly", "no"},
                   "Ready to accept connections");
  if (!ready.ok()) return StartFailed("redis-server", ready.status());
  std::vector<std::string> flags = config.binaries.server_flags;
  flags.push_back("--caller_requests_per_minute=1000000000");
  absl::StatusOr<int> port =
      StartServer(&local_quota_server_, config.binaries.server, fake_url_, flags);
  if (!port.ok()) return StartFailed("claude-grpc-server (quota)", port.status());
  local_quota_port_ = *port;
  flags.push_back(absl::StrCat("--redis_url=redis://127.0.0.1:", redis_port, "/0"));
  port = StartServer(&redis_quota_server_, config.binaries.server, fake_url_, flags);
  if (!port.ok()) return StartFailed("claude-grpc-server (quota)", port.status());
  redis_quota_port_ = *port;
  return absl::OkStatus();
}

const Stubs& LoadEnvironment::StubsFor(absl::string_view scenario) const {
  if (scenario == kRaw) return raw_;
  if (scenario == kLocalQuota) return local_quota_;
  if (scenario == kRedisQuota) return redis_quota_;
  if (scenario == kFrontendB) return frontend_b_;
  return scenario == kFrontendChat ? frontend_chat_ : frontend_;
}

pid_t LoadEnvironment::ServerPidFor(absl::string_view scenario) const {
  if (scenario == kFrontend) return server_.pid();
  if (scenario == kFrontendChat) return chat_server_.pid();
  if (scenario == kFrontendB) return server_b_.pid();
  if (scenario == kLocalQuota) return local_quota_server_.pid();
  if (scenario == kRedisQuota) return redis_quota_server_.pid();
  return -1;
}

std::string LoadEnvironment::HttpBody(const v1::CreateMessageRequest& request) const {
  return chat_completions_http_ ? ChatCompletionsBody(request) : MessagesBody(request);
}

void LoadEnvironment::Stop() {
  if (echo_ != nullptr) echo_->Shutdown();
  raw_.clear();
  frontend_.clear();
  frontend_chat_.clear();
  frontend_b_.clear();
  local_quota_.clear();
  redis_quota_.clear();
  redis_quota_server_.Stop();
  local_quota_server_.Stop();
  redis_.Stop();
  server_.Stop();
  chat_server_.Stop();
  server_b_.Stop();
  fake_.Stop();
}

}  // namespace bench
}  // namespace claude
