// fake-anthropic seen through a real HTTP client (tests/fake_upstream/fake_anthropic_client.h):
// its echo mode, and scripted replies with their delays, chunks, faults and disconnects.
#include "tests/fake_upstream/fake_anthropic.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fake_upstream/fake_anthropic_client.h"

namespace claude::testing::fake_client {
namespace {

// ---- Echo mode ------------------------------------------------------------------------------

TEST_F(FakeAnthropicTest, EchoUnaryReturnsTheMessage) {
  Response r = Fetch(*fake_, Post("/v1/messages", kConversation));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOr(r.headers, "content-type"), "application/json");
  EXPECT_EQ(HeaderOr(r.headers, "request-id"), "req_fake_1");
  EXPECT_EQ(HeaderOr(r.headers, "anthropic-ratelimit-requests-remaining"), "999");
  EXPECT_TRUE(claude::testing::JsonEqual(
      R"({"id":"msg_fake_1","type":"message","role":"assistant","model":"claude-test",)"
      R"("content":[{"type":"text","text":"Echo: hello there world"}],)"
      R"("stop_reason":"end_turn","stop_sequence":null,)"
      R"("usage":{"input_tokens":9,"output_tokens":4}})",
      r.body));
  claude::v1::Message message;
  ASSERT_TRUE(claude::JsonToMessage(r.body, &message).ok());
  EXPECT_EQ(message.stop_reason(), claude::v1::STOP_REASON_END_TURN);

  // The request number grows; a string content is echoed as is.
  r = Fetch(*fake_, Post("/v1/messages", R"({"model":"m","max_tokens":1,)"
                                         R"("messages":[{"role":"user","content":"  two\n words "}]})"));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(HeaderOr(r.headers, "request-id"), "req_fake_2");
  ASSERT_TRUE(claude::JsonToMessage(r.body, &message).ok()) << r.body;
  EXPECT_EQ(message.id(), "msg_fake_2");
  ASSERT_EQ(message.content_size(), 1);
  EXPECT_EQ(message.content(0).text().text(), "Echo:   two\n words ");
  EXPECT_EQ(message.usage().input_tokens(), 2);
  EXPECT_EQ(message.usage().output_tokens(), 3);
}

TEST_F(FakeAnthropicTest, EchoStreamsInTheApiEventGrammar) {
  claude::v1::CreateMessageRequest request;
  ASSERT_TRUE(claude::JsonToMessage(kConversation, &request).ok());
  Response r = Fetch(*fake_, Post("/v1/messages", claude::CreateMessageBody(request, true)));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOr(r.headers, "content-type"), "text/event-stream");
  EXPECT_EQ(HeaderOr(r.headers, "request-id"), "req_fake_1");
  EXPECT_EQ(HeaderOr(r.headers, "anthropic-ratelimit-requests-remaining"), "999");
  EXPECT_THAT(r.body, HasSubstr("event: message_start\ndata: {\"type\":\"message_start\","));
  EXPECT_THAT(r.body, HasSubstr(R"("usage":{"input_tokens":9,"output_tokens":1})"));
  EXPECT_THAT(r.body, HasSubstr(R"("delta":{"type":"text_delta","text":"there "})"));
  EXPECT_TRUE(absl::EndsWith(r.body, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));

  Folded folded = FoldSse(r.body);
  EXPECT_THAT(folded.events,
              ElementsAre("message_start", "content_block_start", "content_block_delta",
                          "content_block_delta", "content_block_delta", "content_block_delta",
                          "content_block_stop", "message_delta", "message_stop"));
  ASSERT_TRUE(folded.message.ok()) << folded.message.status();
  const claude::v1::Message& message = *folded.message;
  EXPECT_EQ(message.id(), "msg_fake_1");
  EXPECT_EQ(message.model(), "claude-test");
  ASSERT_EQ(message.content_size(), 1);
  EXPECT_EQ(message.content(0).text().text(), "Echo: hello there world");
  EXPECT_EQ(message.stop_reason(), claude::v1::STOP_REASON_END_TURN);
  EXPECT_EQ(message.usage().output_tokens(), 4);
}

