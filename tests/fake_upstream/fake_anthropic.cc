#include "tests/fake_upstream/fake_anthropic.h"
#include "tests/fake_upstream/fake_batches.h"

#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/civil_time.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "claude/v1/messages.pb.h"
#include "common/codec/json_mapping.h"
#include "service/upstream/url_escape.h"
#include "service/upstream/sigv4_signer.h"
#include "tests/fake_upstream/aws_event_stream_encoder.h"
#include "tests/fake_upstream/echo_words.h"
#include "tests/fake_upstream/fake_chat_completions.h"

namespace claude {
namespace testing {
namespace {

constexpr char kModelId[] = "claude-fake-1";
constexpr char kModelJson[] =
    R"({"type":"model","id":"claude-fake-1","display_name":"Claude Fake",)"
    R"("created_at":"2025-01-01T00:00:00Z"})";

// A delay longer than this is clamped, so libevent's deadline arithmetic cannot overflow.
constexpr absl::Duration kMaxDelay = absl::Hours(24 * 365);

int TextWords(const v1::MessageParam& message) {
  if (message.has_content_blocks()) {
    int words = 0;
    for (const v1::ContentBlock& block : message.content_blocks().blocks()) {
      if (block.has_text()) words += CountWords(block.text().text());
    }
    return words;
  }
  return CountWords(message.content_text());
}

// Words in the system prompt and in the text of every message.
int RequestWords(const v1::CreateMessageRequest& request) {
  int words = CountWords(request.system_text());
  for (const v1::TextBlock& block : request.system_blocks().blocks()) {
    words += CountWords(block.text());
  }
  for (const v1::MessageParam& message : request.messages()) words += TextWords(message);
  return words;
}

// The text of the last user message: its string content, or its text blocks concatenated.
std::string LastUserText(const v1::CreateMessageRequest& request) {
  for (int i = request.messages_size() - 1; i >= 0; --i) {
    const v1::MessageParam& message = request.messages(i);
    if (message.role() != v1::ROLE_USER) continue;
    if (!message.has_content_blocks()) return message.content_text();
    std::string text;
    for (const v1::ContentBlock& block : message.content_blocks().blocks()) {
      if (block.has_text()) text += block.text().text();
    }
    return text;
  }
  return std::string();
}

// The Message object; `text` null means empty content and a null stop_reason (message_start).
void AppendMessageJson(int n, const std::string& model, const std::string* text, int input_tokens,
                       int output_tokens, std::string* out) {
  absl::StrAppend(out, R"({"id":"msg_fake_)", n, R"(","type":"message","role":"assistant","model":)");
  AppendJsonString(model, out);
  if (text == nullptr) {
    out->append(R"(,"content":[],"stop_reason":null)");
  } else {
    out->append(R"(,"content":[{"type":"text","text":)");
    AppendJsonString(*text, out);
    out->append(R"(}],"stop_reason":"end_turn")");
  }
  absl::StrAppend(out, R"(,"stop_sequence":null,"usage":{"input_tokens":)", input_tokens,
                  R"(,"output_tokens":)", output_tokens, "}}");
}

void AppendSseEvent(absl::string_view type, absl::string_view data, std::string* out) {
  absl::StrAppend(out, "event: ", type, "\ndata: ", data, "\n\n");
}

// The echo stream's events, in order: (event type, JSON data).
std::vector<std::pair<absl::string_view, std::string>> EchoEvents(int n, const std::string& model,
                                                                   const std::string& text,
                                                                   int input_tokens) {
  std::vector<absl::string_view> pieces = WordPieces(text);
  std::vector<std::pair<absl::string_view, std::string>> events;
  events.reserve(pieces.size() + 5);
  std::string data = R"({"type":"message_start","message":)";
  AppendMessageJson(n, model, nullptr, input_tokens, 1, &data);
  data += "}";
  events.emplace_back("message_start", std::move(data));
  events.emplace_back("content_block_start",
                      R"({"type":"content_block_start","index":0,)"
                      R"("content_block":{"type":"text","text":""}})");
  for (absl::string_view piece : pieces) {
    data.assign(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":)");
    AppendJsonString(piece, &data);
    data += "}}";
    events.emplace_back("content_block_delta", std::move(data));
  }
  events.emplace_back("content_block_stop", R"({"type":"content_block_stop","index":0})");
  events.emplace_back("message_delta",
                      absl::StrCat(R"({"type":"message_delta","delta":{"stop_reason":"end_turn",)",
                                   R"("stop_sequence":null},"usage":{"output_tokens":)",
                                   pieces.size(), "}}"));
  events.emplace_back("message_stop", R"({"type":"message_stop"})");
  return events;
}

std::string EchoSse(int n, const std::string& model, const std::string& text, int input_tokens) {
  std::string out;
  out.reserve(600 + text.size() * 30);
  for (const auto& [type, data] : EchoEvents(n, model, text, input_tokens)) {
    AppendSseEvent(type, data, &out);
  }
  return out;
}

// The same events as Bedrock's InvokeModelWithResponseStream frames them.
std::string EchoEventStream(int n, const std::string& model, const std::string& text,
                            int input_tokens) {
  std::string out;
  for (const auto& [type, data] : EchoEvents(n, model, text, input_tokens)) {
    out += BedrockChunkFrame(data);
  }
  return out;
}

// Google's error shape, as Vertex AI answers.
std::string GoogleErrorBody(int code, absl::string_view status, absl::string_view message) {
  std::string out = absl::StrCat(R"({"error":{"code":)", code, R"(,"message":)");
  AppendJsonString(message, &out);
  out += R"(,"status":)";
  AppendJsonString(status, &out);
  out += "}}";
  return out;
}

// Bedrock's error body; the exception's name goes in x-amzn-errortype.
std::string AwsErrorBody(absl::string_view message) {
  std::string out = R"({"message":)";
  AppendJsonString(message, &out);
  out += "}";
  return out;
}

// A string member of the request's extra_fields (anthropic_version), "" when absent.
std::string ExtraString(const v1::CreateMessageRequest& request, const std::string& name) {
  if (!request.has_extra_fields()) return "";
  const auto& fields = request.extra_fields().fields();
  const auto it = fields.find(name);
  return it != fields.end() && it->second.has_string_value() ? it->second.string_value() : "";
}

bool HasExtra(const v1::CreateMessageRequest& request, const std::string& name) {
  return request.has_extra_fields() && request.extra_fields().fields().contains(name);
}

// Why the request's SigV4 signature does not hold for `credentials`; "" when it does.
std::string SigV4Problem(const RecordedRequest& request, const FakeCloudCredentials& credentials) {
  const std::string* authorization = FindHeader(request.headers, "authorization");
  const std::string* date = FindHeader(request.headers, "x-amz-date");
  const std::string* host = FindHeader(request.headers, "host");
  if (authorization == nullptr || date == nullptr || host == nullptr) {
    return "missing authorization, x-amz-date or host";
  }
  // AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=..
  absl::string_view signed_names;
  for (absl::string_view part : absl::StrSplit(*authorization, absl::ByAnyChar(" ,"), absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&part, "SignedHeaders=")) signed_names = part;
  }
  const std::string scope_prefix = absl::StrCat(" Credential=", credentials.aws_access_key_id, "/",
                                                date->substr(0, 8), "/", credentials.aws_region,
                                                "/bedrock/aws4_request,");
  if (!absl::StrContains(*authorization, scope_prefix)) return "wrong key id or credential scope";
  // YYYYMMDDTHHMMSSZ (absl::ParseTime's %Y would read every digit).
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (date->size() != 16 || (*date)[8] != 'T' || (*date)[15] != 'Z' ||
      !absl::SimpleAtoi(date->substr(0, 4), &year) || !absl::SimpleAtoi(date->substr(4, 2), &month) ||
      !absl::SimpleAtoi(date->substr(6, 2), &day) || !absl::SimpleAtoi(date->substr(9, 2), &hour) ||
      !absl::SimpleAtoi(date->substr(11, 2), &minute) || !absl::SimpleAtoi(date->substr(13, 2), &second)) {
    return "bad x-amz-date";
  }
  const absl::Time now = absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                                         absl::UTCTimeZone());
  HttpHeaders signed_headers;
  AwsCredentials secret{credentials.aws_access_key_id, credentials.aws_secret_access_key, ""};
  for (absl::string_view name : absl::StrSplit(signed_names, ';')) {
    const std::string* value = FindHeader(request.headers, name);
    if (value == nullptr) return absl::StrCat("signed header ", name, " not sent");
    if (name == "host" || name == "x-amz-date") continue;  // SignSigV4 adds them
    if (name == "x-amz-security-token") {
      secret.session_token = *value;
      continue;
    }
    signed_headers.emplace_back(std::string(name), *value);
  }
  const std::string* body_digest = FindHeader(request.headers, "x-amz-content-sha256");
  if (body_digest != nullptr && *body_digest != HexSha256(request.body)) {
    return "x-amz-content-sha256 does not match the body";
  }
  const std::string url = absl::StrCat("http://", *host, request.path);
  SigV4Request sign{request.method, url, &signed_headers, request.body};
  absl::StatusOr<SigV4Signature> expected =
      SignSigV4(sign, secret, SigV4Options{credentials.aws_region, "bedrock", false}, now);
  if (!expected.ok()) return std::string(expected.status().message());
  const std::string* want = FindHeader(expected->headers, "authorization");
  if (want == nullptr || *want != *authorization) return "signature mismatch";
  return "";
}

const char* MethodName(evhttp_cmd_type type) {
  switch (type) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
  }
  return "UNKNOWN";
}

