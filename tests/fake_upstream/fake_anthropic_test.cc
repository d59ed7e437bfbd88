// fake-anthropic seen through a real HTTP client: libcurl's easy interface (blocking), and its
// multi interface for many concurrent requests. Also runs the fake-anthropic binary.
#include "tests/fake_upstream/fake_anthropic.h"

#include <curl/curl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "claude/v1/messages.pb.h"
#include "claude/v1/models.pb.h"
#include "common/codec/json_mapping.h"
#include "common/codec/message_accumulator.h"
#include "service/sse/sse_parser.h"
#include "tests/testing/json_testing.h"

extern char** environ;

namespace {

using ::claude::FindHeader;
using ::claude::HttpHeaders;
using ::claude::testing::FakeAnthropic;
using ::claude::testing::FakeReply;
using ::claude::testing::GeneratedSseReply;
using ::claude::testing::HungReply;
using ::claude::testing::JsonReply;
using ::claude::testing::ReadFixture;
using ::claude::testing::RecordedRequest;
using ::claude::testing::SseReply;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pointee;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;  // RSS is dominated by the sanitizer's own bookkeeping
#else
constexpr bool kSanitized = false;
#endif

const bool kCurlReady = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();

// ---- A small libcurl client -----------------------------------------------------------------

struct Request {
  std::string method = "GET";
  std::string path = "/";
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  long timeout_ms = 10000;
  // Called with each piece of the body; returning false aborts the transfer (CURLE_WRITE_ERROR).
  std::function<bool(absl::string_view)> on_data;
  bool keep_body = true;
  // Aborts the transfer (CURLE_ABORTED_BY_CALLBACK) once this many body bytes arrived; 0 = never.
  curl_off_t abort_after_bytes = 0;
  // SO_RCVBUF of the client's socket; 0 = the system's default.
  int receive_buffer = 0;
  long buffer_size = 0;  // CURLOPT_BUFFERSIZE; 0 = curl's default
};

struct Response {
  CURLcode code = CURLE_OK;
  long status = 0;
  HttpHeaders headers;  // names lower-case
  std::string body;
  absl::Duration elapsed;
};

// One transfer: its request, its response, and what libcurl needs to keep alive during it.
struct Transfer {
  Request request;
  Response response;
  curl_slist* header_list = nullptr;
  CURL* curl = nullptr;
  absl::Time start;

  Transfer(const std::string& base_url, Request r) : request(std::move(r)) {
    curl = curl_easy_init();
    const std::string url = base_url + request.path;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request.timeout_ms);
    if (request.method == "GET") {
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    header_list = curl_slist_append(header_list, "Expect:");
    for (const std::string& h : request.headers) header_list = curl_slist_append(header_list, h.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Transfer::OnWrite);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, this);
    if (request.abort_after_bytes > 0) {
      curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Transfer::OnProgress);
      curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
    }
    if (request.receive_buffer > 0) {
      curl_easy_setopt(curl, CURLOPT_SOCKOPTFUNCTION, &Transfer::OnSocket);
      curl_easy_setopt(curl, CURLOPT_SOCKOPTDATA, this);
    }
    if (request.buffer_size > 0) curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, request.buffer_size);
    start = absl::Now();
  }
  ~Transfer() {
    curl_easy_cleanup(curl);
    curl_slist_free_all(header_list);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  void Done(CURLcode code) {
    response.code = code;
    response.elapsed = absl::Now() - start;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  }

  static size_t OnWrite(char* data, size_t size, size_t count, void* arg) {
    auto* t = static_cast<Transfer*>(arg);
    const size_t n = size * count;
    if (t->request.on_data && !t->request.on_data(absl::string_view(data, n))) return 0;
    if (t->request.keep_body) t->response.body.append(data, n);
    return n;
  }
  static size_t OnHeader(char* data, size_t size, size_t count, void* arg) {
    auto* t = static_cast<Transfer*>(arg);
    absl::string_view line(data, size * count);
    line = absl::StripTrailingAsciiWhitespace(line);
    if (absl::StartsWith(line, "HTTP/")) {
      t->response.headers.clear();
    } else if (size_t colon = line.find(':'); colon != absl::string_view::npos) {
      t->response.headers.emplace_back(
          absl::AsciiStrToLower(line.substr(0, colon)),
          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
    }
    return size * count;
  }
  static int OnProgress(void* arg, curl_off_t, curl_off_t now, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(arg);
    return now >= t->request.abort_after_bytes ? 1 : 0;
  }
  static int OnSocket(void* arg, curl_socket_t fd, curlsocktype) {
    auto* t = static_cast<Transfer*>(arg);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &t->request.receive_buffer,
               sizeof(t->request.receive_buffer));
    return CURL_SOCKOPT_OK;
  }
};

