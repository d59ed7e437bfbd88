// claude-grpc-bench: a load generator for claude-grpc (closed and open loop). It compares three scenarios,
// interleaved over several rounds:
//   raw          gRPC to an echo implementation of claude.v1.Messages hosted in this process
//                (no HTTP): the cost of gRPC alone;
//   direct_http  the same request JSON POSTed straight to fake-anthropic with libcurl (multi);
//   frontend     gRPC to claude-grpc-server, which calls fake-anthropic over HTTP.
// fake-anthropic and claude-grpc-server are started as child processes on port 0 and stopped
// at exit. Latencies go into log-linear histograms (client/bench/histogram.h); percentiles are
// reported, and the mean beside them. Each run also counts the server's context switches per
// call and flags other runnable processes (client/bench/run_conditions.h). Suites: unary, stream, latency, open_loop (see --help); memory and
// slow_reader (client/bench/memory_suites.h) run fresh server processes of their own.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <curl/curl.h>
#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "claude/v1/messages.grpc.pb.h"
#include "service/config/help_flags.h"
#include "client/bench/child_process.h"
#include "client/bench/histogram.h"
#include "client/bench/memory_suites.h"
#include "client/bench/run_conditions.h"
#include "client/bench/batch_results_suite.h"
#include "client/bench/soak_suite.h"
#include "service/codec/json_mapping.h"

ABSL_FLAG(std::string, suite, "all",
          "Which suite to run: unary, stream, latency, open_loop, memory, slow_reader, soak, quota, "
          "batch_results, or all (every one but soak, quota and batch_results).");
ABSL_FLAG(bool, json, false, "Print one JSON object instead of tables.");
// Durations are string flags parsed with absl::ParseDuration ("2s", "500ms"): absl::Duration
// flags are sequence-locked, whose fences GCC warns about under -fsanitize=thread.
ABSL_FLAG(std::string, duration, "2s", "Measured time of each measurement (e.g. 2s, 200ms).");
ABSL_FLAG(std::string, warmup, "0.5s", "Load before each measurement that is not recorded.");
ABSL_FLAG(int, rounds, 3, "Rounds; each runs every scenario once (A B C A B C ...).");
ABSL_FLAG(std::vector<std::string>, concurrency, std::vector<std::string>({"1", "16", "64", "256"}),
          "Calls in flight for the unary suite (comma-separated list).");
ABSL_FLAG(int, channels, 4, "gRPC channels (connections) the calls are spread over.");
ABSL_FLAG(int, streams, 64, "Streams in flight for the stream suite.");
ABSL_FLAG(int, stream_events, 100, "Text deltas per stream in the stream suite.");
ABSL_FLAG(int64_t, calls, 0,
          "With a positive value, each closed-loop gRPC run makes exactly this many calls (no "
          "warm-up, no time limit) instead of running for --duration: for profilers, whose "
          "instruction counts are then comparable run to run.");
ABSL_FLAG(double, rate, 2000, "Calls per second of the open_loop suite.");
ABSL_FLAG(std::vector<std::string>, memory_streams,
          std::vector<std::string>({"1000", "5000", "10000"}),
          "Open streams at which the memory suite measures the server's RSS (comma-separated).");
ABSL_FLAG(std::string, memory_drip, "2s", "Time between two events of a memory-suite stream.");
ABSL_FLAG(int64_t, slow_reader_mb, 50, "MiB of text in the slow-reader suite's stream.");
ABSL_FLAG(double, slow_reader_mb_per_s, 10, "The slow reader's pace, MB/s.");
ABSL_FLAG(int64_t, batch_results_count, 100000, "batch_results suite: results in the throughput batch.");
ABSL_FLAG(int, batch_result_bytes, 1024, "batch_results suite: bytes of text per result.");
ABSL_FLAG(int64_t, batch_results_mb, 1024, "batch_results suite: MiB of results the paced reader reads.");
ABSL_FLAG(double, batch_results_mb_per_s, 10, "batch_results suite: the paced reader's pace, MB/s.");
ABSL_FLAG(int, soak_streams, 2000, "Soak suite: streams kept open at once.");
ABSL_FLAG(std::string, soak_duration, "60s", "Soak suite: time under load after its warm-up.");
ABSL_FLAG(std::string, soak_warmup, "10s", "Soak suite: warm-up under the same load before RSS is taken.");
ABSL_FLAG(double, soak_rss_bound_mb, 32,
          "Soak suite: the most the server's RSS may grow after the warm-up (MB) for the soak to pass.");
ABSL_FLAG(std::vector<std::string>, server_flags, {},
          "Extra claude-grpc-server flags, comma-separated (e.g. --stream_buffer_bytes=65536).");
ABSL_FLAG(std::vector<std::string>, ab_server_flags, {},
          "With flags given (comma-separated, on top of --server_flags), a second claude-grpc-server "
          "runs with them as scenario frontend_b, interleaved beside frontend in the unary, stream "
          "and latency suites: a same-run A/B of a server setting (e.g. --server_core=cq).");
ABSL_FLAG(std::string, upstream_api, "messages",
          "The dialect claude-grpc-server speaks to fake-anthropic in the unary, stream, latency "
          "and open_loop suites: messages, chat_completions, or both (a second server speaks "
          "chat_completions; its front-end runs interleaved beside the messages one in the unary "
          "and stream suites and is reported as a ratio to it).");
ABSL_FLAG(std::string, server_binary, CLAUDE_BENCH_SERVER_BINARY, "The claude-grpc-server binary.");
ABSL_FLAG(std::string, fake_binary, CLAUDE_BENCH_FAKE_BINARY, "The fake-anthropic binary.");
ABSL_FLAG(std::string, redis_server_binary, "/usr/bin/redis-server",
          "The redis-server binary the quota suite starts (Debian: redis-server).");

namespace claude {
namespace bench {
namespace {

using Metrics = std::map<std::string, double>;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double Us(int64_t nanos) { return static_cast<double>(nanos) / 1000.0; }

// The recorded part of a run: [start, end) in NowNs() time.
struct Window {
  int64_t start = 0;
  int64_t end = 0;
  bool Contains(int64_t t) const { return t >= start && t < end; }
  double seconds() const { return static_cast<double>(end - start) / 1e9; }
};

// --duration and --warmup, parsed once before any load runs.
absl::Duration g_duration;
absl::Duration g_warmup;

Window MakeWindow() {
  Window w;
  w.start = NowNs() + absl::ToInt64Nanoseconds(g_warmup);
  w.end = w.start + absl::ToInt64Nanoseconds(g_duration);
  return w;
}

// ---- Requests and the echo replies of fake-anthropic ---------------------------------------

std::string Words(int n) {
  static const char* const kWords[] = {"alpha", "bravo", "charlie", "delta", "echo",
                                       "foxtrot", "golf", "hotel", "india", "juliet"};
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += ' ';
    out += kWords[i % 10];
  }
  return out;
}

v1::CreateMessageRequest MakeRequest(const std::string& prompt) {
  v1::CreateMessageRequest request;
  request.set_model("claude-bench-1");
  request.set_max_tokens(1024);
  v1::MessageParam* message = request.add_messages();
  message->set_role(v1::ROLE_USER);
  message->set_content_text(prompt);
  return request;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Runs of non-whitespace with the whitespace after them, as fake-anthropic cuts its deltas.
std::vector<std::string> WordPieces(absl::string_view text) {
  std::vector<std::string> pieces;
  size_t start = 0;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    while (i < text.size() && !IsSpace(text[i])) ++i;
    while (i < text.size() && IsSpace(text[i])) ++i;
    pieces.emplace_back(text.substr(start, i - start));
    start = i;
  }
  return pieces;
}

std::string LastUserText(const v1::CreateMessageRequest& request) {
  for (int i = request.messages_size() - 1; i >= 0; --i) {
    const v1::MessageParam& m = request.messages(i);
    if (m.role() != v1::ROLE_USER) continue;
    if (m.has_content_blocks()) {
      std::string text;
      for (const v1::ContentBlock& block : m.content_blocks().blocks()) {
        if (block.has_text()) text += block.text().text();
      }
      return text;
    }
    return m.content_text();
  }
  return "";
}

// The Chat Completions body of the bench's requests (one user turn of text), for direct HTTP.
std::string ChatCompletionsBody(const v1::CreateMessageRequest& request) {
  std::string body = R"({"model":)";
  AppendJsonString(request.model(), &body);
  absl::StrAppend(&body, R"(,"max_tokens":)", request.max_tokens(),
                  R"(,"messages":[{"role":"user","content":)");
  AppendJsonString(LastUserText(request), &body);
  body += "}]}";
  return body;
}

// ---- The raw scenario: an in-process echo service ------------------------------------------

std::atomic<int64_t> g_echo_ids{0};

void FillEchoMessage(const v1::CreateMessageRequest& request, bool with_content,
                     v1::Message* message) {
  const std::string text = "Echo: " + LastUserText(request);
  message->set_id(absl::StrCat("msg_bench_", ++g_echo_ids));
  message->set_type("message");
  message->set_role(v1::ROLE_ASSISTANT);
  message->set_model(request.model());
  const int64_t output_tokens = static_cast<int64_t>(WordPieces(text).size());
  if (with_content) {
    message->add_content()->mutable_text()->set_text(text);
    message->set_stop_reason(v1::STOP_REASON_END_TURN);
  }
  message->mutable_usage()->set_input_tokens(
      static_cast<int64_t>(WordPieces(LastUserText(request)).size()));
  message->mutable_usage()->set_output_tokens(with_content ? output_tokens : 1);
}

// Writes the events fake-anthropic's echo stream carries, one write in flight.
class EchoWriter : public grpc::ServerWriteReactor<v1::MessageStreamEvent> {
 public:
  explicit EchoWriter(const v1::CreateMessageRequest& request) {
    FillEchoMessage(request, false, events_.emplace_back().mutable_message_start()->mutable_message());
    events_.emplace_back().mutable_content_block_start()->mutable_content_block()->mutable_text();
    const std::vector<std::string> pieces = WordPieces("Echo: " + LastUserText(request));
    for (const std::string& piece : pieces) {
      events_.emplace_back().mutable_content_block_delta()->mutable_delta()->mutable_text_delta()->set_text(piece);
    }
    events_.emplace_back().mutable_content_block_stop();
    v1::MessageDeltaEvent* delta = events_.emplace_back().mutable_message_delta();
    delta->mutable_delta()->set_stop_reason(v1::STOP_REASON_END_TURN);
    delta->mutable_usage()->set_output_tokens(static_cast<int64_t>(pieces.size()));
    events_.emplace_back().mutable_message_stop();
    NextWrite();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    NextWrite();
  }
  void OnDone() override { delete this; }