// Lets evhttp see the client close the connection while the fake is not writing (waiting before
// the head, or never replying): evhttp stops reading once a request is complete, so a close
// would go unnoticed until the next write. Reading is turned back on with no read callback,
// exactly as evhttp itself does while it writes a reply, so EOF reaches evhttp's error
// callback, which frees the connection and calls our close callback.
void WatchForClose(evhttp_connection* evcon) {
  bufferevent* bev = evhttp_connection_get_bufferevent(evcon);
  bufferevent_data_cb read_cb = nullptr;
  bufferevent_data_cb write_cb = nullptr;
  bufferevent_event_cb event_cb = nullptr;
  void* arg = nullptr;
  bufferevent_getcb(bev, &read_cb, &write_cb, &event_cb, &arg);
  bufferevent_setcb(bev, nullptr, write_cb, event_cb, arg);
  bufferevent_enable(bev, EV_READ);
}

std::once_flag evthread_once;

}  // namespace

std::string ApiErrorBody(absl::string_view type, absl::string_view message, int n) {
  std::string out = R"({"type":"error","error":{"type":)";
  AppendJsonString(type, &out);
  out += R"(,"message":)";
  AppendJsonString(message, &out);
  absl::StrAppend(&out, R"(},"request_id":"req_fake_)", n, "\"}");
  return out;
}