Response Fetch(const std::string& base_url, Request request) {
  Transfer t(base_url, std::move(request));
  t.Done(curl_easy_perform(t.curl));
  return std::move(t.response);
}

Response Fetch(const FakeAnthropic& fake, Request request) {
  return Fetch(fake.base_url(), std::move(request));
}

Request Post(std::string path, std::string body) {
  Request r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = std::move(body);
  r.headers = {"content-type: application/json"};
  return r;
}

Request Get(std::string path) {
  Request r;
  r.path = std::move(path);
  return r;
}

Request Delete(std::string path) {
  Request r = Get(std::move(path));
  r.method = "DELETE";
  return r;
}

std::string HeaderOr(const HttpHeaders& headers, absl::string_view name) {
  const std::string* value = FindHeader(headers, name);
  return value == nullptr ? "<none>" : *value;
}

// The API's SSE body folded into a Message, with the event names in order; each event's data
// must carry the type its `event:` line names.
struct Folded {
  std::vector<std::string> events;
  absl::StatusOr<claude::v1::Message> message;
};

Folded FoldSse(absl::string_view body) {
  Folded folded;
  claude::SseParser parser;
  claude::MessageAccumulator accumulator;
  absl::Status status = parser.Feed(
      std::string_view(body.data(), body.size()), [&](const claude::SseEvent& sse) -> absl::Status {
        folded.events.emplace_back(sse.event);
        absl::string_view data(sse.data.data(), sse.data.size());
        if (!absl::StartsWith(data, absl::StrCat("{\"type\":\"", folded.events.back(), "\""))) {
          return absl::InvalidArgumentError(absl::StrCat("event ", folded.events.back(), " has data ", data));
        }
        claude::v1::MessageStreamEvent event;
        if (absl::Status s = claude::JsonToMessage(data, &event); !s.ok()) return s;
        return accumulator.Apply(event);
      });
  if (!status.ok()) {
    folded.message = status;
  } else if (parser.HasPartialEvent()) {
    folded.message = absl::DataLossError("body ends mid-event");
  } else {
    folded.message = std::move(accumulator).Finish();
  }
  return folded;
}

// VmRSS of this process (the fake runs in it), in bytes.
int64_t ResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      int64_t kb = 0;
      std::vector<absl::string_view> parts =
          absl::StrSplit(line.substr(6), ' ', absl::SkipWhitespace());
      if (!parts.empty() && absl::SimpleAtoi(parts[0], &kb)) return kb * 1024;
    }
  }
  return -1;
}

// A conversation of 9 words whose last user turn says "hello there world" in two text blocks.
constexpr char kConversation[] = R"({"model":"claude-test","max_tokens":16,"system":"be brief",)"
                                 R"("messages":[{"role":"user","content":"first question"},)"
                                 R"({"role":"assistant","content":"an answer"},)"
                                 R"({"role":"user","content":[{"type":"text","text":"hello "},)"
                                 R"({"type":"text","text":"there world"}]}]})";

class FakeAnthropicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kCurlReady);
    absl::StatusOr<std::unique_ptr<FakeAnthropic>> fake = FakeAnthropic::Start();
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
  }

  std::unique_ptr<FakeAnthropic> fake_;
};

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