 private:
  void NextWrite() {
    if (next_ < events_.size()) {
      StartWrite(&events_[next_++]);
    } else {
      Finish(grpc::Status::OK);
    }
  }

  std::vector<v1::MessageStreamEvent> events_;
  size_t next_ = 0;
};

class EchoService final : public v1::Messages::CallbackService {
 public:
  grpc::ServerUnaryReactor* CreateMessage(grpc::CallbackServerContext* context,
                                          const v1::CreateMessageRequest* request,
                                          v1::Message* reply) override {
    FillEchoMessage(*request, true, reply);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerWriteReactor<v1::MessageStreamEvent>* StreamMessage(
      grpc::CallbackServerContext* /*context*/, const v1::CreateMessageRequest* request) override {
    return new EchoWriter(*request);
  }
};

// ---- Closed-loop gRPC load -----------------------------------------------------------------

// What one slot (one call in flight at a time) saw. Touched only by that slot's callbacks,
// which follow one another, and read after the run.
struct SlotStats {
  LatencyHistogram latency;  // whole call (unary) or whole stream
  LatencyHistogram first_event;
  LatencyHistogram gap;
  int64_t calls = 0;
  int64_t events = 0;
  int64_t errors = 0;
  std::string first_error;

  // Counts a failed call; the first failure's reason is kept for the report.
  void Fail(std::string why) {
    ++errors;
    if (first_error.empty()) first_error = std::move(why);
  }
};

struct RunResult {
  SlotStats total;
  double seconds = 0;
};

RunResult Merge(const std::vector<SlotStats>& slots, const Window& w) {
  RunResult r;
  r.seconds = w.seconds();
  for (const SlotStats& s : slots) {
    r.total.latency.Merge(s.latency);
    r.total.first_event.Merge(s.first_event);
    r.total.gap.Merge(s.gap);
    r.total.calls += s.calls;
    r.total.events += s.events;
    r.total.errors += s.errors;
    if (r.total.first_error.empty()) r.total.first_error = s.first_error;
  }
  return r;
}

class GrpcLoad {
 public:
  GrpcLoad(const std::vector<std::unique_ptr<v1::Messages::Stub>>& stubs,
           const v1::CreateMessageRequest& request, bool stream, int concurrency)
      : stubs_(stubs), request_(request), stream_(stream), slots_(static_cast<size_t>(concurrency)) {}

  RunResult Run() {
    window_ = MakeWindow();
    calls_left_ = absl::GetFlag(FLAGS_calls);
    limited_ = calls_left_ > 0;
    if (limited_) {
      // A fixed number of calls, every one recorded.
      window_.start = NowNs();
      window_.end = std::numeric_limits<int64_t>::max();
    }
    active_ = static_cast<int>(slots_.size());
    for (size_t i = 0; i < slots_.size(); ++i) Issue(i);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return active_ == 0; });
    if (window_.end == std::numeric_limits<int64_t>::max()) window_.end = NowNs();
    return Merge(slots_, window_);
  }

 private:
  struct UnaryCall {
    grpc::ClientContext context;
    v1::Message reply;
    int64_t start = 0;
  };

  class StreamCall : public grpc::ClientReadReactor<v1::MessageStreamEvent> {
   public:
    StreamCall(GrpcLoad* load, size_t slot) : load_(load), slot_(slot) {}
    void Start() {
      load_->PrepareContext(&context_);
      start_ = NowNs();
      load_->stubs_[slot_ % load_->stubs_.size()]->async()->StreamMessage(&context_, &load_->request_, this);
      StartRead(&event_);
      StartCall();
    }
    void OnReadDone(bool ok) override {
      if (!ok) return;
      const int64_t now = NowNs();
      SlotStats& stats = load_->slots_[slot_];
      if (load_->window_.Contains(now)) {
        ++stats.events;
        if (last_ == 0) {
          stats.first_event.Record(now - start_);
        } else {
          stats.gap.Record(now - last_);
        }
      }
      last_ = now;
      StartRead(&event_);
    }
    void OnDone(const grpc::Status& status) override {
      const int64_t now = NowNs();
      GrpcLoad* load = load_;
      const size_t slot = slot_;
      load->Completed(slot, status, start_, now);
      delete this;
      load->Next(slot, now);
    }

   private:
    GrpcLoad* load_;
    size_t slot_;
    grpc::ClientContext context_;
    v1::MessageStreamEvent event_;
    int64_t start_ = 0;
    int64_t last_ = 0;
  };

  void PrepareContext(grpc::ClientContext* context) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  }

  void Issue(size_t slot) {
    if (stream_) {
      (new StreamCall(this, slot))->Start();
      return;
    }
    auto* call = new UnaryCall;
    PrepareContext(&call->context);
    call->start = NowNs();
    stubs_[slot % stubs_.size()]->async()->CreateMessage(
        &call->context, &request_, &call->reply, [this, slot, call](grpc::Status status) {
          const int64_t now = NowNs();
          Completed(slot, status, call->start, now);
          delete call;
          Next(slot, now);
        });
  }

  void Completed(size_t slot, const grpc::Status& status, int64_t start, int64_t now) {
    SlotStats& stats = slots_[slot];
    if (!status.ok()) {
      stats.Fail(absl::StrCat(status.error_code(), ": ", status.error_message()));
      return;
    }
    if (window_.Contains(now)) {
      ++stats.calls;
      stats.latency.Record(now - start);
    }
  }

  void Next(size_t slot, int64_t now) {
    if (now < window_.end && (!limited_ || calls_left_.fetch_sub(1) > 1)) {
      Issue(slot);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (--active_ == 0) done_.notify_all();
  }

  const std::vector<std::unique_ptr<v1::Messages::Stub>>& stubs_;
  const v1::CreateMessageRequest& request_;
  const bool stream_;
  std::vector<SlotStats> slots_;
  Window window_;
  std::mutex mu_;
  std::condition_variable done_;
  int active_ = 0;
  bool limited_ = false;                // --calls
  std::atomic<int64_t> calls_left_{0};  // with --calls: calls still to start after this one
};

// ---- Open-loop gRPC load -------------------------------------------------------------------

// Unary calls started at a fixed rate whatever the replies do (latency under load, without the
// coordinated omission of a closed loop): the i-th call is due at start + i/rate and its
// latency counts from that due time, so a stalled server shows up as latency, not as fewer
// calls. Calls in flight are capped (`max_in_flight`); a call that finds the cap reached counts
// as an error ("overloaded") and is not sent.
class OpenLoopLoad {
 public:
  OpenLoopLoad(const std::vector<std::unique_ptr<v1::Messages::Stub>>& stubs,
               const v1::CreateMessageRequest& request, double rate, int max_in_flight)
      : stubs_(stubs), request_(request), rate_(rate), max_in_flight_(max_in_flight) {}