std::string EchoMessageJson(int n, const v1::CreateMessageRequest& request) {
  const std::string text = "Echo: " + LastUserText(request);
  std::string json;
  AppendMessageJson(n, request.model(), &text, RequestWords(request), static_cast<int>(WordPieces(text).size()),
                    &json);
  return json;
}

std::string LastUserTextOf(const v1::CreateMessageRequest& request) { return LastUserText(request); }

FakeReply SseReply(std::string sse_body, size_t chunk_size, absl::Duration between) {
  FakeReply reply;
  reply.headers = {{"content-type", "text/event-stream"}};
  if (chunk_size == 0 || sse_body.size() <= chunk_size) {
    reply.chunks.push_back(std::move(sse_body));
  } else {
    for (size_t at = 0; at < sse_body.size(); at += chunk_size) {
      reply.chunks.push_back(sse_body.substr(at, chunk_size));
    }
  }
  reply.delay_between_chunks = between;
  return reply;
}

FakeReply GeneratedSseReply(int64_t deltas, size_t delta_bytes, absl::Duration between) {
  FakeReply reply;
  reply.headers = {{"content-type", "text/event-stream"}};
  reply.delay_between_chunks = between;
  // Words of five letters and a space, cut to delta_bytes: plain ASCII, so no JSON escaping.
  std::string text;
  for (size_t i = 0; i < delta_bytes; ++i) text += (i % 6 == 5) ? ' ' : static_cast<char>('a' + i % 6);
  std::string delta;
  AppendSseEvent("content_block_delta",
                 absl::StrCat(R"({"type":"content_block_delta","index":0,)",
                              R"("delta":{"type":"text_delta","text":")", text, R"("}})"),
                 &delta);
  // Shared by the copies of the generator a default reply makes for each request.
  auto delta_event = std::make_shared<const std::string>(std::move(delta));
  int64_t next = 0;  // 0, 1: the head events; 2 .. deltas+1: deltas; then three closing events
  reply.generator = [deltas, delta_event, next](std::string* piece) mutable {
    const int64_t i = next++;
    if (i == 0) {
      std::string data = R"({"type":"message_start","message":)";
      AppendMessageJson(1, "claude-fake-1", nullptr, 1, 1, &data);
      data += "}";
      AppendSseEvent("message_start", data, piece);
    } else if (i == 1) {
      AppendSseEvent("content_block_start",
                     R"({"type":"content_block_start","index":0,)"
                     R"("content_block":{"type":"text","text":""}})",
                     piece);
    } else if (i < deltas + 2) {
      *piece = *delta_event;
    } else if (i == deltas + 2) {
      AppendSseEvent("content_block_stop", R"({"type":"content_block_stop","index":0})", piece);
    } else if (i == deltas + 3) {
      AppendSseEvent("message_delta",
                     absl::StrCat(R"({"type":"message_delta","delta":{"stop_reason":"end_turn",)",
                                  R"("stop_sequence":null},"usage":{"output_tokens":)", deltas, "}}"),
                     piece);
    } else if (i == deltas + 4) {
      AppendSseEvent("message_stop", R"({"type":"message_stop"})", piece);
    } else {
      return false;
    }
    return true;
  };
  return reply;
}

FakeReply HungReply() {
  FakeReply reply;
  reply.never_reply = true;
  return reply;
}

FakeReply JsonReply(int status, std::string json, HttpHeaders extra_headers) {
  FakeReply reply;
  reply.status = status;
  reply.headers = {{"content-type", "application/json"}};
  for (auto& header : extra_headers) reply.headers.push_back(std::move(header));
  reply.chunks.push_back(std::move(json));
  return reply;
}

class FakeAnthropic::Impl {
 public:
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl();

  absl::Status Init(const std::string& host, int port);

  int port() const { return port_; }
  const std::string& host() const { return host_; }