// A 20 MB generated body reaches a slow client whole, while the fake holds only a piece or two:
// the generator is asked for more only as the socket drains.
TEST_F(FakeAnthropicTest, GeneratorFollowsTheReaderWithoutBuffering) {
  static constexpr size_t kTotal = 20 << 20;
  static constexpr size_t kPiece = 64 << 10;
  auto produced = std::make_shared<std::atomic<size_t>>(0);
  FakeReply big;
  big.headers = {{"content-type", "application/octet-stream"}};
  big.generator = [produced, sent = size_t{0}](std::string* piece) mutable {
    if (sent >= kTotal) return false;
    const size_t n = std::min(kPiece, kTotal - sent);
    piece->assign(n, static_cast<char>('a' + (sent / kPiece) % 26));
    sent += n;
    produced->store(sent);
    return true;
  };
  fake_->Enqueue(std::move(big));

  const int64_t rss_before = ResidentBytes();
  int64_t rss_peak = rss_before;
  size_t received = 0;
  size_t mismatches = 0;
  size_t max_ahead_while_slow = 0;
  const absl::Time start = absl::Now();
  const absl::Duration slow_phase = absl::Seconds(1);
  Request request = Post("/v1/messages", kConversation);
  request.keep_body = false;
  request.receive_buffer = 64 << 10;
  request.buffer_size = 16 << 10;
  request.timeout_ms = 60000;
  int calls = 0;
  request.on_data = [&](absl::string_view data) {
    for (size_t i = 0; i < data.size(); ++i) {
      if (data[i] != static_cast<char>('a' + ((received + i) / kPiece) % 26)) ++mismatches;
    }
    received += data.size();
    if (++calls % 64 == 0) rss_peak = std::max(rss_peak, ResidentBytes());
    if (absl::Now() - start < slow_phase) {
      max_ahead_while_slow = std::max(max_ahead_while_slow, produced->load() - received);
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  };
  Response r = Fetch(*fake_, request);
  ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(received, kTotal);
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(HeaderOr(r.headers, "transfer-encoding"), "chunked");
  // What the fake produced ahead of the reader fits in the kernel's socket buffers (at most a
  // few MB on loopback) plus a piece; without backpressure it would be the whole body.
  EXPECT_LT(max_ahead_while_slow, 10u << 20);
  EXPECT_GT(max_ahead_while_slow, 0u);
  rss_peak = std::max(rss_peak, ResidentBytes());
  if (!kSanitized) {
    EXPECT_LT(rss_peak - rss_before, 12 << 20) << "RSS grew from " << rss_before << " to "
                                               << rss_peak;
  }
  EXPECT_EQ(fake_->active_replies(), 0);
}

TEST_F(FakeAnthropicTest, GeneratedStreamFoldsIntoOneTextOfTheAskedSize) {
  // Served as a default reply, every request gets its own copy of the generator.
  fake_->SetDefaultReply(GeneratedSseReply(3, 10));
  for (int i = 0; i < 2; ++i) {
    Response r = Fetch(*fake_, Post("/v1/messages", kConversation));
    ASSERT_EQ(r.code, CURLE_OK);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(HeaderOr(r.headers, "content-type"), "text/event-stream");
    Folded folded = FoldSse(r.body);
    EXPECT_THAT(folded.events,
                ElementsAre("message_start", "content_block_start", "content_block_delta",
                            "content_block_delta", "content_block_delta", "content_block_stop",
                            "message_delta", "message_stop"));
    ASSERT_TRUE(folded.message.ok()) << folded.message.status();
    ASSERT_EQ(folded.message->content_size(), 1);
    EXPECT_EQ(folded.message->content(0).text().text(), "abcde abcdabcde abcdabcde abcd");
    EXPECT_EQ(folded.message->usage().output_tokens(), 3);
  }
  fake_->ClearDefaultReply();
}

TEST_F(FakeAnthropicTest, GeneratedStreamDripsItsEvents) {
  fake_->Enqueue(GeneratedSseReply(2, 4, absl::Milliseconds(50)));
  Response r = Fetch(*fake_, Post("/v1/messages", kConversation));
  ASSERT_EQ(r.code, CURLE_OK);
  Folded folded = FoldSse(r.body);
  EXPECT_EQ(folded.events.size(), 7u);
  EXPECT_TRUE(folded.message.ok()) << folded.message.status();
}

TEST_F(FakeAnthropicTest, ManyConcurrentRequestsAreAllAnswered) {
  constexpr int kRequests = 200;
  CURLM* multi = curl_multi_init();
  std::vector<std::unique_ptr<Transfer>> transfers;
  for (int i = 0; i < kRequests; ++i) {
    const std::string body =
        absl::StrCat(R"({"model":"m","max_tokens":8,"messages":[{"role":"user","content":"request )",
                     i, R"("}])", i % 2 == 0 ? R"(,"stream":true})" : "}");
    transfers.push_back(std::make_unique<Transfer>(fake_->base_url(), Post("/v1/messages", body)));
    curl_multi_add_handle(multi, transfers.back()->curl);
  }
  int running = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      for (auto& t : transfers) {
        if (t->curl == msg->easy_handle) t->Done(msg->data.result);
      }
    }
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  } while (running > 0 && absl::Now() < deadline);
  EXPECT_EQ(running, 0);

  int answered = 0;
  for (int i = 0; i < kRequests; ++i) {
    const Response& r = transfers[i]->response;
    const std::string expected = absl::StrCat("Echo: request ", i);
    if (i % 2 == 0) {
      Folded folded = FoldSse(r.body);
      ASSERT_TRUE(folded.message.ok()) << i << ": " << folded.message.status();
      EXPECT_EQ(folded.message->content(0).text().text(), expected);
    } else {
      claude::v1::Message message;
      ASSERT_TRUE(claude::JsonToMessage(r.body, &message).ok()) << i << ": " << r.body;
      EXPECT_EQ(message.content(0).text().text(), expected);
    }
    if (r.code == CURLE_OK && r.status == 200) ++answered;
  }
  EXPECT_EQ(answered, kRequests);
  EXPECT_EQ(fake_->request_count(), kRequests);
  for (auto& t : transfers) curl_multi_remove_handle(multi, t->curl);
  transfers.clear();
  curl_multi_cleanup(multi);
}