  RunResult Run() {
    window_ = MakeWindow();
    const int64_t start = NowNs();
    for (int64_t i = 0;; ++i) {
      const int64_t due = start + static_cast<int64_t>(static_cast<double>(i) * 1e9 / rate_);
      if (due >= window_.end) break;
      const int64_t wait = due - NowNs();
      if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
      Issue(i, due);
    }
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return in_flight_ == 0; });
    RunResult r;
    r.seconds = window_.seconds();
    r.total = std::move(stats_);
    return r;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    v1::Message reply;
  };

  void Issue(int64_t i, int64_t due) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (in_flight_ >= max_in_flight_) {
        if (window_.Contains(due)) stats_.Fail(absl::StrCat("open loop: ", max_in_flight_, " calls in flight"));
        return;
      }
      ++in_flight_;
    }
    auto* call = new Call;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    stubs_[static_cast<size_t>(i) % stubs_.size()]->async()->CreateMessage(
        &call->context, &request_, &call->reply, [this, call, due](grpc::Status status) {
          const int64_t now = NowNs();
          delete call;
          std::lock_guard<std::mutex> lock(mu_);
          if (!status.ok()) {
            stats_.Fail(absl::StrCat(status.error_code(), ": ", status.error_message()));
          } else if (window_.Contains(due)) {
            ++stats_.calls;
            stats_.latency.Record(now - due);
          }
          if (--in_flight_ == 0) done_.notify_all();
        });
  }

  const std::vector<std::unique_ptr<v1::Messages::Stub>>& stubs_;
  const v1::CreateMessageRequest& request_;
  const double rate_;
  const int max_in_flight_;
  Window window_;
  std::mutex mu_;
  std::condition_variable done_;
  int in_flight_ = 0;
  SlotStats stats_;
};

// ---- Closed-loop HTTP load (libcurl multi, one thread) -------------------------------------

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// The headers of a Messages API POST, as a caller without claude-grpc would send them.
curl_slist* MessagesHeaders() {
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "content-type: application/json");
  headers = curl_slist_append(headers, "anthropic-version: 2023-06-01");
  headers = curl_slist_append(headers, "x-api-key: bench-not-a-real-key");
  return curl_slist_append(headers, "expect:");
}

// A POST that libcurl finished: its handle's owner (CURLINFO_PRIVATE) and, unless it got HTTP
// 200, why it failed.
struct FinishedPost {
  void* owner = nullptr;
  std::string error;  // empty: HTTP 200
};

// Takes the next finished transfer out of `multi`; false when none is left.
bool NextFinishedPost(CURLM* multi, FinishedPost* out) {
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* handle = msg->easy_handle;
    const CURLcode result = msg->data.result;  // `msg` is gone once the handle is removed
    curl_easy_getinfo(handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&out->owner));
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

// A handle that POSTs `body` to `url` and appends the reply to `*response`; `self` comes back
// through CURLINFO_PRIVATE. `body`, `headers` and `response` outlive the handle.
CURL* NewPostHandle(const std::string& url, const std::string& body, curl_slist* headers,
                    std::string* response, void* self) {
  CURL* handle = curl_easy_init();
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, response);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(handle, CURLOPT_PRIVATE, self);
  return handle;
}

RunResult RunHttp(const std::string& url, const std::string& body, int concurrency) {
  struct Easy {
    CURL* handle = nullptr;
    std::string response;
    int64_t start = 0;
  };
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(concurrency));
  curl_slist* headers = MessagesHeaders();
  std::vector<Easy> easies(static_cast<size_t>(concurrency));
  std::vector<SlotStats> slots(easies.size());
  const Window window = MakeWindow();
  for (Easy& e : easies) {
    e.handle = NewPostHandle(url, body, headers, &e.response, &e);
    e.start = NowNs();
    curl_multi_add_handle(multi, e.handle);
  }
  int active = concurrency;
  while (active > 0) {
    int running = 0;
    curl_multi_perform(multi, &running);
    FinishedPost done;
    while (NextFinishedPost(multi, &done)) {
      Easy* e = static_cast<Easy*>(done.owner);
      const int64_t now = NowNs();
      SlotStats& stats = slots[static_cast<size_t>(e - easies.data())];
      if (!done.error.empty()) {
        stats.Fail(std::move(done.error));
      } else if (window.Contains(now)) {
        ++stats.calls;
        stats.latency.Record(now - e->start);
      }
      if (now < window.end) {
        e->response.clear();
        e->start = NowNs();
        curl_multi_add_handle(multi, e->handle);
      } else {
        --active;
      }
    }
    if (active > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  for (Easy& e : easies) curl_easy_cleanup(e.handle);
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  return Merge(slots, window);
}

constexpr int kOpenLoopMaxInFlight = 1000;

// The open loop of OpenLoopLoad over libcurl multi: POSTs due at start + i/rate, latency from
// the due time, on handles reused once free (a free handle keeps its connection).
RunResult RunHttpOpenLoop(const std::string& url, const std::string& body, double rate) {
  struct Easy {
    CURL* handle = nullptr;
    std::string response;
    int64_t due = 0;
  };
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(kOpenLoopMaxInFlight));
  curl_slist* headers = MessagesHeaders();
  std::vector<std::unique_ptr<Easy>> all;
  std::vector<Easy*> free_easies;
  SlotStats stats;
  const Window window = MakeWindow();
  const int64_t start = NowNs();
  int64_t next = 0;
  int in_flight = 0;
  auto due_of = [&](int64_t i) { return start + static_cast<int64_t>(static_cast<double>(i) * 1e9 / rate); };
  while (due_of(next) < window.end || in_flight > 0) {
    const int64_t now = NowNs();
    while (due_of(next) <= now && due_of(next) < window.end) {
      const int64_t due = due_of(next++);
      if (in_flight >= kOpenLoopMaxInFlight) {
        if (window.Contains(due)) stats.Fail(absl::StrCat("open loop: ", kOpenLoopMaxInFlight, " calls in flight"));
        continue;
      }
      Easy* e;
      if (free_easies.empty()) {
        all.push_back(std::make_unique<Easy>());
        e = all.back().get();
        e->handle = NewPostHandle(url, body, headers, &e->response, e);
      } else {
        e = free_easies.back();
        free_easies.pop_back();
      }
      e->response.clear();
      e->due = due;
      curl_multi_add_handle(multi, e->handle);
      ++in_flight;
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    FinishedPost done;
    while (NextFinishedPost(multi, &done)) {
      Easy* e = static_cast<Easy*>(done.owner);
      const int64_t finished = NowNs();
      if (!done.error.empty()) {
        stats.Fail(std::move(done.error));
      } else if (window.Contains(e->due)) {
        ++stats.calls;
        stats.latency.Record(finished - e->due);
      }
      free_easies.push_back(e);
      --in_flight;
    }
    // Sleep in poll until the next call is due or a reply arrives.
    const int64_t until_next = due_of(next) - NowNs();
    const int wait_ms = due_of(next) >= window.end ? 100 : static_cast<int>(std::max<int64_t>(0, until_next / 1'000'000));
    if (wait_ms > 0 || in_flight > 0) curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
  }
  for (auto& e : all) curl_easy_cleanup(e->handle);
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  RunResult r;
  r.seconds = window.seconds();
  r.total = std::move(stats);
  return r;
}

// ---- Scenarios, rounds and summaries -------------------------------------------------------

constexpr const char* kRaw = "raw";
constexpr const char* kHttp = "direct_http";
constexpr const char* kFrontend = "frontend";
// With --upstream_api=both: the front-end whose server speaks chat_completions upstream.
constexpr const char* kFrontendChat = "frontend_chat_completions";
// With --ab_server_flags: the front-end whose server runs with those flags.
constexpr const char* kFrontendB = "frontend_b";
constexpr const char* kLocalQuota = "frontend_local_quota";
constexpr const char* kRedisQuota = "frontend_redis_quota";

struct Summary {
  double median = 0;
  double min = 0;
  double max = 0;
};

Summary Summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  s.min = v.front();
  s.max = v.back();
  return s;
}

// Per (suite, scenario, level): the metrics of every round, in order.
class Results {
 public:
  void Add(const std::string& suite, const std::string& scenario, int level, const Metrics& m) {
    rounds_[suite][scenario][level].push_back(m);
  }
  bool Has(const std::string& suite, const std::string& scenario, int level) const {
    auto s = rounds_.find(suite);
    if (s == rounds_.end()) return false;
    auto c = s->second.find(scenario);
    return c != s->second.end() && c->second.count(level) > 0;
  }
  Summary Get(const std::string& suite, const std::string& scenario, int level,
              const std::string& metric) const {
    std::vector<double> values;
    for (const Metrics& m : rounds_.at(suite).at(scenario).at(level)) values.push_back(m.at(metric));
    return Summarize(values);
  }
  bool HasSuite(const std::string& suite) const { return rounds_.count(suite) > 0; }
  const std::map<std::string, std::map<int, std::vector<Metrics>>>& Suite(const std::string& suite) const {
    return rounds_.at(suite);
  }

