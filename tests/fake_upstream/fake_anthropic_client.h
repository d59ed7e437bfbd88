// A small libcurl client for fake-anthropic's tests (blocking easy transfers, and the multi
// interface for many at once), with what those tests read replies with: the API's SSE folded
// into a Message, and a fixture that starts a fake per test.
#ifndef TESTS_FAKE_UPSTREAM_FAKE_ANTHROPIC_CLIENT_H_
#define TESTS_FAKE_UPSTREAM_FAKE_ANTHROPIC_CLIENT_H_

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
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "claude/v1/messages.pb.h"
#include "claude/v1/models.pb.h"
#include "common/codec/json_mapping.h"
#include "common/codec/message_accumulator.h"
#include "service/sse/sse_parser.h"
#include "tests/fake_upstream/fake_anthropic.h"
#include "tests/testing/json_testing.h"

namespace claude::testing::fake_client {

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

inline const bool kCurlReady = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();

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
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    header_list = curl_slist_append(header_list, "Expect:");
    for (const std::string& h : request.headers)
      header_list = curl_slist_append(header_list, h.c_str());
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

inline Response Fetch(const std::string& base_url, Request request) {
  Transfer t(base_url, std::move(request));
  t.Done(curl_easy_perform(t.curl));
  return std::move(t.response);
}

inline Response Fetch(const FakeAnthropic& fake, Request request) {
  return Fetch(fake.base_url(), std::move(request));
}

inline Request Post(std::string path, std::string body) {
  Request r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = std::move(body);
  r.headers = {"content-type: application/json"};
  return r;
}

inline Request Get(std::string path) {
  Request r;
  r.path = std::move(path);
  return r;
}

inline Request Delete(std::string path) {
  Request r = Get(std::move(path));
  r.method = "DELETE";
  return r;
}

inline std::string HeaderOr(const HttpHeaders& headers, absl::string_view name) {
  const std::string* value = FindHeader(headers, name);
  return value == nullptr ? "<none>" : *value;
}

// The API's SSE body folded into a Message, with the event names in order; each event's data
// must carry the type its `event:` line names.
struct Folded {
  std::vector<std::string> events;
  absl::StatusOr<claude::v1::Message> message;
};

inline Folded FoldSse(absl::string_view body) {
  Folded folded;
  claude::SseParser parser;
  claude::MessageAccumulator accumulator;
  absl::Status status = parser.Feed(
      std::string_view(body.data(), body.size()), [&](const claude::SseEvent& sse) -> absl::Status {
        folded.events.emplace_back(sse.event);
        absl::string_view data(sse.data.data(), sse.data.size());
        if (!absl::StartsWith(data, absl::StrCat("{\"type\":\"", folded.events.back(), "\""))) {
          return absl::InvalidArgumentError(
              absl::StrCat("event ", folded.events.back(), " has data ", data));
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

// A conversation of 9 words whose last user turn says "hello there world" in two text blocks.
inline constexpr char kConversation[] =
    R"({"model":"claude-test","max_tokens":16,"system":"be brief",)"
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

}  // namespace claude::testing::fake_client

#endif  // TESTS_FAKE_UPSTREAM_FAKE_ANTHROPIC_CLIENT_H_
