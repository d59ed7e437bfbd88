// A real claude-grpc server in the test process: the gRPC services on a loopback port, the curl
// event loop, and a fake Anthropic upstream on another loopback port; plus stubs to call it.
#ifndef TESTS_TESTING_SERVER_HARNESS_H_
#define TESTS_TESTING_SERVER_HARNESS_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "claude/v1/messages.grpc.pb.h"
#include "claude/v1/models.grpc.pb.h"
#include "service/observability/line_sink.h"
#include "service/server/claude_server.h"
#include "tests/testing/captured_lines.h"
#include "tests/fake_upstream/fake_anthropic.h"

namespace claude::testing {

struct HarnessOptions {
  CallOptions call;
  int max_retries = 2;
  // Jitter source for retries; 0 makes backoff delays exact (the longest of their range).
  double jitter = 0.0;
  std::string api_key = "sk-ant-test-key";
  std::shared_ptr<ApiKeySource> api_key_source;  // overrides api_key when set
  // Empty: the dialect's default (x-api-key for messages, bearer for chat_completions).
  std::string auth_scheme;
  // The dialect the server speaks to the fake upstream (ServerConfig::upstream_api).
  std::string upstream_api = "messages";
  int64_t unary_stream_threshold = 16384;
  // Last word on the server's configuration, after the fields above are applied.
  std::function<void(ServerConfig&)> configure;
};

class ServerHarness {
 public:
  explicit ServerHarness(HarnessOptions options = {});
  ~ServerHarness();

  FakeAnthropic& upstream() { return *upstream_; }
  ClaudeServer& server() { return *server_; }
  CurlEventLoop& loop() { return server_->loop(); }
  claude::v1::Messages::Stub& messages() { return *messages_; }
  claude::v1::Models::Stub& models() { return *models_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  int port() const { return port_; }

  // Waits until the loop holds no transfer; false on timeout.
  bool WaitForIdleLoop(absl::Duration timeout);

 private:
  std::unique_ptr<FakeAnthropic> upstream_;
  std::unique_ptr<ClaudeServer> server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<claude::v1::Messages::Stub> messages_;
  std::unique_ptr<claude::v1::Models::Stub> models_;
};

// A small valid request for `model`: one user turn, "Hello there, Claude".
claude::v1::CreateMessageRequest Hello(int64_t max_tokens = 256,
                                       const std::string& model = "claude-sonnet-4-5");

// Tests that wait for something observable use this factor on their bounds, so sanitizer
// builds (several times slower) can stretch them: CLAUDE_TEST_TIME_SCALE (default 1).
absl::Duration Scaled(absl::Duration d);

}  // namespace claude::testing

#endif  // TESTS_TESTING_SERVER_HARNESS_H_