 private:
  std::map<std::string, std::map<std::string, std::map<int, std::vector<Metrics>>>> rounds_;
};

Metrics UnaryMetrics(const RunResult& r) {
  return {{"qps", static_cast<double>(r.total.calls) / r.seconds},
          {"calls", static_cast<double>(r.total.calls)},
          {"errors", static_cast<double>(r.total.errors)},
          {"p50_us", Us(r.total.latency.Percentile(0.50))},
          {"p90_us", Us(r.total.latency.Percentile(0.90))},
          {"p99_us", Us(r.total.latency.Percentile(0.99))},
          {"mean_us", Us(static_cast<int64_t>(r.total.latency.Mean()))},
          {"max_us", Us(r.total.latency.max())}};
}

Metrics StreamMetrics(const RunResult& r) {
  Metrics m = UnaryMetrics(r);
  m["streams_per_s"] = m["qps"];
  m.erase("qps");
  m["events_per_s"] = static_cast<double>(r.total.events) / r.seconds;
  m["first_event_p50_us"] = Us(r.total.first_event.Percentile(0.50));
  m["first_event_p99_us"] = Us(r.total.first_event.Percentile(0.99));
  m["gap_p50_us"] = Us(r.total.gap.Percentile(0.50));
  m["gap_p99_us"] = Us(r.total.gap.Percentile(0.99));
  return m;
}

struct Targets {
  std::vector<std::unique_ptr<v1::Messages::Stub>> raw;
  std::vector<std::unique_ptr<v1::Messages::Stub>> frontend;
  std::vector<std::unique_ptr<v1::Messages::Stub>> frontend_chat;  // --upstream_api=both
  std::vector<std::unique_ptr<v1::Messages::Stub>> frontend_b;     // --ab_server_flags
  // The server process behind each front-end scenario, whose context switches are counted.
  std::map<std::string, pid_t> server_pids;
  std::string http_url;
  // The quota suite's two servers: a per-caller limit counted in memory, and in Redis.
  std::vector<std::unique_ptr<v1::Messages::Stub>> local_quota;
  std::vector<std::unique_ptr<v1::Messages::Stub>> redis_quota;
  // The direct-HTTP body for a request: the Messages API's, or the Chat Completions API's.
  std::function<std::string(const v1::CreateMessageRequest&)> http_body;

  const std::vector<std::unique_ptr<v1::Messages::Stub>>& For(absl::string_view scenario) const {
    if (scenario == kRaw) return raw;
    if (scenario == kLocalQuota) return local_quota;
    if (scenario == kRedisQuota) return redis_quota;
    if (scenario == kFrontendB) return frontend_b;
    return scenario == kFrontendChat ? frontend_chat : frontend;
  }
  pid_t ServerPid(const std::string& scenario) const {
    auto it = server_pids.find(scenario);
    return it == server_pids.end() ? -1 : it->second;
  }
};

// The scenarios of one round: as given, except that two compared front-ends
// (--upstream_api=both, --ab_server_flags) swap places every other round, so neither always
// runs right after the other's load.
std::vector<std::string> RoundOrder(std::vector<std::string> scenarios, int round) {
  auto messages = std::find(scenarios.begin(), scenarios.end(), kFrontend);
  for (const char* other : {kFrontendChat, kFrontendB}) {
    auto it = std::find(scenarios.begin(), scenarios.end(), other);
    if (round % 2 == 1 && messages != scenarios.end() && it != scenarios.end()) std::iter_swap(messages, it);
  }
  return scenarios;
}

class Bench {
 public:
  Bench(Targets* targets, Results* results) : targets_(targets), results_(results) {}

  int64_t errors() const { return errors_; }
  const std::string& first_error() const { return first_error_; }

  void Unary(const std::string& suite, const std::vector<std::string>& scenarios,
             const std::vector<int>& levels, int rounds) {
    const v1::CreateMessageRequest request =
        MakeRequest("Hello! Please answer in one short sentence: what is a load generator for?");
    const std::string body = targets_->http_body(request);
    for (int round = 0; round < rounds; ++round) {
      for (int level : levels) {
        for (const std::string& scenario : RoundOrder(scenarios, round)) {
          RunResult r;
          RunConditions conditions(targets_->ServerPid(scenario), g_warmup, g_duration);
          conditions.Start();
          if (scenario == kHttp) {
            r = RunHttp(targets_->http_url, body, level);
          } else {
            GrpcLoad load(targets_->For(scenario), request, false, level);
            r = load.Run();
          }
          Note(r);
          Metrics metrics = UnaryMetrics(r);
          conditions.Finish(r.total.calls, &metrics);
          results_->Add(suite, scenario, level, metrics);
        }
      }
    }
  }

  // Latency under load: unary calls at `rate` per second, A B C A B C ...
  void OpenLoop(double rate, int rounds) {
    const v1::CreateMessageRequest request =
        MakeRequest("Hello! Please answer in one short sentence: what is a load generator for?");
    const std::string body = targets_->http_body(request);
    const int level = static_cast<int>(rate);
    for (int round = 0; round < rounds; ++round) {
      for (const char* scenario : {kRaw, kHttp, kFrontend}) {
        RunResult r;
        if (scenario == kHttp) {
          r = RunHttpOpenLoop(targets_->http_url, body, rate);
        } else {
          OpenLoopLoad load(scenario == kRaw ? targets_->raw : targets_->frontend, request, rate,
                            kOpenLoopMaxInFlight);
          r = load.Run();
        }
        Note(r);
        results_->Add("open_loop", scenario, level, UnaryMetrics(r));
      }
    }
  }

  void Stream(const std::vector<std::string>& scenarios, int streams, int events, int rounds) {
    // fake-anthropic echoes "Echo: " plus the prompt, one delta per word.
    const v1::CreateMessageRequest request = MakeRequest(Words(std::max(events - 1, 1)));
    for (int round = 0; round < rounds; ++round) {
      for (const std::string& scenario : RoundOrder(scenarios, round)) {
        RunConditions conditions(targets_->ServerPid(scenario), g_warmup, g_duration);
        conditions.Start();
        GrpcLoad load(targets_->For(scenario), request, true, streams);
        RunResult r = load.Run();
        Note(r);
        Metrics metrics = StreamMetrics(r);
        conditions.Finish(r.total.calls, &metrics);
        results_->Add("stream", scenario, streams, metrics);
      }
    }
  }

 private:
  void Note(const RunResult& r) {
    errors_ += r.total.errors;
    if (first_error_.empty()) first_error_ = r.total.first_error;
  }

  Targets* targets_;
  Results* results_;
  int64_t errors_ = 0;
  std::string first_error_;
};

std::vector<std::unique_ptr<v1::Messages::Stub>> Stubs(const std::string& target, int channels) {
  std::vector<std::unique_ptr<v1::Messages::Stub>> stubs;
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per channel
    args.SetInt("claude_bench.channel", i);
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
    stubs.push_back(v1::Messages::NewStub(channel));
  }
  return stubs;
}

// ---- Output --------------------------------------------------------------------------------

std::string Num(double v) { return absl::StrFormat("%.6g", v); }

std::string SummaryJson(const Summary& s) {
  return absl::StrCat(R"({"median":)", Num(s.median), R"(,"min":)", Num(s.min), R"(,"max":)",
                      Num(s.max), "}");
}

std::string ScenarioJson(const std::map<int, std::vector<Metrics>>& levels) {
  std::vector<std::string> level_parts;
  for (const auto& [level, rounds] : levels) {
    std::vector<std::string> metric_parts;
    for (const auto& [metric, value] : rounds.front()) {
      (void)value;
      std::vector<double> values;
      for (const Metrics& m : rounds) values.push_back(m.at(metric));
      metric_parts.push_back(absl::StrCat("\"", metric, "\":", SummaryJson(Summarize(values))));
    }
    level_parts.push_back(absl::StrCat("\"", level, "\":{", absl::StrJoin(metric_parts, ","), "}"));
  }
  return absl::StrCat("{", absl::StrJoin(level_parts, ","), "}");
}