  void SetCloudCredentials(FakeCloudCredentials credentials) {
    std::lock_guard<std::mutex> lock(mu_);
    cloud_ = std::move(credentials);
  }
  void Enqueue(FakeReply reply) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(reply));
  }
  void SetDefaultReply(std::optional<FakeReply> reply) {
    std::lock_guard<std::mutex> lock(mu_);
    default_reply_ = std::move(reply);
  }
  void set_chat_completions_models(bool chat) {
    std::lock_guard<std::mutex> lock(mu_);
    chat_completions_models_ = chat;
  }
  void set_record_requests(bool record) {
    std::lock_guard<std::mutex> lock(mu_);
    record_ = record;
  }
  std::vector<RecordedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int request_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return request_count_;
  }
  int disconnects() const {
    std::lock_guard<std::mutex> lock(mu_);
    return disconnects_;
  }
  int active_replies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return active_;
  }
  bool WaitForCount(const int* counter, int n, absl::Duration timeout) const {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(std::min(timeout, kMaxDelay)),
                             [counter, n] { return *counter >= n; });
  }
  const int* request_counter() const { return &request_count_; }
  FakeBatches& batches() { return batches_; }
  std::string base_url() const {
    if (absl::StrContains(host_, ':')) return absl::StrCat("http://[", host_, "]:", port_);
    return absl::StrCat("http://", host_, ":", port_);
  }
  const int* disconnect_counter() const { return &disconnects_; }

 private:
  enum class Wait { kHead, kChunk, kDrop };

  // One scripted reply in progress. Owned by states_; lives on the server thread only.
  struct ReplyState {
    ReplyState(Impl* i, evhttp_request* r, FakeReply f) : impl(i), req(r), reply(std::move(f)) {}
    ReplyState(const ReplyState&) = delete;
    ReplyState& operator=(const ReplyState&) = delete;
    ~ReplyState() {
      if (timer != nullptr) event_free(timer);
      if (buf != nullptr) evbuffer_free(buf);
    }

    Impl* impl;
    evhttp_request* req;
    FakeReply reply;
    size_t next_chunk = 0;
    std::string pending;  // the next piece, fetched before a delay to know whether one comes
    Wait wait = Wait::kHead;
    event* timer = nullptr;
    evbuffer* buf = nullptr;
  };

  // Server-thread entry point: runs the loop, then closes everything.
  void Run();

  static void OnRequestCb(evhttp_request* req, void* arg) {
    static_cast<Impl*>(arg)->OnRequest(req);
  }
  static void OnStopCb(evutil_socket_t, short, void* arg) {
    event_base_loopbreak(static_cast<Impl*>(arg)->base_);
  }
  static void OnTimerCb(evutil_socket_t, short, void* arg);
  static void OnChunkWrittenCb(evhttp_connection*, void* arg);
  static void OnCloseCb(evhttp_connection*, void* arg);

  void OnRequest(evhttp_request* req);

  // Scripted replies.
  void StartScripted(evhttp_request* req, FakeReply reply);
  void SendHead(ReplyState* s);
  bool NextPiece(ReplyState* s);
  void WritePending(ReplyState* s);
  void EndBody(ReplyState* s);
  void DropWhenFlushed(ReplyState* s);
  void Arm(ReplyState* s, Wait wait, absl::Duration delay);
  // Forgets `s` (deleting it): the reply is complete, or the fake drops the connection.
  void Finish(ReplyState* s);

  // Echo mode.
  void Echo(evhttp_request* req, int n, const RecordedRequest& request);
  void EchoMessages(evhttp_request* req, int n, const std::string& body, bool count_tokens);
  // How an echo reply is sent: one JSON Message, SSE, or Bedrock's event-stream frames.
  enum class Framing { kJson, kSse, kEventStream };
  // The echo of `request`'s last user text as `model`.
  void SendEchoReply(evhttp_request* req, int n, const std::string& model,
                     const v1::CreateMessageRequest& request, Framing framing);
  // Vertex AI: `target` is "MODEL:METHOD" after .../publishers/anthropic/models/.
  void EchoVertex(evhttp_request* req, int n, const RecordedRequest& request, absl::string_view target);
  // Bedrock: `target` is "MODEL/invoke[-with-response-stream]" after /model/.
  void EchoBedrock(evhttp_request* req, int n, const RecordedRequest& request, absl::string_view target);
  void SendEcho(evhttp_request* req, int status, const char* content_type,
                const std::string& body, int n, const HttpHeaders& extra = {});

  std::string host_;
  int port_ = 0;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  event* stop_event_ = nullptr;
  std::thread thread_;

  // Server thread only.
  absl::flat_hash_map<ReplyState*, std::unique_ptr<ReplyState>> states_;
  bool shutting_down_ = false;

  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with ThreadSanitizer
  // annotations, so TSan builds would not see absl::Mutex synchronize.
  FakeBatches batches_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;  // request_count_ or disconnects_ grew
  // Guarded by mu_.
  std::deque<FakeReply> queue_;
  std::optional<FakeReply> default_reply_;
  FakeCloudCredentials cloud_;
  bool record_ = true;
  bool chat_completions_models_ = false;  // GET /v1/models in OpenAI's shape
  std::vector<RecordedRequest> requests_;
  int request_count_ = 0;
  int disconnects_ = 0;
  int active_ = 0;
};

