// fake-anthropic's echo mode: which endpoint answers a request that has no scripted reply,
// chosen from its method and path (the query ignored). The endpoints are in
// fake_messages_echo.h (the Messages API), fake_chat_completions.h and fake_cloud_echo.h
// (Vertex AI, Bedrock); anything else is 404 with an API-shaped error body.
#ifndef TESTS_FAKE_UPSTREAM_FAKE_ECHO_ROUTES_H_
#define TESTS_FAKE_UPSTREAM_FAKE_ECHO_ROUTES_H_

#include "tests/fake_upstream/echo_answer.h"
#include "tests/fake_upstream/fake_anthropic.h"

namespace claude::testing {

// The fake's settings that echo mode reads, a snapshot taken per request.
struct EchoSettings {
  bool chat_completions_models = false;  // GET /v1/models[/ID] in OpenAI's shape
  FakeCloudCredentials cloud;
};

// The echo answer to `request`, the `n`th the fake received.
EchoAnswer EchoRoute(const RecordedRequest& request, int n, const EchoSettings& settings);

}  // namespace claude::testing

#endif  // TESTS_FAKE_UPSTREAM_FAKE_ECHO_ROUTES_H_