std::string SuiteJson(const Results& results, const std::string& suite,
                      const std::vector<std::pair<std::string, double>>& extra) {
  std::vector<std::string> parts;
  for (const auto& [scenario, levels] : results.Suite(suite)) {
    parts.push_back(absl::StrCat("\"", scenario, "\":", ScenarioJson(levels)));
  }
  for (const auto& [key, value] : extra) parts.push_back(absl::StrCat("\"", key, "\":", Num(value)));
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string Spread(const Summary& s, const char* format) {
  return absl::StrCat(absl::StrFormat(format, s.median), " (", absl::StrFormat(format, s.min),
                      "..", absl::StrFormat(format, s.max), ")");
}

void PrintUnaryTable(const Results& results, const std::string& suite, const char* title,
                     const char* level_name = "in-fl") {
  std::printf("\n%s: median over rounds (min..max across rounds); latencies in microseconds\n", title);
  std::printf("%-12s %6s  %-28s %-26s %-26s %-26s %-26s %-26s %s\n", "scenario", level_name, "QPS", "p50",
              "mean", "p90", "p99", "max", "server switches/call");
  for (const auto& [scenario, levels] : results.Suite(suite)) {
    for (const auto& [level, rounds] : levels) {
      const bool counted = rounds.front().count("server_switches_per_call") > 0;
      std::printf("%-12s %6d  %-28s %-26s %-26s %-26s %-26s %-26s %s\n", scenario.c_str(), level,
                  Spread(results.Get(suite, scenario, level, "qps"), "%.0f").c_str(),
                  Spread(results.Get(suite, scenario, level, "p50_us"), "%.0f").c_str(),
                  Spread(results.Get(suite, scenario, level, "mean_us"), "%.0f").c_str(),
                  Spread(results.Get(suite, scenario, level, "p90_us"), "%.0f").c_str(),
                  Spread(results.Get(suite, scenario, level, "p99_us"), "%.0f").c_str(),
                  Spread(results.Get(suite, scenario, level, "max_us"), "%.0f").c_str(),
                  counted ? Spread(results.Get(suite, scenario, level, "server_switches_per_call"), "%.2f").c_str()
                          : "-");
    }
  }
}

// Over every measured run: how many saw other runnable processes (RunConditions).
struct LoadSummary {
  int runs = 0;
  int runs_flagged = 0;
  double others_max = 0;
  double loadavg_max = 0;
  std::string warning;  // "" when no run was flagged
};

LoadSummary SummarizeLoad(const Results& results) {
  LoadSummary load;
  for (const char* suite : {"unary", "stream", "latency", "quota"}) {
    if (!results.HasSuite(suite)) continue;
    for (const auto& [scenario, levels] : results.Suite(suite)) {
      for (const auto& [level, rounds] : levels) {
        for (const Metrics& m : rounds) {
          ++load.runs;
          if (m.at("others_runnable_max") > 0) ++load.runs_flagged;
          load.others_max = std::max(load.others_max, m.at("others_runnable_max"));
          load.loadavg_max = std::max(load.loadavg_max, m.at("loadavg_1m"));
        }
      }
    }
  }
  load.warning = LoadWarning(load.runs_flagged, load.runs, load.others_max, load.loadavg_max);
  return load;
}

std::string LoadJson(const LoadSummary& load) {
  return absl::StrCat(R"("load":{"runs":)", load.runs, R"(,"runs_with_others_runnable":)", load.runs_flagged,
                      R"(,"others_runnable_max":)", Num(load.others_max), R"(,"loadavg_1m_max":)",
                      Num(load.loadavg_max), R"(,"warning":")", absl::CHexEscape(load.warning), "\"}");
}

void PrintStreamTable(const Results& results, int streams) {
  std::printf("\nstream (%d streams in flight): median (min..max); times in microseconds\n", streams);
  std::printf("%-10s %-30s %-24s %-24s %-24s %-24s %s\n", "scenario", "events/s", "first-event p50",
              "first-event p99", "gap p50", "gap p99", "server switches/stream");
  for (const char* scenario : {kRaw, kFrontend, kFrontendChat, kFrontendB}) {
    if (!results.Has("stream", scenario, streams)) continue;
    const bool counted =
        results.Suite("stream").at(scenario).at(streams).front().count("server_switches_per_call") > 0;
    std::printf("%-10s %-30s %-24s %-24s %-24s %-24s %s\n", scenario,
                Spread(results.Get("stream", scenario, streams, "events_per_s"), "%.0f").c_str(),
                Spread(results.Get("stream", scenario, streams, "first_event_p50_us"), "%.0f").c_str(),
                Spread(results.Get("stream", scenario, streams, "first_event_p99_us"), "%.0f").c_str(),
                Spread(results.Get("stream", scenario, streams, "gap_p50_us"), "%.1f").c_str(),
                Spread(results.Get("stream", scenario, streams, "gap_p99_us"), "%.1f").c_str(),
                counted ? Spread(results.Get("stream", scenario, streams, "server_switches_per_call"), "%.1f").c_str()
                        : "-");
  }
}

void PrintMemory(const MemoryResult& m) {
  std::printf("\nmemory: claude-grpc-server RSS with slowly dripping streams open (a fresh server; "
              "idle baseline %lld kB after warm-up; file limit %lld)\n",
              static_cast<long long>(m.baseline_kb), static_cast<long long>(m.fd_limit));
  std::printf("%-10s %-14s %s\n", "streams", "RSS kB", "kB per stream");
  for (const MemoryLevel& l : m.levels) {
    std::printf("%-10d %-14lld %.1f\n", l.streams, static_cast<long long>(l.rss_kb), l.kb_per_stream);
  }
  if (!m.stopped_by.empty()) std::printf("stopped at %s\n", m.stopped_by.c_str());
}

void PrintSlowReader(const SlowReaderResult& s, const SlowReaderOptions& o) {
  std::printf("\nslow-reader: one %lld MiB stream read at %.1f MB/s: %.1f s, %lld events, status %s\n"
              "claude-grpc-server RSS: baseline %lld kB, peak %lld kB, growth %.2f MB\n",
              static_cast<long long>(o.megabytes), o.read_bytes_per_s / 1e6, s.seconds,
              static_cast<long long>(s.events), s.status.c_str(), static_cast<long long>(s.baseline_kb),
              static_cast<long long>(s.peak_kb), s.growth_mb);
}

std::string MemoryJson(const MemoryResult& m) {
  std::vector<std::string> levels;
  for (const MemoryLevel& l : m.levels) {
    levels.push_back(absl::StrCat(R"({"streams":)", l.streams, R"(,"rss_kb":)", l.rss_kb,
                                  R"(,"kb_per_stream":)", Num(l.kb_per_stream), "}"));
  }
  const MemoryLevel last = m.levels.empty() ? MemoryLevel{} : m.levels.back();
  return absl::StrCat(R"({"kb_per_stream":)", Num(last.kb_per_stream), R"(,"streams":)", last.streams,
                      R"(,"baseline_kb":)", m.baseline_kb, R"(,"fd_limit":)", m.fd_limit,
                      R"(,"levels":[)", absl::StrJoin(levels, ","), R"(],"stopped_by":")",
                      absl::CHexEscape(m.stopped_by), "\"}");
}

std::string SlowReaderJson(const SlowReaderResult& s, const SlowReaderOptions& o) {
  return absl::StrCat(R"({"rss_growth_mb":)", Num(s.growth_mb), R"(,"stream_mb":)", o.megabytes,
                      R"(,"read_mb_per_s":)", Num(o.read_bytes_per_s / 1e6), R"(,"baseline_kb":)",
                      s.baseline_kb, R"(,"peak_kb":)", s.peak_kb, R"(,"text_bytes":)", s.text_bytes,
                      R"(,"events":)", s.events, R"(,"seconds":)", Num(s.seconds), R"(,"status":")",
                      absl::CHexEscape(s.status), "\"}");
}

void PrintSoak(const SoakResult& s, const SoakOptions& o) {
  std::printf("\nsoak: %d streams at once for %s (+%s warm-up), cancelled at random times: %lld "
              "started, %lld completed, %lld cancelled, %lld failed\n"
              "claude-grpc-server RSS: idle %lld kB, after warm-up %lld kB, after %lld kB; fds: idle %lld, "
              "after %lld; gauges after: live transfers %.0f, paused %.0f, live streams %.0f\nsoak %s%s\n",
              o.streams, absl::FormatDuration(o.duration).c_str(), absl::FormatDuration(o.warmup).c_str(),
              static_cast<long long>(s.streams_started), static_cast<long long>(s.completed),
              static_cast<long long>(s.cancelled), static_cast<long long>(s.failed),
              static_cast<long long>(s.rss_idle_kb), static_cast<long long>(s.rss_after_warmup_kb),
              static_cast<long long>(s.rss_after_kb), static_cast<long long>(s.fds_idle),
              static_cast<long long>(s.fds_after), s.live_transfers, s.paused_transfers, s.live_streams,
              s.passed ? "passed" : "FAILED: ", s.verdict.c_str());
}

std::string SoakJson(const SoakResult& s, const SoakOptions& o) {
  return absl::StrCat(
      R"({"passed":)", s.passed ? "true" : "false", R"(,"streams":)", o.streams, R"(,"duration_s":)",
      Num(absl::ToDoubleSeconds(o.duration)), R"(,"started":)", s.streams_started, R"(,"completed":)",
      s.completed, R"(,"cancelled":)", s.cancelled, R"(,"failed":)", s.failed, R"(,"rss_idle_kb":)",
      s.rss_idle_kb, R"(,"rss_after_warmup_kb":)", s.rss_after_warmup_kb, R"(,"rss_after_kb":)",
      s.rss_after_kb, R"(,"rss_bound_mb":)", Num(o.rss_bound_mb), R"(,"fds_idle":)", s.fds_idle,
      R"(,"fds_after":)", s.fds_after, R"(,"idle_pool":)", o.max_idle_connections,
      R"(,"live_transfers":)", Num(s.live_transfers), R"(,"paused_transfers":)", Num(s.paused_transfers),
      R"(,"live_streams":)", Num(s.live_streams), R"(,"verdict":")", absl::CHexEscape(s.verdict), "\"}");
}