absl::Status FakeAnthropic::Impl::Init(const std::string& host, int port) {
  if (port < 0 || port > 65535) return absl::InvalidArgumentError(absl::StrCat("bad port ", port));
  // Lets the destructor wake the loop from another thread.
  std::call_once(evthread_once, [] { evthread_use_pthreads(); });
  host_ = host;
  base_ = event_base_new();
  if (base_ == nullptr) return absl::InternalError("event_base_new failed");
  http_ = evhttp_new(base_);
  if (http_ == nullptr) return absl::InternalError("evhttp_new failed");
  evhttp_set_gencb(http_, &Impl::OnRequestCb, this);
  evhttp_set_default_content_type(http_, nullptr);  // scripted replies carry only their headers
  evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                        EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
  stop_event_ = event_new(base_, -1, 0, &Impl::OnStopCb, this);
  if (stop_event_ == nullptr) return absl::InternalError("event_new failed");

  // The listening socket is made here rather than by evhttp_bind_socket, for a long backlog:
  // hundreds of clients may connect at once.
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addrs = nullptr;
  const std::string port_text = absl::StrCat(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints,
                           &addrs);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve ", host, ": ", gai_strerror(rc)));
  }
  int fd = -1;
  std::string error = "no address";
  for (addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 1024) == 0) break;
    error = std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(addrs);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", host, ":", port, ": ", error));
  }
  sockaddr_storage addr;
  socklen_t addr_len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) {
    error = std::strerror(errno);
    close(fd);
    return absl::InternalError(absl::StrCat("getsockname: ", error));
  }
  port_ = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  // On failure libevent has already closed the socket.
  if (evhttp_accept_socket_with_handle(http_, fd) == nullptr) {
    return absl::InternalError("evhttp_accept_socket_with_handle failed");
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

FakeAnthropic::Impl::~Impl() {
  if (thread_.joinable()) {
    event_active(stop_event_, EV_TIMEOUT, 0);
    thread_.join();
  }
  if (http_ != nullptr) evhttp_free(http_);
  if (stop_event_ != nullptr) event_free(stop_event_);
  if (base_ != nullptr) event_base_free(base_);
}

void FakeAnthropic::Impl::Run() {
  // A write to a connection the client has closed raises SIGPIPE. Blocked in this thread only,
  // the signal stays pending here and the write just fails with EPIPE, without changing the
  // process's signal handling.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);

  event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);

  // Freeing the server frees every connection; the close callbacks of replies in progress see
  // shutting_down_ and do not count disconnects. Requests still on a connection are freed by
  // libevent with it.
  shutting_down_ = true;
  evhttp_free(http_);
  http_ = nullptr;
  states_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  active_ = 0;
}

void FakeAnthropic::Impl::OnRequest(evhttp_request* req) {
  RecordedRequest request;
  request.method = MethodName(evhttp_request_get_command(req));
  request.path = evhttp_request_get_uri(req);
  const evkeyvalq* headers = evhttp_request_get_input_headers(req);
  for (const evkeyval* h = headers->tqh_first; h != nullptr; h = h->next.tqe_next) {
    request.headers.emplace_back(absl::AsciiStrToLower(h->key), h->value);
  }
  evbuffer* input = evhttp_request_get_input_buffer(req);
  request.body.resize(evbuffer_get_length(input));
  if (!request.body.empty()) evbuffer_copyout(input, &request.body[0], request.body.size());

  std::optional<FakeReply> scripted;
  int n = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n = ++request_count_;
    if (record_) requests_.push_back(request);
    if (!queue_.empty()) {
      scripted = std::move(queue_.front());
      queue_.pop_front();
    } else if (default_reply_.has_value()) {
      scripted = *default_reply_;
    }
  }
  // The batches API answers as a scripted reply would (its results are a lazy generator).
  if (!scripted.has_value()) scripted = batches_.Handle(request, n, base_url());
  if (scripted.has_value()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++active_;
  }
  changed_.notify_all();
  if (scripted.has_value()) {
    StartScripted(req, *std::move(scripted));
  } else {
    Echo(req, n, request);
  }
}

// ---- Scripted replies -----------------------------------------------------------------------

void FakeAnthropic::Impl::StartScripted(evhttp_request* req, FakeReply reply) {
  auto owned = std::make_unique<ReplyState>(this, req, std::move(reply));
  ReplyState* s = owned.get();
  states_.emplace(s, std::move(owned));
  evhttp_connection* evcon = evhttp_request_get_connection(req);
  evhttp_connection_set_closecb(evcon, &Impl::OnCloseCb, s);
  if (s->reply.never_reply) {
    WatchForClose(evcon);
    return;
  }
  if (s->reply.delay_before_head > absl::ZeroDuration()) {
    WatchForClose(evcon);
    Arm(s, Wait::kHead, s->reply.delay_before_head);
    return;
  }
  SendHead(s);
}

void FakeAnthropic::Impl::SendHead(ReplyState* s) {
  evhttp_request* req = s->req;
  const FakeReply& reply = s->reply;
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  for (const auto& [name, value] : reply.headers) {
    evhttp_add_header(out, name.c_str(), value.c_str());
  }
  const bool bodyless = reply.status < 200 || reply.status == 204 || reply.status == 304 ||
                        evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
  const bool streamed =
      !bodyless && (reply.generator || reply.chunks.size() > 1 || reply.close_mid_body);
  if (!streamed) {
    const int status = reply.status;
    evbuffer* body = evhttp_request_get_output_buffer(req);
    for (const std::string& chunk : reply.chunks) evbuffer_add(body, chunk.data(), chunk.size());
    Finish(s);
    evhttp_send_reply(req, status, nullptr, nullptr);
    return;
  }
  s->buf = evbuffer_new();
  evhttp_send_reply_start(req, reply.status, nullptr);
  if (NextPiece(s)) {
    WritePending(s);
  } else {
    EndBody(s);
  }
}