TEST(FakeAnthropicStartTest, ReportsAddressesItCannotListenOn) {
  absl::StatusOr<std::unique_ptr<FakeAnthropic>> fake = FakeAnthropic::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  EXPECT_GT((*fake)->port(), 0);
  EXPECT_EQ((*fake)->base_url(), absl::StrCat("http://127.0.0.1:", (*fake)->port()));
  EXPECT_FALSE(FakeAnthropic::Start("127.0.0.1", (*fake)->port()).ok());  // in use
  EXPECT_FALSE(FakeAnthropic::Start("127.0.0.1", 70000).ok());
  EXPECT_FALSE(FakeAnthropic::Start("not an address!", 0).ok());
}

// ---- The binary -----------------------------------------------------------------------------

// Runs fake-anthropic with `args`; reads its "listening on URL" line.
class Process {
 public:
  explicit Process(std::vector<std::string> args) {
    args.insert(args.begin(), FAKE_ANTHROPIC_BINARY);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    if (posix_spawn(&pid_, FAKE_ANTHROPIC_BINARY, &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    char c;
    while (read(fds[0], &c, 1) == 1 && c != '\n') first_line_ += c;
    close(fds[0]);
  }
  ~Process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  const std::string& first_line() const { return first_line_; }

  // Sends `signal` and returns the exit status, or -1 if it did not exit normally.
  int Stop(int signal) {
    if (pid_ <= 0) return -1;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  std::string first_line_;
};

TEST(FakeAnthropicBinaryTest, EchoesThenExitsCleanlyOnSigterm) {
  Process process({"--listen=127.0.0.1:0"});
  constexpr absl::string_view kPrefix = "fake-anthropic listening on ";
  ASSERT_TRUE(absl::StartsWith(process.first_line(), kPrefix)) << process.first_line();
  const std::string url(absl::string_view(process.first_line()).substr(kPrefix.size()));
  EXPECT_TRUE(absl::StartsWith(url, "http://127.0.0.1:")) << url;
  Response r = Fetch(url, Post("/v1/messages", kConversation));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_THAT(r.body, HasSubstr("Echo: hello there world"));
  EXPECT_EQ(process.Stop(SIGTERM), 0);
}

TEST(FakeAnthropicBinaryTest, ReplaysATranscriptThenExitsCleanlyOnSigint) {
  Process process({"--listen=127.0.0.1:0",
                   absl::StrCat("--replay=", CLAUDE_FIXTURES_DIR, "/text_basic.sse"),
                   "--chunk_size=64", "--chunk_delay_ms=1"});
  constexpr absl::string_view kPrefix = "fake-anthropic listening on ";
  ASSERT_TRUE(absl::StartsWith(process.first_line(), kPrefix)) << process.first_line();
  const std::string url(absl::string_view(process.first_line()).substr(kPrefix.size()));
  for (int i = 0; i < 2; ++i) {
    Response r = Fetch(url, Post("/v1/messages", kConversation));
    ASSERT_EQ(r.code, CURLE_OK);
    EXPECT_EQ(HeaderOr(r.headers, "content-type"), "text/event-stream");
    EXPECT_EQ(r.body, ReadFixture("text_basic.sse"));
  }
  EXPECT_EQ(process.Stop(SIGINT), 0);
}

}  // namespace