// --suite=batch_results: its own fresh processes, nothing else (not part of "all": its paced
// reader takes a gigabyte at 10 MB/s, nearly two minutes).
int RunBatchResults(const SuiteBinaries& binaries) {
  BatchResultsOptions options;
  options.throughput_results = absl::GetFlag(FLAGS_batch_results_count);
  options.result_bytes = absl::GetFlag(FLAGS_batch_result_bytes);
  options.megabytes = absl::GetFlag(FLAGS_batch_results_mb);
  options.read_bytes_per_s = absl::GetFlag(FLAGS_batch_results_mb_per_s) * 1e6;
  if (options.throughput_results < 1 || options.result_bytes < 1 || options.megabytes < 1 ||
      options.read_bytes_per_s <= 0) {
    std::fprintf(stderr, "claude-grpc-bench: --batch_results_count, --batch_result_bytes, --batch_results_mb "
                         "and --batch_results_mb_per_s must be positive\n");
    return 2;
  }
  absl::StatusOr<BatchResultsResult> r = RunBatchResultsSuite(binaries, options);
  if (!r.ok()) {
    std::fprintf(stderr, "claude-grpc-bench: batch_results: %s\n", r.status().ToString().c_str());
    return 1;
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("{\"batch_results\":{\"frontend_results_per_s\":%.0f,\"direct_results_per_s\":%.0f,"
                "\"paced_results\":%lld,\"paced_seconds\":%.1f,\"baseline_kb\":%lld,\"peak_kb\":%lld,"
                "\"growth_mb\":%.1f,\"status\":\"%s\"}}\n",
                r->frontend_results_per_s, r->direct_results_per_s, static_cast<long long>(r->paced_results),
                r->paced_seconds, static_cast<long long>(r->baseline_kb), static_cast<long long>(r->peak_kb),
                r->growth_mb, absl::CHexEscape(r->status).c_str());
  } else {
    std::printf("batch_results: %lld results of %d bytes: front-end %.0f results/s, direct %.0f results/s (%.2fx)\n"
                "batch_results: %lld MiB read at %.0f MB/s in %.0f s (%lld results): server RSS %lld kB -> peak "
                "%lld kB, growth %.1f MB\nbatch_results %s\n",
                static_cast<long long>(options.throughput_results), options.result_bytes,
                r->frontend_results_per_s, r->direct_results_per_s,
                r->direct_results_per_s > 0 ? r->frontend_results_per_s / r->direct_results_per_s : 0,
                static_cast<long long>(options.megabytes), options.read_bytes_per_s / 1e6, r->paced_seconds,
                static_cast<long long>(r->paced_results), static_cast<long long>(r->baseline_kb),
                static_cast<long long>(r->peak_kb), r->growth_mb, r->status.c_str());
  }
  std::fflush(stdout);
  return r->status == "OK" ? 0 : 1;
}

// --suite=soak: its own fresh processes, nothing else (not part of "all": it is a check that
// nothing leaks, run for a minute or more, not a performance figure).
int RunSoak(const SuiteBinaries& binaries) {
  SoakOptions options;
  options.streams = absl::GetFlag(FLAGS_soak_streams);
  options.rss_bound_mb = absl::GetFlag(FLAGS_soak_rss_bound_mb);
  if (!absl::ParseDuration(absl::GetFlag(FLAGS_soak_duration), &options.duration) ||
      !absl::ParseDuration(absl::GetFlag(FLAGS_soak_warmup), &options.warmup) || options.streams < 1 ||
      options.duration <= absl::ZeroDuration() || options.warmup < absl::ZeroDuration()) {
    std::fprintf(stderr, "claude-grpc-bench: --soak_streams must be positive, --soak_duration and "
                         "--soak_warmup durations like 60s\n");
    return 2;
  }
  absl::StatusOr<SoakResult> s =
      RunSoakSuite(binaries, MakeRequest("Hello! Tell me a long story."), options);
  if (!s.ok()) {
    std::fprintf(stderr, "claude-grpc-bench: soak: %s\n", s.status().ToString().c_str());
    return 1;
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("{\"soak\":%s}\n", SoakJson(*s, options).c_str());
  } else {
    PrintSoak(*s, options);
  }
  std::fflush(stdout);
  return s->passed ? 0 : 1;
}

std::vector<int> ParseLevels(const std::vector<std::string>& values, const char* flag, bool* ok) {
  std::vector<int> levels;
  for (const std::string& s : values) {
    int level = 0;
    if (!absl::SimpleAtoi(s, &level) || level < 1) {
      std::fprintf(stderr, "claude-grpc-bench: bad %s value \"%s\"\n", flag, s.c_str());
      *ok = false;
    }
    levels.push_back(level);
  }
  if (levels.empty()) *ok = false;
  std::sort(levels.begin(), levels.end());
  return levels;
}

