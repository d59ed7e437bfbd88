#include "tests/testing/server_harness.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "service/config/api_key_source.h"
#include "tests/testing/wait_until.h"

namespace claude::testing {

ServerHarness::ServerHarness(HarnessOptions options) {
  auto upstream = FakeAnthropic::Start();
  EXPECT_TRUE(upstream.ok()) << upstream.status();
  upstream_ = std::move(*upstream);
  upstream_->set_chat_completions_models(options.upstream_api == "chat_completions");

  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.upstream.base_url = upstream_->base_url();
  config.upstream_api = options.upstream_api;
  config.upstream.auth_scheme = !options.auth_scheme.empty()              ? options.auth_scheme
                                : options.upstream_api == "chat_completions" ? "bearer"
                                                                             : "x-api-key";
  config.upstream.api_key = options.api_key_source != nullptr
                                ? options.api_key_source
                                : std::make_shared<StaticApiKeySource>(options.api_key);
  config.max_retries = options.max_retries;
  const double jitter = options.jitter;
  config.jitter = [jitter] { return jitter; };
  config.call = options.call;
  config.unary_stream_threshold = options.unary_stream_threshold;
  // Per-RPC log lines would bury test output; the logging tests capture them with a sink.
  config.log_rpcs = false;
  if (options.configure) options.configure(config);
  auto server = ClaudeServer::Start(std::move(config));
  EXPECT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  port_ = server_->port();

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  channel_ = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port_),
                                       grpc::InsecureChannelCredentials(), args);
  messages_ = claude::v1::Messages::NewStub(channel_);
  models_ = claude::v1::Models::NewStub(channel_);
}

ServerHarness::~ServerHarness() {
  server_.reset();
  upstream_.reset();
}

bool ServerHarness::WaitForIdleLoop(absl::Duration timeout) {
  return WaitUntil([&] { return server_->loop().live_transfers() == 0; }, timeout);
}

claude::v1::CreateMessageRequest Hello(int64_t max_tokens, const std::string& model) {
  claude::v1::CreateMessageRequest request;
  request.set_model(model);
  request.set_max_tokens(max_tokens);
  auto* message = request.add_messages();
  message->set_role(claude::v1::ROLE_USER);
  message->set_content_text("Hello there, Claude");
  return request;
}

absl::Duration Scaled(absl::Duration d) {
  double scale = 1;
  if (const char* s = std::getenv("CLAUDE_TEST_TIME_SCALE"); s != nullptr) {
    if (!absl::SimpleAtod(s, &scale) || scale < 1) scale = 1;
  }
  return d * scale;
}

}  // namespace claude::testing
