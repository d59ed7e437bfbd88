#include "tests/testing/server_harness.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "service/config/api_key_source.h"

namespace claude::testing {

ServerHarness::ServerHarness(HarnessOptions options) {
  auto upstream = FakeAnthropic::Start();
  EXPECT_TRUE(upstream.ok()) << upstream.status();
  upstream_ = std::move(*upstream);

  CurlEventLoopOptions loop_options;
  loop_options.base_url = upstream_->base_url();
  loop_options.auth_scheme = options.auth_scheme;
  loop_options.api_key = options.api_key_source != nullptr
                             ? options.api_key_source
                             : std::make_shared<StaticApiKeySource>(options.api_key);
  // The retry policy exists before the loop's thread starts, which orders it before that
  // thread's reads.
  const double jitter = options.jitter;
  retry_policy_ = std::make_unique<RetryPolicy>(options.max_retries, [jitter] { return jitter; });
  loop_ = std::make_unique<CurlEventLoop>(loop_options);
  env_.loop = loop_.get();
  env_.retry_policy = retry_policy_.get();
  env_.options = options.call;
  messages_service_ = std::make_unique<MessagesService>(&env_, options.unary_stream_threshold);
  models_service_ = std::make_unique<ModelsService>(&env_);

  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(messages_service_.get());
  builder.RegisterService(models_service_.get());
  server_ = builder.BuildAndStart();
  EXPECT_NE(port_, 0);

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  channel_ = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port_),
                                       grpc::InsecureChannelCredentials(), args);
  messages_ = claude::v1::Messages::NewStub(channel_);
  models_ = claude::v1::Models::NewStub(channel_);
}

ServerHarness::~ServerHarness() {
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server_.reset();
  loop_.reset();
  upstream_.reset();
}

bool ServerHarness::WaitForIdleLoop(absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  while (loop_->live_transfers() != 0) {
    if (absl::Now() > until) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

claude::v1::CreateMessageRequest Hello(int64_t max_tokens) {
  claude::v1::CreateMessageRequest request;
  request.set_model("claude-sonnet-4-5");
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