TEST_F(FakeAnthropicTest, EchoRejectsInvalidRequestsWithAnApiError) {
  Response r = Fetch(*fake_, Post("/v1/messages", "{not json"));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(HeaderOr(r.headers, "request-id"), "req_fake_1");
  claude::v1::CreateMessageRequest unused;
  EXPECT_THAT(r.body, HasSubstr(R"({"type":"error","error":{"type":"invalid_request_error","message":)"));
  EXPECT_TRUE(absl::EndsWith(r.body, R"(,"request_id":"req_fake_1"})")) << r.body;

  r = Fetch(*fake_, Post("/v1/messages", R"({"model":"m","messages":"not a list"})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("messages"));
}

TEST_F(FakeAnthropicTest, CountTokensCountsWords) {
  Response r = Fetch(*fake_, Post("/v1/messages/count_tokens", kConversation));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(claude::testing::JsonEqual(R"({"input_tokens":9})", r.body));
}

// The chat_completions echo: the unary reply and the stream in OpenAI's shapes, the stream ending
// with the usage chunk and [DONE]; errors in the gateway's shape and OpenAI's; the model list.
TEST_F(FakeAnthropicTest, ChatCompletionsEcho) {
  Response r = Fetch(*fake_, Post("/v1/chat/completions",
                                  R"({"model":"m","messages":[{"role":"system","content":"Be brief"},
                                      {"role":"user","content":"two words"}]})"));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(claude::testing::JsonEqual(R"({"id":"chatcmpl-fake-1","object":"chat.completion",
      "created":1768619365,"model":"m","choices":[{"index":0,"message":{"role":"assistant",
      "content":"Echo: two words"},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,
      "completion_tokens":3,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":0},
      "claude_cache_creation_5_m_tokens":0,"claude_cache_creation_1_h_tokens":0}})",
                                         r.body));

  r = Fetch(*fake_, Post("/v1/chat/completions",
                         R"({"model":"m-thinking","stream":true,"stream_options":{"include_usage":true},
                             "messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],
                             "tools":[{"type":"function","function":{"name":"f"}},
                                      {"type":"function","function":{"name":"g"}}]})"));
  EXPECT_EQ(HeaderOr(r.headers, "content-type"), "text/event-stream");
  const std::vector<std::string> data = claude::testing::SseDataOf(r.body);
  ASSERT_GE(data.size(), 3u);
  EXPECT_EQ(data.back(), "[DONE]");
  EXPECT_THAT(data[data.size() - 2], HasSubstr(R"("choices":[],"usage":{"prompt_tokens":1,)"));
  EXPECT_THAT(r.body, HasSubstr(R"("reasoning_content":"Thinking )"));
  EXPECT_THAT(r.body, HasSubstr(R"({"index":1,"id":"call_fake_2_1","type":"function","function":{"name":"g")"));
  EXPECT_THAT(r.body, HasSubstr(R"("finish_reason":"tool_calls")"));

  r = Fetch(*fake_, Post("/v1/chat/completions", R"({"model":"fake-error-gateway-429","messages":[]})"));
  EXPECT_EQ(r.status, 429);
  EXPECT_TRUE(claude::testing::JsonEqual(R"({"success":false,"error":{"code":"fake_error_429",
      "message":"the fake gateway was asked to fail"},"trace_id":"trace_fake_3"})", r.body));
  r = Fetch(*fake_, Post("/v1/chat/completions", "{not json"));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr(R"("type":"invalid_request_error","param":null,"code":null)"));

  fake_->set_chat_completions_models(true);
  r = Fetch(*fake_, Get("/v1/models"));
  EXPECT_TRUE(claude::testing::JsonEqual(R"({"object":"list","data":[{"id":"claude-fake-1",
      "object":"model","created":1735689600,"owned_by":"anthropic"}]})", r.body));
  r = Fetch(*fake_, Get("/v1/models/claude-nope"));
  EXPECT_EQ(r.status, 404);
}

TEST_F(FakeAnthropicTest, ModelsListGetAndNotFound) {
  Response r = Fetch(*fake_, Get("/v1/models?limit=20"));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(claude::testing::JsonEqual(
      R"({"data":[{"type":"model","id":"claude-fake-1","display_name":"Claude Fake",)"
      R"("created_at":"2025-01-01T00:00:00Z"}],"has_more":false,)"
      R"("first_id":"claude-fake-1","last_id":"claude-fake-1"})",
      r.body));

  r = Fetch(*fake_, Get("/v1/models/claude-fake-1"));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(claude::testing::JsonEqual(
      R"({"type":"model","id":"claude-fake-1","display_name":"Claude Fake",)"
      R"("created_at":"2025-01-01T00:00:00Z"})",
      r.body));

  r = Fetch(*fake_, Get("/v1/models/claude-nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(claude::testing::JsonEqual(
      R"({"type":"error","error":{"type":"not_found_error","message":"model: claude-nope"},)"
      R"("request_id":"req_fake_3"})",
      r.body));

  r = Fetch(*fake_, Get("/v2/elsewhere"));
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr(R"("type":"not_found_error")"));
  r = Fetch(*fake_, Delete("/v1/messages"));
  EXPECT_EQ(r.status, 404);
}

