#include "client/bench/http_load.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "client/bench/grpc_load.h"
#include "common/curl/curl_handles.h"

namespace claude {
namespace bench {
namespace {

// The headers of a Messages API POST, as a caller without claude-grpc would send them.
absl::StatusOr<CurlHeaderList> MessagesHeaders() {
  CurlHeaderList headers;
  for (const char* line : {"content-type: application/json", "anthropic-version: 2023-06-01",
                           "x-api-key: bench-not-a-real-key", "expect:"}) {
    if (absl::Status s = AppendHeader(headers, line); !s.ok()) return s;
  }
  return headers;
}

// One transfer slot: its handle, the reply being read, and when the call started (closed loop)
// or was due (open loop). The handle's CURLOPT_PRIVATE points here.
struct Post {
  CurlEasy handle;
  std::string response;
  int64_t start = 0;
};

// A POST of `body` to `url` whose reply goes to `post->response`. `body` and `headers` outlive
// the handle.
absl::Status SetUpPost(const std::string& url, const std::string& body, curl_slist* headers,
                       Post* post) {
  post->handle.reset(curl_easy_init());
  if (post->handle == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
  CURL* h = post->handle.get();
  for (absl::Status s :
       {SetOption(h, CURLOPT_URL, url.c_str()), SetOption(h, CURLOPT_POSTFIELDS, body.data()),
        SetOption(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size())),
        SetOption(h, CURLOPT_HTTPHEADER, headers),
        SetOption(h, CURLOPT_WRITEFUNCTION, AppendToString),
        SetOption(h, CURLOPT_WRITEDATA, &post->response), SetOption(h, CURLOPT_NOSIGNAL, 1L),
        SetOption(h, CURLOPT_TCP_NODELAY, 1L), SetOption(h, CURLOPT_TIMEOUT, 60L),
        SetOption(h, CURLOPT_PRIVATE, static_cast<void*>(post))}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// A POST that libcurl finished and, unless it got HTTP 200, why it failed.
struct FinishedPost {
  Post* post = nullptr;
  std::string error;  // empty: HTTP 200
};

// Takes the next finished transfer out of `multi`; false when none is left.
bool NextFinishedPost(CURLM* multi, FinishedPost* out) {
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* handle = msg->easy_handle;
    const CURLcode result = msg->data.result;  // `msg` is gone once the handle is removed
    void* owner = nullptr;
    curl_easy_getinfo(handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&owner));
    out->post = static_cast<Post*>(owner);
    long code = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code);
    out->error = result == CURLE_OK && code == 200
                     ? std::string()
                     : absl::StrCat("HTTP ", code, " ", curl_easy_strerror(result));
    curl_multi_remove_handle(multi, handle);
    return true;
  }
  return false;
}

// The multi handle a run drives its transfers with, and the headers they share; declared
// before the transfers so that they outlive them.
struct PostSession {
  CurlMulti multi;
  CurlHeaderList headers;
};

absl::StatusOr<PostSession> StartSession(int max_connections) {
  CurlMulti multi(curl_multi_init());
  if (multi == nullptr) return absl::ResourceExhaustedError("curl_multi_init failed");
  if (absl::Status s =
          SetMultiOption(multi.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(max_connections));
      !s.ok()) {
    return s;
  }
  absl::StatusOr<CurlHeaderList> headers = MessagesHeaders();
  if (!headers.ok()) return headers.status();
  return PostSession{std::move(multi), *std::move(headers)};
}

RunResult SetUpFailed(const absl::Status& status) {
  RunResult r;
  r.total.Fail(absl::StrCat("direct HTTP: ", status.ToString()));
  return r;
}

}  // namespace

RunResult RunHttpClosedLoop(const std::string& url, const std::string& body, int concurrency,
                            const LoadTiming& timing) {
  absl::StatusOr<PostSession> session = StartSession(concurrency);
  if (!session.ok()) return SetUpFailed(session.status());
  CURLM* multi = session->multi.get();
  std::vector<Post> posts(static_cast<size_t>(concurrency));
  std::vector<SlotStats> slots(posts.size());
  for (Post& p : posts) {
    if (absl::Status s = SetUpPost(url, body, session->headers.get(), &p); !s.ok())
      return SetUpFailed(s);
  }
  const Window window = MakeWindow(timing);
  for (Post& p : posts) {
    p.start = NowNs();
    curl_multi_add_handle(multi, p.handle.get());
  }
  int active = concurrency;
  while (active > 0) {
    int running = 0;
    curl_multi_perform(multi, &running);
    FinishedPost done;
    while (NextFinishedPost(multi, &done)) {
      Post* p = done.post;
      const int64_t now = NowNs();
      slots[static_cast<size_t>(p - posts.data())].CountCall(std::move(done.error),
                                                             window.Contains(now), now - p->start);
      if (now < window.end) {
        p->response.clear();
        p->start = NowNs();
        curl_multi_add_handle(multi, p->handle.get());
      } else {
        --active;
      }
    }
    if (active > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  return Merge(slots, window);
}

RunResult RunHttpOpenLoop(const std::string& url, const std::string& body, double rate,
                          const LoadTiming& timing) {
  absl::StatusOr<PostSession> session = StartSession(kOpenLoopMaxInFlight);
  if (!session.ok()) return SetUpFailed(session.status());
  CURLM* multi = session->multi.get();
  std::vector<std::unique_ptr<Post>> all;  // destroyed before the session
  std::vector<Post*> free_posts;
  SlotStats stats;
  const Window window = MakeWindow(timing);
  const int64_t start = NowNs();
  int64_t next = 0;
  int in_flight = 0;
  auto due_of = [&](int64_t i) {
    return start + static_cast<int64_t>(static_cast<double>(i) * 1e9 / rate);
  };
  while (due_of(next) < window.end || in_flight > 0) {
    const int64_t now = NowNs();
    while (due_of(next) <= now && due_of(next) < window.end) {
      const int64_t due = due_of(next++);
      if (in_flight >= kOpenLoopMaxInFlight) {
        if (window.Contains(due))
          stats.Fail(absl::StrCat("open loop: ", kOpenLoopMaxInFlight, " calls in flight"));
        continue;
      }
      Post* p;
      if (free_posts.empty()) {
        all.push_back(std::make_unique<Post>());
        p = all.back().get();
        if (absl::Status s = SetUpPost(url, body, session->headers.get(), p); !s.ok()) {
          all.pop_back();
          if (window.Contains(due)) stats.Fail(absl::StrCat("direct HTTP: ", s.ToString()));
          continue;
        }
      } else {
        p = free_posts.back();
        free_posts.pop_back();
      }
      p->response.clear();
      p->start = due;
      curl_multi_add_handle(multi, p->handle.get());
      ++in_flight;
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    FinishedPost done;
    while (NextFinishedPost(multi, &done)) {
      Post* p = done.post;
      stats.CountCall(std::move(done.error), window.Contains(p->start), NowNs() - p->start);
      free_posts.push_back(p);
      --in_flight;
    }
    // Sleep in poll until the next call is due or a reply arrives.
    const int64_t until_next = due_of(next) - NowNs();
    const int wait_ms = due_of(next) >= window.end
                            ? 100
                            : static_cast<int>(std::max<int64_t>(0, until_next / 1'000'000));
    if (wait_ms > 0 || in_flight > 0) curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
  }
  RunResult r;
  r.seconds = window.seconds();
  r.total = std::move(stats);
  return r;
}

}  // namespace bench
}  // namespace claude