int Run() {
  const std::string suite = absl::GetFlag(FLAGS_suite);
  const bool all = suite == "all";
  // quota is not part of "all": it needs redis-server, and the perf table does not show it.
  const std::vector<std::string> kSuites = {"unary", "stream", "latency", "open_loop", "memory", "slow_reader",
                                            "soak",  "quota", "batch_results"};
  if (!all && std::find(kSuites.begin(), kSuites.end(), suite) == kSuites.end()) {
    std::fprintf(stderr, "claude-grpc-bench: --suite must be all or one of %s\n",
                 absl::StrJoin(kSuites, ", ").c_str());
    return 2;
  }
  auto runs = [&](const char* name) { return (all && std::string(name) != "quota") || suite == name; };
  bool ok = true;
  const std::vector<int> levels = ParseLevels(absl::GetFlag(FLAGS_concurrency), "--concurrency", &ok);
  const std::vector<int> memory_levels =
      ParseLevels(absl::GetFlag(FLAGS_memory_streams), "--memory_streams", &ok);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  const int channels = absl::GetFlag(FLAGS_channels);
  const int streams = absl::GetFlag(FLAGS_streams);
  const int stream_events = absl::GetFlag(FLAGS_stream_events);
  const double rate = absl::GetFlag(FLAGS_rate);
  absl::Duration drip;
  if (!absl::ParseDuration(absl::GetFlag(FLAGS_duration), &g_duration) ||
      !absl::ParseDuration(absl::GetFlag(FLAGS_warmup), &g_warmup) ||
      !absl::ParseDuration(absl::GetFlag(FLAGS_memory_drip), &drip)) {
    std::fprintf(stderr, "claude-grpc-bench: --duration, --warmup and --memory_drip take durations "
                         "like 2s or 500ms\n");
    return 2;
  }
  SlowReaderOptions slow;
  slow.megabytes = absl::GetFlag(FLAGS_slow_reader_mb);
  slow.read_bytes_per_s = absl::GetFlag(FLAGS_slow_reader_mb_per_s) * 1e6;
  if (!ok || rounds < 1 || channels < 1 || streams < 1 || stream_events < 1 || rate <= 0 ||
      g_duration <= absl::ZeroDuration() || g_warmup < absl::ZeroDuration() ||
      drip <= absl::ZeroDuration() || slow.megabytes < 1 || slow.read_bytes_per_s <= 0) {
    std::fprintf(stderr, "claude-grpc-bench: --concurrency, --memory_streams, --rounds, --channels, "
                         "--streams, --stream_events, --rate, --duration, --memory_drip, "
                         "--slow_reader_mb and --slow_reader_mb_per_s must be positive\n");
    return 2;
  }
  const std::string upstream_api = absl::GetFlag(FLAGS_upstream_api);
  if (upstream_api != "messages" && upstream_api != "chat_completions" && upstream_api != "both") {
    std::fprintf(stderr, "claude-grpc-bench: --upstream_api must be messages, chat_completions or both\n");
    return 2;
  }
  const bool chat_only = upstream_api == "chat_completions";
  const bool both = upstream_api == "both";
  SuiteBinaries binaries;
  binaries.server = absl::GetFlag(FLAGS_server_binary);
  binaries.fake = absl::GetFlag(FLAGS_fake_binary);
  binaries.server_flags = absl::GetFlag(FLAGS_server_flags);
  if (binaries.fake.empty()) {
    std::fprintf(stderr, "claude-grpc-bench: --fake_binary is required (built without tests)\n");
    return 2;
  }
  if (suite == "soak") return RunSoak(binaries);
  if (suite == "batch_results") return RunBatchResults(binaries);

  // Children first, before any gRPC or curl thread exists (later children are started with
  // only async-signal-safe calls between fork and exec).
  const int64_t fd_limit = RaiseFileLimit();
  Child fake;
  absl::StatusOr<std::string> fake_url = StartFake(&fake, binaries.fake, {});
  if (!fake_url.ok()) {
    std::fprintf(stderr, "claude-grpc-bench: fake-anthropic: %s\n", fake_url.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> chat_flags = binaries.server_flags;
  chat_flags.push_back("--upstream_api=chat_completions");
  Child server;
  absl::StatusOr<int> server_port = StartServer(&server, binaries.server, *fake_url,
                                                chat_only ? chat_flags : binaries.server_flags);
  if (!server_port.ok()) {
    std::fprintf(stderr, "claude-grpc-bench: claude-grpc-server: %s\n",
                 server_port.status().ToString().c_str());
    return 1;
  }
  Child chat_server;  // --upstream_api=both: the second front-end
  absl::StatusOr<int> chat_port = 0;
  if (both) chat_port = StartServer(&chat_server, binaries.server, *fake_url, chat_flags);
  if (!chat_port.ok()) {
    std::fprintf(stderr, "claude-grpc-bench: claude-grpc-server (chat_completions): %s\n",
                 chat_port.status().ToString().c_str());
    return 1;
  }

  // --ab_server_flags: the B side of a same-run A/B.
  std::vector<std::string> ab_flags = binaries.server_flags;
  for (const std::string& flag : absl::GetFlag(FLAGS_ab_server_flags)) ab_flags.push_back(flag);
  const bool ab = !absl::GetFlag(FLAGS_ab_server_flags).empty();
  Child server_b;
  absl::StatusOr<int> server_b_port = 0;
  if (ab) server_b_port = StartServer(&server_b, binaries.server, *fake_url, ab_flags);
  if (!server_b_port.ok()) {
    std::fprintf(stderr, "claude-grpc-bench: claude-grpc-server (--ab_server_flags): %s\n",
                 server_b_port.status().ToString().c_str());
    return 1;
  }

  // The quota suite: redis-server, and two more servers with the same per-caller limit (high
  // enough never to refuse), counted in memory and in Redis.
  Child redis, local_quota_server, redis_quota_server;
  std::optional<int> local_quota_port, redis_quota_port;
  if (runs("quota")) {
    const int redis_port = FreeLoopbackPort();
    absl::StatusOr<std::string> ready =
        redis.Start({absl::GetFlag(FLAGS_redis_server_binary), "--port", absl::StrCat(redis_port), "--bind",
                     "127.0.0.1", "--save", "", "--appendonly", "no"},
                    "Ready to accept connections");
    if (!ready.ok()) {
      std::fprintf(stderr, "claude-grpc-bench: redis-server: %s\n", ready.status().ToString().c_str());
      return 1;
    }
    std::vector<std::string> flags = binaries.server_flags;
    flags.push_back("--caller_requests_per_minute=1000000000");
    absl::StatusOr<int> port = StartServer(&local_quota_server, binaries.server, *fake_url, flags);
    if (port.ok()) local_quota_port = *port;
    flags.push_back(absl::StrCat("--redis_url=redis://127.0.0.1:", redis_port, "/0"));
    port = port.ok() ? StartServer(&redis_quota_server, binaries.server, *fake_url, flags) : port;
    if (!port.ok()) {
      std::fprintf(stderr, "claude-grpc-bench: claude-grpc-server (quota): %s\n", port.status().ToString().c_str());
      return 1;
    }
    redis_quota_port = *port;
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  EchoService echo;
  grpc::ServerBuilder builder;
  int raw_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &raw_port);
  builder.RegisterService(&echo);
  std::unique_ptr<grpc::Server> raw_server = builder.BuildAndStart();
  if (raw_server == nullptr || raw_port == 0) {
    std::fprintf(stderr, "claude-grpc-bench: cannot start the in-process echo server\n");
    return 1;
  }

  Targets targets;
  targets.raw = Stubs(absl::StrCat("127.0.0.1:", raw_port), channels);
  targets.frontend = Stubs(absl::StrCat("127.0.0.1:", *server_port), channels);
  if (both) targets.frontend_chat = Stubs(absl::StrCat("127.0.0.1:", *chat_port), channels);
  if (ab) targets.frontend_b = Stubs(absl::StrCat("127.0.0.1:", *server_b_port), channels);
  targets.server_pids = {{kFrontend, server.pid()}, {kFrontendChat, chat_server.pid()},
                         {kFrontendB, server_b.pid()}, {kLocalQuota, local_quota_server.pid()},
                         {kRedisQuota, redis_quota_server.pid()}};
  if (chat_only) {
    targets.http_url = *fake_url + "/v1/chat/completions";
    targets.http_body = ChatCompletionsBody;
  } else {
    targets.http_url = *fake_url + "/v1/messages";
    targets.http_body = [](const v1::CreateMessageRequest& r) { return CreateMessageBody(r, false); };
  }
  if (local_quota_port) targets.local_quota = Stubs(absl::StrCat("127.0.0.1:", *local_quota_port), channels);
  if (redis_quota_port) targets.redis_quota = Stubs(absl::StrCat("127.0.0.1:", *redis_quota_port), channels);

  Results results;
  Bench bench(&targets, &results);
  std::vector<std::string> unary_scenarios = {kRaw, kHttp, kFrontend};
  if (ab) unary_scenarios.push_back(kFrontendB);
  std::vector<std::string> compared_unary = unary_scenarios;
  std::vector<std::string> compared_stream = {kRaw, kFrontend};
  if (ab) compared_stream.push_back(kFrontendB);
  if (both) {
    compared_unary.push_back(kFrontendChat);
    compared_stream.push_back(kFrontendChat);
  }
  if (runs("unary")) bench.Unary("unary", compared_unary, levels, rounds);
  if (runs("stream")) bench.Stream(compared_stream, streams, stream_events, rounds);
  if (runs("latency")) bench.Unary("latency", unary_scenarios, {1}, rounds);
  if (runs("open_loop")) bench.OpenLoop(rate, rounds);
  if (runs("quota")) bench.Unary("quota", {kLocalQuota, kRedisQuota}, {1}, rounds);

  // The memory suites use fresh processes of their own; these are done.
  raw_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  targets.raw.clear();
  targets.frontend.clear();
  targets.frontend_chat.clear();
  targets.frontend_b.clear();
  targets.local_quota.clear();
  targets.redis_quota.clear();
  redis_quota_server.Stop();
  local_quota_server.Stop();
  redis.Stop();
  server.Stop();
  if (both) chat_server.Stop();
  if (ab) server_b.Stop();
  fake.Stop();

  const v1::CreateMessageRequest memory_request = MakeRequest("Hello! Tell me a long story.");
  std::optional<MemoryResult> memory;
  std::string suite_errors;
  if (runs("memory")) {
    MemoryOptions options;
    options.levels = memory_levels;
    options.drip = drip;
    absl::StatusOr<MemoryResult> m = RunMemorySuite(binaries, memory_request, options);
    if (m.ok()) {
      memory = *m;
      if (!m->stopped_by.empty()) absl::StrAppend(&suite_errors, "memory: ", m->stopped_by, "; ");
    } else {
      absl::StrAppend(&suite_errors, "memory: ", m.status().ToString(), "; ");
    }
  }
  std::optional<SlowReaderResult> slow_reader;
  if (runs("slow_reader")) {
    absl::StatusOr<SlowReaderResult> s = RunSlowReaderSuite(binaries, memory_request, slow);
    if (s.ok()) {
      slow_reader = *s;
      if (s->status != "OK") absl::StrAppend(&suite_errors, "slow_reader: stream ended ", s->status, "; ");
    } else {
      absl::StrAppend(&suite_errors, "slow_reader: ", s.status().ToString(), "; ");
    }
  }

  // Derived numbers.
  std::vector<std::pair<std::string, double>> unary_extra;
  int ratio_level = 0;
  if (runs("unary")) {
    // At 64 in flight, or the level nearest to it.
    ratio_level = levels.front();
    for (int level : levels) {
      if (std::abs(level - 64) < std::abs(ratio_level - 64)) ratio_level = level;
    }
    const double raw = results.Get("unary", kRaw, ratio_level, "qps").median;
    const double fe = results.Get("unary", kFrontend, ratio_level, "qps").median;
    unary_extra = {{"ratio_vs_raw", raw > 0 ? fe / raw : 0}, {"ratio_in_flight", ratio_level}};
    if (both) {
      const double chat = results.Get("unary", kFrontendChat, ratio_level, "qps").median;
      unary_extra.emplace_back("chat_completions_vs_messages", fe > 0 ? chat / fe : 0);
    }
  }
  std::vector<std::pair<std::string, double>> stream_extra;
  if (runs("stream")) {
    const double raw = results.Get("stream", kRaw, streams, "events_per_s").median;
    const double fe = results.Get("stream", kFrontend, streams, "events_per_s").median;
    stream_extra = {{"ratio_vs_raw", raw > 0 ? fe / raw : 0},
                    {"streams", streams},
                    {"events_per_stream", stream_events + 5}};
    if (both) {
      const double chat = results.Get("stream", kFrontendChat, streams, "events_per_s").median;
      stream_extra.emplace_back("chat_completions_vs_messages", fe > 0 ? chat / fe : 0);
    }
  }
  std::vector<std::pair<std::string, double>> latency_extra;
  if (runs("latency")) {
    for (const char* p : {"p50", "p99"}) {
      const std::string metric = absl::StrCat(p, "_us");
      const double overhead = results.Get("latency", kFrontend, 1, metric).median -
                              (results.Get("latency", kRaw, 1, metric).median +
                               results.Get("latency", kHttp, 1, metric).median);
      latency_extra.emplace_back(absl::StrCat("overhead_", p, "_us"), overhead);
    }
    if (ab) {
      for (const char* p : {"p50", "p99", "mean"}) {
        const std::string metric = absl::StrCat(p, "_us");
        const double base = results.Get("latency", kRaw, 1, metric).median + results.Get("latency", kHttp, 1, metric).median;
        latency_extra.emplace_back(absl::StrCat("overhead_", p, "_us_a"), results.Get("latency", kFrontend, 1, metric).median - base);
        latency_extra.emplace_back(absl::StrCat("overhead_", p, "_us_b"), results.Get("latency", kFrontendB, 1, metric).median - base);
      }
    }
  }
  const LoadSummary load = SummarizeLoad(results);
  // What counting a limit in Redis adds to a call, against counting it in memory, same run.
  std::vector<std::pair<std::string, double>> quota_extra;
  if (runs("quota")) {
    for (const char* p : {"p50", "p99"}) {
      const std::string metric = absl::StrCat(p, "_us");
      quota_extra.emplace_back(absl::StrCat("redis_added_", p, "_us"),
                               results.Get("quota", kRedisQuota, 1, metric).median -
                                   results.Get("quota", kLocalQuota, 1, metric).median);
    }
  }
  const int rate_level = static_cast<int>(rate);
  std::vector<std::pair<std::string, double>> open_loop_extra;
  if (runs("open_loop")) {
    open_loop_extra.emplace_back("rate", rate);
    for (const char* p : {"p50", "p99"}) {
      const std::string metric = absl::StrCat(p, "_us");
      open_loop_extra.emplace_back(
          absl::StrCat("overhead_", p, "_us"),
          results.Get("open_loop", kFrontend, rate_level, metric).median -
              (results.Get("open_loop", kRaw, rate_level, metric).median +
               results.Get("open_loop", kHttp, rate_level, metric).median));
    }
  }

  if (absl::GetFlag(FLAGS_json)) {
    std::vector<std::string> parts;
    parts.push_back(absl::StrCat(
        R"("config":{"duration_s":)", Num(absl::ToDoubleSeconds(g_duration)),
        R"(,"warmup_s":)", Num(absl::ToDoubleSeconds(g_warmup)),
        R"(,"rounds":)", rounds, R"(,"channels":)", channels, R"(,"concurrency":[)",
        absl::StrJoin(levels, ","), R"(],"rate":)", Num(rate), R"(,"fd_limit":)", fd_limit,
        R"(,"hardware_threads":)", std::thread::hardware_concurrency(), "}"));
    if (runs("unary")) parts.push_back("\"unary\":" + SuiteJson(results, "unary", unary_extra));
    if (runs("stream")) parts.push_back("\"stream\":" + SuiteJson(results, "stream", stream_extra));
    if (runs("latency")) parts.push_back("\"latency\":" + SuiteJson(results, "latency", latency_extra));
    if (runs("open_loop")) {
      parts.push_back("\"open_loop\":" + SuiteJson(results, "open_loop", open_loop_extra));
    }
    if (runs("quota")) parts.push_back("\"quota\":" + SuiteJson(results, "quota", quota_extra));
    if (memory) parts.push_back("\"memory\":" + MemoryJson(*memory));
    if (slow_reader) parts.push_back("\"slow_reader\":" + SlowReaderJson(*slow_reader, slow));
    parts.push_back(absl::StrCat(R"("errors":)", bench.errors()));
    if (!suite_errors.empty()) {
      parts.push_back(absl::StrCat(R"("suite_errors":")", absl::CHexEscape(suite_errors), "\""));
    }
    if (ab) {
      parts.push_back(absl::StrCat(R"("ab_server_flags":")",
                                   absl::CHexEscape(absl::StrJoin(absl::GetFlag(FLAGS_ab_server_flags), ",")), "\""));
    }
    parts.push_back(LoadJson(load));
    std::printf("{%s}\n", absl::StrJoin(parts, ",").c_str());
  } else {
    std::printf("claude-grpc-bench: %d round(s), %s measured + %s warm-up each, %d channel(s), "
                "%u hardware threads\n",
                rounds, absl::FormatDuration(g_duration).c_str(),
                absl::FormatDuration(g_warmup).c_str(), channels,
                std::thread::hardware_concurrency());
    if (runs("unary")) {
      PrintUnaryTable(results, "unary", "unary (CreateMessage)");
      std::printf("front-end QPS / raw gRPC QPS at %d in flight: %.3f\n", ratio_level,
                  unary_extra.front().second);
      if (both) {
        std::printf("chat_completions front-end QPS / messages front-end QPS at %d in flight: %.3f\n",
                    ratio_level, unary_extra.back().second);
      }
    }
    if (runs("stream")) {
      PrintStreamTable(results, streams);
      std::printf("front-end events/s / raw gRPC events/s: %.3f (%d events per stream)\n",
                  stream_extra.front().second, stream_events + 5);
      if (both) {
        std::printf("chat_completions front-end events/s / messages front-end events/s: %.3f\n",
                    stream_extra.back().second);
      }
    }
    if (runs("latency")) {
      PrintUnaryTable(results, "latency", "latency (1 in flight)");
      std::printf("front-end overhead = front-end - (raw gRPC + direct HTTP): p50 %.0f us, p99 %.0f us\n",
                  latency_extra[0].second, latency_extra[1].second);
    }
    if (runs("open_loop")) {
      PrintUnaryTable(results, "open_loop", "open loop (calls started at a fixed rate)", "rate");
      std::printf("front-end overhead at %.0f calls/s: p50 %.0f us, p99 %.0f us\n", rate,
                  open_loop_extra[1].second, open_loop_extra[2].second);
    }
    if (runs("quota")) {
      PrintUnaryTable(results, "quota", "per-caller limit counted in memory / in Redis (1 in flight)");
      std::printf("added by the Redis-checked admission: p50 %.0f us, p99 %.0f us\n", quota_extra[0].second,
                  quota_extra[1].second);
    }
    if (ab && runs("latency")) {
      std::printf("A/B (frontend_b: %s): added p50 %.0f us vs %.0f us, mean %.0f us vs %.0f us (A vs B)\n",
                  absl::StrJoin(absl::GetFlag(FLAGS_ab_server_flags), ",").c_str(), latency_extra[2].second,
                  latency_extra[3].second, latency_extra[6].second, latency_extra[7].second);
    }
    if (memory) PrintMemory(*memory);
    if (slow_reader) PrintSlowReader(*slow_reader, slow);
    if (!load.warning.empty()) std::printf("\n%s\n", load.warning.c_str());
  }
  std::fflush(stdout);
  curl_global_cleanup();
  int exit_code = 0;
  if (!suite_errors.empty()) {
    std::fprintf(stderr, "claude-grpc-bench: %s\n", suite_errors.c_str());
    exit_code = 1;
  }
  if (bench.errors() > 0) {
    std::fprintf(stderr, "claude-grpc-bench: %lld failed call(s), first: %s\n",
                 static_cast<long long>(bench.errors()), bench.first_error().c_str());
    exit_code = 1;
  }
  return exit_code;
}

}  // namespace
}  // namespace bench
}  // namespace claude

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Load generator for claude-grpc: raw gRPC (in-process echo service) vs direct HTTP to "
      "fake-anthropic vs the front-end (claude-grpc-server -> fake-anthropic), and the server's "
      "memory with many open streams and with a slow reader.\n"
      "Usage: claude-grpc-bench [--suite=all|unary|stream|latency|open_loop|memory|slow_reader|soak|quota|batch_results] "
      "[--json] [--duration=2s] [--warmup=0.5s] [--rounds=3] [--concurrency=1,16,64,256] "
      "[--rate=2000] [--memory_streams=1000,5000,10000] "
      "[--upstream_api=messages|chat_completions|both]");
  claude::ShowFlagsOfFile("bench/bench_main.cc");
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  return claude::bench::Run();
}