TEST_F(FakeAnthropicTest, RecordsMethodPathHeadersAndBody) {
  Request post = Post("/v1/messages?beta=true", kConversation);
  post.headers.push_back("X-Api-Key: sk-test");
  post.headers.push_back("Anthropic-Version: 2023-06-01");
  ASSERT_EQ(Fetch(*fake_, post).code, CURLE_OK);
  ASSERT_EQ(Fetch(*fake_, Get("/v1/models")).code, CURLE_OK);

  std::vector<RecordedRequest> requests = fake_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(fake_->request_count(), 2);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/v1/messages?beta=true");
  EXPECT_EQ(requests[0].body, kConversation);
  EXPECT_THAT(FindHeader(requests[0].headers, "x-api-key"), Pointee(std::string("sk-test")));
  EXPECT_THAT(FindHeader(requests[0].headers, "anthropic-version"), Pointee(std::string("2023-06-01")));
  EXPECT_THAT(FindHeader(requests[0].headers, "content-type"),
              Pointee(std::string("application/json")));
  for (const auto& [name, value] : requests[0].headers) EXPECT_EQ(name, absl::AsciiStrToLower(name));
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].path, "/v1/models");
  EXPECT_EQ(requests[1].body, "");

  // A load run turns recording off; counting goes on.
  fake_->set_record_requests(false);
  ASSERT_EQ(Fetch(*fake_, Get("/v1/models")).code, CURLE_OK);
  EXPECT_EQ(fake_->requests().size(), 2u);
  EXPECT_EQ(fake_->request_count(), 3);
  EXPECT_TRUE(fake_->WaitForRequests(3, absl::ZeroDuration()));
  EXPECT_FALSE(fake_->WaitForRequests(4, absl::Milliseconds(10)));
}

// ---- Scripted replies -----------------------------------------------------------------------

TEST_F(FakeAnthropicTest, ScriptedRepliesAreServedInOrderThenEcho) {
  const std::string rate_limited = ReadFixture("error_429_anthropic.json");
  fake_->Enqueue(JsonReply(429, rate_limited, {{"retry-after", "2"}, {"request-id", "req_1"}}));
  FakeReply pieces;
  pieces.headers = {{"content-type", "text/plain"}, {"x-custom", "yes"}};
  pieces.chunks = {"part1-", "", "part2-", "part3"};
  fake_->Enqueue(pieces);
  fake_->Enqueue(JsonReply(529, ReadFixture("error_529_anthropic.json")));

  // Scripted replies ignore the path.
  Response r = Fetch(*fake_, Post("/v1/messages", kConversation));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(HeaderOr(r.headers, "retry-after"), "2");
  EXPECT_EQ(HeaderOr(r.headers, "request-id"), "req_1");
  EXPECT_EQ(HeaderOr(r.headers, "content-type"), "application/json");
  EXPECT_EQ(r.body, rate_limited);

  r = Fetch(*fake_, Get("/v1/models"));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOr(r.headers, "x-custom"), "yes");
  EXPECT_EQ(HeaderOr(r.headers, "content-type"), "text/plain");
  EXPECT_EQ(HeaderOr(r.headers, "transfer-encoding"), "chunked");
  EXPECT_EQ(r.body, "part1-part2-part3");

  r = Fetch(*fake_, Post("/v1/messages", kConversation));
  EXPECT_EQ(r.status, 529);
  EXPECT_EQ(r.body, ReadFixture("error_529_anthropic.json"));
  EXPECT_EQ(HeaderOr(r.headers, "request-id"), "<none>");

  r = Fetch(*fake_, Post("/v1/messages", kConversation));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOr(r.headers, "request-id"), "req_fake_4");
  EXPECT_EQ(fake_->active_replies(), 0);
  EXPECT_EQ(fake_->disconnects(), 0);
}