bool FakeAnthropic::Impl::NextPiece(ReplyState* s) {
  FakeReply& reply = s->reply;
  s->pending.clear();
  if (reply.generator) {
    while (reply.generator(&s->pending)) {
      if (!s->pending.empty()) return true;
    }
    s->pending.clear();
    return false;
  }
  while (s->next_chunk < reply.chunks.size()) {
    std::string& chunk = reply.chunks[s->next_chunk++];
    if (!chunk.empty()) {
      s->pending = std::move(chunk);
      return true;
    }
  }
  return false;
}

void FakeAnthropic::Impl::WritePending(ReplyState* s) {
  evbuffer_add(s->buf, s->pending.data(), s->pending.size());
  s->pending.clear();
  // OnChunkWrittenCb runs once the output buffer has drained into the socket.
  evhttp_send_reply_chunk_with_cb(s->req, s->buf, &Impl::OnChunkWrittenCb, s);
}

void FakeAnthropic::Impl::OnChunkWrittenCb(evhttp_connection*, void* arg) {
  auto* s = static_cast<ReplyState*>(arg);
  Impl* impl = s->impl;
  if (!impl->NextPiece(s)) {
    impl->EndBody(s);
  } else if (s->reply.delay_between_chunks > absl::ZeroDuration()) {
    impl->Arm(s, Wait::kChunk, s->reply.delay_between_chunks);
  } else {
    impl->WritePending(s);
  }
}

void FakeAnthropic::Impl::EndBody(ReplyState* s) {
  if (s->reply.close_mid_body) {
    DropWhenFlushed(s);
    return;
  }
  evhttp_request* req = s->req;
  Finish(s);
  evhttp_send_reply_end(req);
}

void FakeAnthropic::Impl::DropWhenFlushed(ReplyState* s) {
  evhttp_connection* evcon = evhttp_request_get_connection(s->req);
  bufferevent* bev = evhttp_connection_get_bufferevent(evcon);
  if (evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
    // Only the head is left to write (a close_mid_body reply without body pieces); poll.
    Arm(s, Wait::kDrop, absl::Milliseconds(1));
    return;
  }
  Finish(s);
  // Frees the request with the connection; the client sees the body end early.
  evhttp_connection_free(evcon);
}

void FakeAnthropic::Impl::Arm(ReplyState* s, Wait wait, absl::Duration delay) {
  if (s->timer == nullptr) s->timer = evtimer_new(base_, &Impl::OnTimerCb, s);
  s->wait = wait;
  timeval tv = absl::ToTimeval(std::min(delay, kMaxDelay));
  evtimer_add(s->timer, &tv);
}

void FakeAnthropic::Impl::OnTimerCb(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<ReplyState*>(arg);
  switch (s->wait) {
    case Wait::kHead:
      s->impl->SendHead(s);
      break;
    case Wait::kChunk:
      s->impl->WritePending(s);
      break;
    case Wait::kDrop:
      s->impl->DropWhenFlushed(s);
      break;
  }
}

void FakeAnthropic::Impl::Finish(ReplyState* s) {
  evhttp_connection* evcon = evhttp_request_get_connection(s->req);
  if (evcon != nullptr) evhttp_connection_set_closecb(evcon, nullptr, nullptr);
  states_.erase(s);
  std::lock_guard<std::mutex> lock(mu_);
  --active_;
}

// The connection of a reply in progress is being freed: the client closed it (or a write
// failed), or the server is shutting down.
void FakeAnthropic::Impl::OnCloseCb(evhttp_connection*, void* arg) {
  auto* s = static_cast<ReplyState*>(arg);
  Impl* impl = s->impl;
  // On a client close evhttp detaches the unfinished request from the connection and leaves it
  // to us; otherwise it is freed with the connection.
  if (evhttp_request_get_connection(s->req) == nullptr) evhttp_request_free(s->req);
  const bool counts = !impl->shutting_down_;
  impl->states_.erase(s);
  {
    std::lock_guard<std::mutex> lock(impl->mu_);
    --impl->active_;
    if (counts) ++impl->disconnects_;
  }
  impl->changed_.notify_all();
}

// ---- Echo mode ------------------------------------------------------------------------------