TEST_F(FakeAnthropicTest, ChunkedReplayArrivesByteIdentical) {
  const std::string transcript = ReadFixture("text_basic.sse");
  fake_->Enqueue(SseReply(transcript, 7));
  fake_->Enqueue(SseReply(transcript, 100, absl::Milliseconds(2)));
  fake_->Enqueue(SseReply(transcript));
  for (int i = 0; i < 3; ++i) {
    Response r = Fetch(*fake_, Post("/v1/messages", kConversation));
    ASSERT_EQ(r.code, CURLE_OK);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(HeaderOr(r.headers, "content-type"), "text/event-stream");
    EXPECT_EQ(r.body, transcript) << "reply " << i;
    Folded folded = FoldSse(r.body);
    ASSERT_TRUE(folded.message.ok()) << folded.message.status();
    EXPECT_EQ(folded.message->content(0).text().text(),
              "Hi! My name is Claude. How can I help you today?");
  }
}

TEST_F(FakeAnthropicTest, DelaysHoldTheHeadAndThePieces) {
  FakeReply slow_head = JsonReply(200, "{}");
  slow_head.delay_before_head = absl::Milliseconds(300);
  fake_->Enqueue(slow_head);
  Response r = Fetch(*fake_, Post("/v1/messages", kConversation));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.body, "{}");
  EXPECT_GE(r.elapsed, absl::Milliseconds(300));

  fake_->Enqueue(SseReply("abcdef", 2, absl::Milliseconds(100)));
  r = Fetch(*fake_, Post("/v1/messages", kConversation));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.body, "abcdef");
  EXPECT_GE(r.elapsed, absl::Milliseconds(200));
}

// One connection carries a delayed reply, a chunked one, a content-length one and an echo.
TEST_F(FakeAnthropicTest, KeepAliveConnectionServesSuccessiveReplies) {
  FakeReply delayed = JsonReply(200, R"({"n":1})");
  delayed.delay_before_head = absl::Milliseconds(50);
  fake_->Enqueue(delayed);
  fake_->Enqueue(SseReply("data: 2\n\n", 3));
  fake_->Enqueue(JsonReply(200, R"({"n":3})"));
  CURL* curl = curl_easy_init();
  std::string body;
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_URL, (fake_->base_url() + "/v1/models").c_str());
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t count, void* arg) {
        static_cast<std::string*>(arg)->append(data, size * count);
        return size * count;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  std::vector<std::string> bodies;
  long connects = 0;
  for (int i = 0; i < 4; ++i) {
    body.clear();
    ASSERT_EQ(curl_easy_perform(curl), CURLE_OK) << "request " << i;
    bodies.push_back(body);
    long new_connects = 0;
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &new_connects);
    connects += new_connects;
  }
  curl_easy_cleanup(curl);
  EXPECT_EQ(connects, 1);
  ASSERT_EQ(bodies.size(), 4u);
  EXPECT_EQ(bodies[0], R"({"n":1})");
  EXPECT_EQ(bodies[1], "data: 2\n\n");
  EXPECT_EQ(bodies[2], R"({"n":3})");
  EXPECT_THAT(bodies[3], HasSubstr("claude-fake-1"));
  EXPECT_EQ(fake_->disconnects(), 0);
}

TEST_F(FakeAnthropicTest, CloseMidBodyGivesTheClientATransferError) {
  FakeReply broken = SseReply("event: ping\ndata: {\"type\":\"ping\"}\n\nevent: content_block", 16);
  broken.close_mid_body = true;
  fake_->Enqueue(broken);
  Response r = Fetch(*fake_, Post("/v1/messages", kConversation));
  EXPECT_THAT(r.code, AnyOf(CURLE_PARTIAL_FILE, CURLE_RECV_ERROR)) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "event: ping\ndata: {\"type\":\"ping\"}\n\nevent: content_block");

  // Without any body piece: the head, then the connection drops.
  FakeReply empty;
  empty.headers = {{"content-type", "text/event-stream"}};
  empty.close_mid_body = true;
  fake_->Enqueue(empty);
  r = Fetch(*fake_, Post("/v1/messages", kConversation));
  EXPECT_THAT(r.code, AnyOf(CURLE_PARTIAL_FILE, CURLE_RECV_ERROR)) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 200);

  // The fake's own drops are not client disconnects, and the server goes on.
  EXPECT_EQ(fake_->disconnects(), 0);
  EXPECT_EQ(fake_->active_replies(), 0);
  EXPECT_EQ(Fetch(*fake_, Get("/v1/models")).status, 200);
}