void FakeAnthropic::Impl::Echo(evhttp_request* req, int n, const RecordedRequest& request) {
  absl::string_view route = request.path;
  route = route.substr(0, route.find('?'));
  const std::string& method = request.method;
  constexpr absl::string_view kVertexModels = "/publishers/anthropic/models/";
  bool chat_models = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    chat_models = chat_completions_models_;
  }
  if (method == "POST" && route == "/v1/chat/completions") {
    const EchoAnswer answer = ChatCompletionsEcho(request.body, n);
    SendEcho(req, answer.status, answer.content_type.c_str(), answer.body, n);
  } else if (method == "GET" && chat_models && absl::StartsWith(route, "/v1/models")) {
    absl::string_view id = route.substr(std::strlen("/v1/models"));
    if (!id.empty() && id[0] != '/') id = "?";  // neither the list nor a model: not found
    const EchoAnswer answer = ChatModelsEcho(absl::StripPrefix(id, "/"));
    SendEcho(req, answer.status, answer.content_type.c_str(), answer.body, n);
  } else if (method == "POST" && absl::StartsWith(route, "/v1/projects/") &&
      absl::StrContains(route, kVertexModels)) {
    EchoVertex(req, n, request, route.substr(route.find(kVertexModels) + kVertexModels.size()));
  } else if (method == "POST" && absl::StartsWith(route, "/model/")) {
    EchoBedrock(req, n, request, route.substr(std::strlen("/model/")));
  } else if (method == "POST" && route == "/v1/messages") {
    EchoMessages(req, n, request.body, /*count_tokens=*/false);
  } else if (method == "POST" && route == "/v1/messages/count_tokens") {
    EchoMessages(req, n, request.body, /*count_tokens=*/true);
  } else if (method == "GET" && route == "/v1/models") {
    SendEcho(req, 200, "application/json",
             absl::StrCat(R"({"data":[)", kModelJson, R"(],"has_more":false,"first_id":")",
                          kModelId, R"(","last_id":")", kModelId, R"("})"),
             n);
  } else if (method == "GET" && absl::StartsWith(route, "/v1/models/")) {
    absl::string_view id = route.substr(std::strlen("/v1/models/"));
    if (id == kModelId) {
      SendEcho(req, 200, "application/json", kModelJson, n);
    } else {
      SendEcho(req, 404, "application/json",
               ApiErrorBody("not_found_error", absl::StrCat("model: ", id), n), n);
    }
  } else {
    SendEcho(req, 404, "application/json",
             ApiErrorBody("not_found_error", absl::StrCat("Not found: ", method, " ", route), n), n);
  }
}

void FakeAnthropic::Impl::EchoMessages(evhttp_request* req, int n, const std::string& body,
                                       bool count_tokens) {
  v1::CreateMessageRequest request;
  if (absl::Status status = JsonToMessage(body, &request); !status.ok()) {
    SendEcho(req, 400, "application/json",
             ApiErrorBody("invalid_request_error", status.message(), n), n);
    return;
  }
  if (count_tokens) {
    SendEcho(req, 200, "application/json",
             absl::StrCat(R"({"input_tokens":)", RequestWords(request), "}"), n);
    return;
  }
  // "stream" is not modelled, so JsonToMessage keeps it in extra_fields. (has_extra_fields()
  // first: the map of the default Struct instance is not even read, which crashes under TSan
  // with Debian's uninstrumented libprotobuf.)
  bool stream = false;
  if (request.has_extra_fields()) {
    const auto& extra = request.extra_fields().fields();
    auto it = extra.find("stream");
    stream = it != extra.end() &&
             it->second.kind_case() == google::protobuf::Value::kBoolValue &&
             it->second.bool_value();
  }
  SendEchoReply(req, n, request.model(), request, stream ? Framing::kSse : Framing::kJson);
}

void FakeAnthropic::Impl::SendEchoReply(evhttp_request* req, int n, const std::string& model,
                                        const v1::CreateMessageRequest& request, Framing framing) {
  const int input_tokens = RequestWords(request);
  const std::string text = "Echo: " + LastUserText(request);
  switch (framing) {
    case Framing::kSse:
      SendEcho(req, 200, "text/event-stream", EchoSse(n, model, text, input_tokens), n);
      return;
    case Framing::kEventStream:
      SendEcho(req, 200, "application/vnd.amazon.eventstream",
               EchoEventStream(n, model, text, input_tokens), n);
      return;
    case Framing::kJson:
      break;
  }
  std::string json;
  AppendMessageJson(n, model, &text, input_tokens, static_cast<int>(WordPieces(text).size()), &json);
  SendEcho(req, 200, "application/json", json, n);
}

void FakeAnthropic::Impl::EchoVertex(evhttp_request* req, int n, const RecordedRequest& request,
                                     absl::string_view target) {
  FakeCloudCredentials cloud;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cloud = cloud_;
  }
  if (!cloud.google_token.empty()) {
    const std::string* authorization = FindHeader(request.headers, "authorization");
    if (authorization == nullptr || *authorization != "Bearer " + cloud.google_token) {
      SendEcho(req, 401, "application/json",
               GoogleErrorBody(401, "UNAUTHENTICATED",
                               "Request had invalid authentication credentials."),
               n);
      return;
    }
  }
  const size_t colon = target.rfind(':');
  const std::string model = UrlUnescape(target.substr(0, colon));
  const absl::string_view method = colon == absl::string_view::npos ? "" : target.substr(colon + 1);
  v1::CreateMessageRequest parsed;
  std::string problem;
  if (absl::Status s = JsonToMessage(request.body, &parsed); !s.ok()) {
    problem = std::string(s.message());
  } else if (ExtraString(parsed, "anthropic_version") != "vertex-2023-10-16") {
    problem = "anthropic_version must be vertex-2023-10-16";
  } else if (model != "count-tokens" && !parsed.model().empty()) {
    problem = "model belongs in the URL";
  } else if (method != "rawPredict" && method != "streamRawPredict") {
    problem = absl::StrCat("unknown method ", method);
  }
  if (!problem.empty()) {
    SendEcho(req, 400, "application/json", GoogleErrorBody(400, "INVALID_ARGUMENT", problem), n);
    return;
  }
  if (model == "count-tokens") {
    SendEcho(req, 200, "application/json",
             absl::StrCat(R"({"input_tokens":)", RequestWords(parsed), "}"), n);
    return;
  }
  SendEchoReply(req, n, model, parsed, method == "streamRawPredict" ? Framing::kSse : Framing::kJson);
}

void FakeAnthropic::Impl::EchoBedrock(evhttp_request* req, int n, const RecordedRequest& request,
                                      absl::string_view target) {
  FakeCloudCredentials cloud;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cloud = cloud_;
  }
  const auto fail = [&](int status, const char* exception, absl::string_view message) {
    SendEcho(req, status, "application/json", AwsErrorBody(message), n,
             {{"x-amzn-errortype", absl::StrCat(exception, ":http://internal.amazon.com/coral/")},
              {"x-amzn-requestid", absl::StrCat("aws-fake-", n)}});
  };
  if (!cloud.aws_secret_access_key.empty()) {
    if (const std::string problem = SigV4Problem(request, cloud); !problem.empty()) {
      fail(403, "InvalidSignatureException",
           absl::StrCat("The request signature we calculated does not match the signature you "
                        "provided: ", problem));
      return;
    }
  }
  const size_t slash = target.find('/');
  const std::string model = UrlUnescape(target.substr(0, slash));
  const absl::string_view action = slash == absl::string_view::npos ? "" : target.substr(slash + 1);
  if (action != "invoke" && action != "invoke-with-response-stream") {
    fail(404, "UnknownOperationException", absl::StrCat("no operation ", action));
    return;
  }
  v1::CreateMessageRequest parsed;
  std::string problem;
  if (absl::Status s = JsonToMessage(request.body, &parsed); !s.ok()) {
    problem = std::string(s.message());
  } else if (ExtraString(parsed, "anthropic_version") != "bedrock-2023-05-31") {
    problem = "anthropic_version must be bedrock-2023-05-31";
  } else if (!parsed.model().empty()) {
    problem = "extraneous key [model] is not permitted";
  } else if (HasExtra(parsed, "stream")) {
    problem = "extraneous key [stream] is not permitted";
  }
  if (!problem.empty()) {
    fail(400, "ValidationException", problem);
    return;
  }
  SendEchoReply(req, n, model, parsed,
                action == "invoke-with-response-stream" ? Framing::kEventStream : Framing::kJson);
}

void FakeAnthropic::Impl::SendEcho(evhttp_request* req, int status, const char* content_type,
                                   const std::string& body, int n, const HttpHeaders& extra) {
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_add_header(out, "content-type", content_type);
  for (const auto& [name, value] : extra) evhttp_add_header(out, name.c_str(), value.c_str());
  evhttp_add_header(out, "request-id", absl::StrCat("req_fake_", n).c_str());
  evhttp_add_header(out, "anthropic-ratelimit-requests-remaining", "999");
  evbuffer_add(evhttp_request_get_output_buffer(req), body.data(), body.size());
  evhttp_send_reply(req, status, nullptr, nullptr);
}

// ---- FakeAnthropic --------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<FakeAnthropic>> FakeAnthropic::Start(const std::string& host,
                                                                    int port) {
  auto impl = std::make_unique<Impl>();
  if (absl::Status status = impl->Init(host, port); !status.ok()) return status;
  return std::unique_ptr<FakeAnthropic>(new FakeAnthropic(std::move(impl)));
}

FakeAnthropic::FakeAnthropic(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FakeAnthropic::~FakeAnthropic() = default;

int FakeAnthropic::port() const { return impl_->port(); }

std::string FakeAnthropic::base_url() const { return impl_->base_url(); }

FakeBatches& FakeAnthropic::batches() { return impl_->batches(); }

void FakeAnthropic::Enqueue(FakeReply reply) { impl_->Enqueue(std::move(reply)); }

void FakeAnthropic::SetDefaultReply(FakeReply reply) { impl_->SetDefaultReply(std::move(reply)); }

void FakeAnthropic::ClearDefaultReply() { impl_->SetDefaultReply(std::nullopt); }

void FakeAnthropic::SetCloudCredentials(FakeCloudCredentials credentials) {
  impl_->SetCloudCredentials(std::move(credentials));
}

void FakeAnthropic::set_record_requests(bool record) { impl_->set_record_requests(record); }

void FakeAnthropic::set_chat_completions_models(bool chat) {
  impl_->set_chat_completions_models(chat);
}

std::vector<RecordedRequest> FakeAnthropic::requests() const { return impl_->requests(); }

int FakeAnthropic::request_count() const { return impl_->request_count(); }

bool FakeAnthropic::WaitForRequests(int n, absl::Duration timeout) const {
  return impl_->WaitForCount(impl_->request_counter(), n, timeout);
}

int FakeAnthropic::disconnects() const { return impl_->disconnects(); }

bool FakeAnthropic::WaitForDisconnects(int n, absl::Duration timeout) const {
  return impl_->WaitForCount(impl_->disconnect_counter(), n, timeout);
}

int FakeAnthropic::active_replies() const { return impl_->active_replies(); }

}  // namespace testing
}  // namespace claude