TEST_F(FakeAnthropicTest, ClientAbortingMidStreamIsADisconnect) {
  FakeReply endless;
  endless.headers = {{"content-type", "text/event-stream"}};
  endless.generator = [](std::string* piece) {
    *piece = "event: ping\ndata: {\"type\":\"ping\"}\n\n";
    return true;
  };
  endless.delay_between_chunks = absl::Milliseconds(5);
  fake_->Enqueue(endless);
  Request request = Post("/v1/messages", kConversation);
  request.abort_after_bytes = 200;
  Response r = Fetch(*fake_, request);
  EXPECT_EQ(r.code, CURLE_ABORTED_BY_CALLBACK) << curl_easy_strerror(r.code);
  EXPECT_GE(r.body.size(), 200u);
  EXPECT_TRUE(fake_->WaitForDisconnects(1, absl::Seconds(10)));
  EXPECT_EQ(fake_->active_replies(), 0);

  // Aborting from the write callback, while the fake writes as fast as it can.
  FakeReply fast = endless;
  fast.delay_between_chunks = absl::ZeroDuration();
  fake_->Enqueue(fast);
  request = Post("/v1/messages", kConversation);
  size_t received = 0;
  request.on_data = [&received](absl::string_view data) {
    received += data.size();
    return received < 100000;
  };
  r = Fetch(*fake_, request);
  EXPECT_EQ(r.code, CURLE_WRITE_ERROR) << curl_easy_strerror(r.code);
  EXPECT_TRUE(fake_->WaitForDisconnects(2, absl::Seconds(10)));
  EXPECT_EQ(fake_->active_replies(), 0);
  EXPECT_EQ(Fetch(*fake_, Get("/v1/models")).status, 200);
}

TEST_F(FakeAnthropicTest, ClientGivingUpOnAHungUpstreamIsADisconnect) {
  fake_->Enqueue(HungReply());
  Response r;
  std::thread client([&] {
    Request request = Post("/v1/messages", kConversation);
    request.timeout_ms = 300;
    r = Fetch(*fake_, request);
  });
  EXPECT_TRUE(fake_->WaitForRequests(1, absl::Seconds(10)));
  EXPECT_EQ(fake_->active_replies(), 1);
  client.join();
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT) << curl_easy_strerror(r.code);
  EXPECT_TRUE(fake_->WaitForDisconnects(1, absl::Seconds(10)));
  EXPECT_EQ(fake_->active_replies(), 0);

  // The same while the fake waits before the head ("long thinking").
  FakeReply thinking = JsonReply(200, "{}");
  thinking.delay_before_head = absl::Seconds(30);
  fake_->Enqueue(thinking);
  Request request = Post("/v1/messages", kConversation);
  request.timeout_ms = 300;
  r = Fetch(*fake_, request);
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT) << curl_easy_strerror(r.code);
  EXPECT_TRUE(fake_->WaitForDisconnects(2, absl::Seconds(10)));
  EXPECT_EQ(fake_->active_replies(), 0);
  EXPECT_EQ(Fetch(*fake_, Get("/v1/models")).status, 200);
}

TEST_F(FakeAnthropicTest, StoppingWithRepliesInProgressClosesTheirConnections) {
  fake_->Enqueue(HungReply());
  FakeReply trickle = SseReply("x", 1);
  trickle.generator = [](std::string* piece) {
    *piece = "data: {}\n\n";
    return true;
  };
  trickle.delay_between_chunks = absl::Milliseconds(20);
  fake_->Enqueue(trickle);
  Response hung_response, trickle_response;
  // The client threads get the URL, not the fake: the main thread destroys the fake while they
  // still run (and only a socket orders their start before that, which TSan cannot see).
  const std::string base_url = fake_->base_url();
  std::thread hung_client([&] { hung_response = Fetch(base_url, Post("/v1/messages", "{}")); });
  ASSERT_TRUE(fake_->WaitForRequests(1, absl::Seconds(10)));
  std::thread trickle_client([&] { trickle_response = Fetch(base_url, Post("/v1/messages", "{}")); });
  ASSERT_TRUE(fake_->WaitForRequests(2, absl::Seconds(10)));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(fake_->active_replies(), 2);
  fake_.reset();
  hung_client.join();
  trickle_client.join();
  EXPECT_NE(hung_response.code, CURLE_OK);
  EXPECT_NE(hung_response.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_THAT(trickle_response.code, AnyOf(CURLE_PARTIAL_FILE, CURLE_RECV_ERROR));
  EXPECT_THAT(trickle_response.body, HasSubstr("data: {}\n\n"));
  // Nothing listens any more.
  EXPECT_EQ(Fetch(base_url, Get("/v1/models")).code, CURLE_COULDNT_CONNECT);
}

}  // namespace
}  // namespace claude::testing::fake_client
