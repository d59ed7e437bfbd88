// The fault catalogue, through the real server: every way an upstream can fail (HTTP errors with
// the API's, a gateway's, an empty or an HTML body; connections refused, black-holed, cut at
// each phase, stalled; TLS against a plain or silent port; malformed SSE; hostile headers;
// bogus chunking; close-delimited bodies) gets one row. For each row the test checks the gRPC
// code, the events the caller received before the error, how many requests the upstream saw
// (so retries are neither hidden nor missing), that the loop's live and paused transfers, the
// server's live calls and the live-stream gauge all return to 0, and that the next call
// succeeds.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "tests/fake_upstream/raw_fault_server.h"
#include "tests/testing/closed_port.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/prometheus_text.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/wait_until.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using grpc::StatusCode;

// ---- Bytes of the API's event grammar.

std::string Event(const std::string& type, const std::string& data) {
  return absl::StrCat("event: ", type, "\ndata: ", data, "\n\n");
}
const std::string kMessageStart = Event(
    "message_start",
    R"({"type":"message_start","message":{"id":"msg_f","type":"message","role":"assistant",)"
    R"("content":[],"model":"m","stop_reason":null,"stop_sequence":null,)"
    R"("usage":{"input_tokens":3,"output_tokens":1}}})");
const std::string kBlockStart = Event(
    "content_block_start",
    R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
std::string Delta(const std::string& text) {
  return Event("content_block_delta",
               absl::StrCat(R"({"type":"content_block_delta","index":0,)",
                            R"("delta":{"type":"text_delta","text":")", text, R"("}})"));
}
const std::string kBlockStop =
    Event("content_block_stop", R"({"type":"content_block_stop","index":0})");
const std::string kMessageDelta = Event(
    "message_delta",
    R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
    R"("usage":{"output_tokens":2}})");
const std::string kMessageStop = Event("message_stop", R"({"type":"message_stop"})");
const std::string kWholeStream =
    kMessageStart + kBlockStart + Delta("Hi") + Delta(" there") + kBlockStop + kMessageDelta + kMessageStop;
constexpr char kMessageJson[] =
    R"({"id":"msg_f","type":"message","role":"assistant","model":"m",)"
    R"("content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","stop_sequence":null,)"
    R"("usage":{"input_tokens":3,"output_tokens":1}})";

// Error bodies as the API and gateways send them.
std::string ApiErrorBody(const std::string& type) {
  return absl::StrCat(R"({"type":"error","error":{"type":")", type,
                      R"(","message":"fault table"},"request_id":"req_fault"})");
}
constexpr char kGatewayBody[] =
    R"({"success":false,"error":{"code":"upstream_error","message":"fetch failed"},"trace_id":"t-1"})";
constexpr char kHtmlBody[] = "<html><body><h1>502 Bad Gateway</h1></body></html>";

// ---- Raw HTTP.

std::string Head(int status, const std::vector<std::string>& headers) {
  std::string out = absl::StrCat("HTTP/1.1 ", status, " X\r\n");
  for (const std::string& h : headers) absl::StrAppend(&out, h, "\r\n");
  return out + "\r\n";
}
RawReply Bytes(std::vector<std::string> pieces, absl::Duration between = absl::ZeroDuration()) {
  RawReply reply;
  for (std::string& p : pieces) reply.steps.push_back(RawStep{between, std::move(p)});
  return reply;
}
std::string Chunk(const std::string& data) {
  return absl::StrCat(absl::Hex(data.size()), "\r\n", data, "\r\n");
}
const std::vector<std::string> kSseHeaders = {"content-type: text/event-stream"};
const std::vector<std::string> kJsonHeaders = {"content-type: application/json"};

// ---- The table.

enum class Rpc { kUnary, kStream, kUnaryAccumulated };
enum class Upstream {
  kFake,        // fake-anthropic (evhttp), scripted with FakeReply
  kRaw,         // RawFaultServer, scripted with RawReply
  kRefused,     // a loopback port nobody listens on
  kBlackHole,   // a loopback listener whose accept queue is full
  kTlsToPlain,  // https:// to the raw server's plain HTTP port
  kTlsSilent,   // https:// to a listener that accepts and never answers
};

struct FaultCase {
  std::string name;
  Upstream upstream = Upstream::kRaw;
  Rpc rpc = Rpc::kUnary;
  std::vector<FakeReply> fake;  // one per request the upstream should see
  std::vector<RawReply> raw;    // idem
  StatusCode code = StatusCode::OK;
  int events = 0;               // stream events the caller receives before the status
  std::string message;          // a part of the status message ("" = not checked)
  absl::Duration deadline = absl::Seconds(20);
  // Server settings for this row, after the table's own.
  std::function<void(ServerConfig&)> configure;
};

// Every failure that may be retried is retried once here (max_retries 1), so a row scripts it
// twice; a row whose failure is final scripts it once.
constexpr int kMaxRetries = 1;

bool Retryable(int status) { return status == 408 || status == 409 || status == 429 || status >= 500; }

StatusCode CodeOf(int status) {
  switch (status) {
    case 400: case 413: case 422: return StatusCode::INVALID_ARGUMENT;
    case 401: case 403: return StatusCode::UNAVAILABLE;  // the server's own key refused
    case 402: return StatusCode::FAILED_PRECONDITION;
    case 404: return StatusCode::NOT_FOUND;
    case 405: case 501: return StatusCode::UNIMPLEMENTED;
    case 408: case 504: return StatusCode::DEADLINE_EXCEEDED;
    case 409: return StatusCode::ABORTED;
    case 429: return StatusCode::RESOURCE_EXHAUSTED;
    case 500: return StatusCode::INTERNAL;
    case 502: case 503: case 529: return StatusCode::UNAVAILABLE;
  }
  return StatusCode::UNKNOWN;
}

const char* ApiErrorType(int status) {
  switch (status) {
    case 400: case 413: case 422: return "invalid_request_error";
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    case 504: return "timeout_error";
    case 529: return "overloaded_error";
  }
  return "api_error";
}

FaultCase HttpError(int status, const std::string& body_kind, const std::string& body, Rpc rpc) {
  FaultCase c;
  c.name = absl::StrCat("http_", status, "_", body_kind, rpc == Rpc::kStream ? "_stream" : "_unary");
  c.upstream = Upstream::kFake;
  c.rpc = rpc;
  c.code = CodeOf(status);
  const int requests = Retryable(status) ? kMaxRetries + 1 : 1;
  for (int i = 0; i < requests; ++i) {
    FakeReply reply = JsonReply(status, body);
    if (body_kind == "html") reply.headers = {{"content-type", "text/html"}};
    c.fake.push_back(reply);
  }
  c.message = absl::StrCat("upstream HTTP ", status);
  return c;
}

// A row for a raw reply that every attempt gets; `retried`: the failure is retryable.
FaultCase Raw(std::string name, Rpc rpc, RawReply reply, bool retried, StatusCode code, int events,
              std::string message = "") {
  FaultCase c;
  c.name = std::move(name);
  c.rpc = rpc;
  for (int i = 0; i < (retried ? kMaxRetries + 1 : 1); ++i) c.raw.push_back(reply);
  c.code = code;
  c.events = events;
  c.message = std::move(message);
  return c;
}

std::vector<FaultCase> Catalogue() {
  std::vector<FaultCase> rows;

  // HTTP error statuses: every status the error table names with the API's body; the common
  // ones also with a gateway's body, an empty body and an HTML page.
  for (int status : {400, 401, 402, 403, 404, 405, 408, 409, 413, 422, 429, 500, 501, 502, 503, 504, 529}) {
    rows.push_back(HttpError(status, "api", ApiErrorBody(ApiErrorType(status)), Rpc::kUnary));
  }
  for (int status : {400, 429, 500, 529}) {
    rows.push_back(HttpError(status, "gateway", kGatewayBody, Rpc::kUnary));
    rows.push_back(HttpError(status, "empty", "", Rpc::kUnary));
    rows.push_back(HttpError(status, "html", kHtmlBody, Rpc::kUnary));
  }
  for (int status : {401, 429, 529}) {
    rows.push_back(HttpError(status, "api", ApiErrorBody(ApiErrorType(status)), Rpc::kStream));
  }

  // Connections that never carry a response.
  {
    FaultCase c;
    c.name = "connect_refused";
    c.upstream = Upstream::kRefused;
    c.code = StatusCode::UNAVAILABLE;
    c.message = "upstream connection failed";
    rows.push_back(c);
    c.name = "black_hole_connect_timeout";  // issue 12, bug 5: retryable UNAVAILABLE
    c.upstream = Upstream::kBlackHole;
    c.message = "";
    rows.push_back(c);
    c.name = "tls_to_plain_port";
    c.upstream = Upstream::kTlsToPlain;
    rows.push_back(c);
    c.name = "tls_handshake_timeout";  // issue 12, bug 5
    c.upstream = Upstream::kTlsSilent;
    rows.push_back(c);
    c.name = "black_hole_stream";
    c.upstream = Upstream::kBlackHole;
    c.rpc = Rpc::kStream;
    rows.push_back(c);
  }
  {
    FaultCase c;
    c.name = "hung_upstream_caller_deadline";
    c.upstream = Upstream::kFake;
    c.fake = {HungReply()};
    c.deadline = absl::Milliseconds(700);
    c.code = StatusCode::DEADLINE_EXCEEDED;
    // The stall timer must not fire first (and be retried past the deadline).
    c.configure = [](ServerConfig& config) { config.transport.stall_timeout = absl::Seconds(30); };
    rows.push_back(c);
  }

  // Cut at each phase.
  const std::string json_head = Head(200, {"content-type: application/json", "content-length: 300"});
  rows.push_back(Raw("headers_cut_unary", Rpc::kUnary,  // issue 12, bug 6
                     Bytes({"HTTP/1.1 200 OK\r\ncontent-type: applic"}), true, StatusCode::UNAVAILABLE, 0));
  rows.push_back(Raw("headers_cut_stream", Rpc::kStream,
                     Bytes({"HTTP/1.1 200 OK\r\ncontent-type: text/ev"}), true, StatusCode::UNAVAILABLE, 0));
  rows.push_back(Raw("headers_cut_after_status_line", Rpc::kUnary,
                     Bytes({"HTTP/1.1 200 OK\r\n"}), true, StatusCode::UNAVAILABLE, 0));
  rows.push_back(Raw("unary_body_cut", Rpc::kUnary, Bytes({json_head + R"({"id":"msg_f","ty)"}), true,
                     StatusCode::UNAVAILABLE, 0));
  const std::string sse_chunked = Head(200, {"content-type: text/event-stream", "transfer-encoding: chunked"});
  rows.push_back(Raw("stream_cut_after_head", Rpc::kStream, Bytes({sse_chunked}), true,
                     StatusCode::UNAVAILABLE, 0));
  rows.push_back(Raw("stream_cut_after_message_start", Rpc::kStream,
                     Bytes({sse_chunked + Chunk(kMessageStart)}), false, StatusCode::UNAVAILABLE, 1));
  rows.push_back(Raw("stream_cut_mid_event", Rpc::kStream,
                     Bytes({sse_chunked + Chunk(kMessageStart + kBlockStart + Delta("Hi").substr(0, 30))}),
                     false, StatusCode::UNAVAILABLE, 2));
  rows.push_back(Raw("stream_cut_after_delta", Rpc::kStream,
                     Bytes({sse_chunked + Chunk(kMessageStart + kBlockStart + Delta("Hi"))}), false,
                     StatusCode::UNAVAILABLE, 3));
  rows.push_back(Raw("stream_clean_end_without_message_stop", Rpc::kStream,
                     Bytes({sse_chunked + Chunk(kMessageStart + kBlockStart + Delta("Hi") + kBlockStop +
                                                kMessageDelta) + "0\r\n\r\n"}),
                     false, StatusCode::UNAVAILABLE, 5, "before message_stop"));
  rows.push_back(Raw("unary_accumulated_cut", Rpc::kUnaryAccumulated,
                     Bytes({sse_chunked + Chunk(kMessageStart + kBlockStart)}), true,
                     StatusCode::UNAVAILABLE, 0));

  // Slow and stalled.
  {
    std::vector<std::string> pieces = {sse_chunked};
    for (const std::string& e : {kMessageStart, kBlockStart, Delta("a"), Delta("b"), kBlockStop,
                                 kMessageDelta, kMessageStop}) {
      pieces.push_back(Chunk(e));
    }
    pieces.push_back("0\r\n\r\n");
    rows.push_back(Raw("slow_drip_stream", Rpc::kStream, Bytes(pieces, absl::Milliseconds(150)), false,
                       StatusCode::OK, 7));
    RawReply stall = Bytes({sse_chunked + Chunk(kMessageStart + kBlockStart)});
    stall.hang = true;
    rows.push_back(Raw("stall_mid_stream", Rpc::kStream, stall, false, StatusCode::UNAVAILABLE, 2,
                       "stalled"));  // issue 12, bug 4
    RawReply silent = Bytes({});
    silent.hang = true;
    rows.push_back(Raw("stall_before_head", Rpc::kUnary, silent, true, StatusCode::UNAVAILABLE, 0, "stalled"));
  }

  // Malformed SSE after 200.
  const auto sse = [&](const std::string& body) {
    return Bytes({Head(200, {"content-type: text/event-stream", "connection: close"}) + body});
  };
  rows.push_back(Raw("sse_non_json_data", Rpc::kStream, sse(Event("message_start", "not json")), false,
                     StatusCode::INTERNAL, 0, "malformed"));
  rows.push_back(Raw("sse_wrong_shape", Rpc::kStream,
                     sse(kMessageStart + Event("content_block_delta",
                                               R"({"type":"content_block_delta","index":"zero","delta":7})")),
                     false, StatusCode::INTERNAL, 1, "malformed"));
  rows.push_back(Raw("sse_json_array", Rpc::kStream, sse(Event("message_start", "[1,2]")), false,
                     StatusCode::INTERNAL, 0, "malformed"));
  rows.push_back(Raw("sse_nul_bytes", Rpc::kStream,
                     sse(kMessageStart + "event: ping\ndata: {\"type\":\"ping" + std::string(1, '\0') + "\"}\n\n"),
                     false, StatusCode::INTERNAL, 1, "malformed"));
  rows.push_back(Raw("sse_invalid_utf8", Rpc::kStream, sse(kMessageStart + kBlockStart + Delta("caf\xC3(")),
                     false, StatusCode::INTERNAL, 2, "malformed"));
  rows.push_back(Raw("sse_20mb_line", Rpc::kStream,
                     sse(kMessageStart + "data: " + std::string(20 << 20, 'x') + "\n\n"), false,
                     StatusCode::INTERNAL, 1, "malformed"));
  rows.push_back(Raw("json_reply_not_json", Rpc::kUnary,
                     RawResponse(200, kJsonHeaders, "<html>not json</html>"), false, StatusCode::INTERNAL, 0,
                     "malformed"));
  rows.push_back(Raw("json_reply_empty", Rpc::kUnary, RawResponse(200, kJsonHeaders, ""), false,
                     StatusCode::INTERNAL, 0, "malformed"));

  // Hostile headers on successful replies (issue 12, bugs 1 and 2) and on errors.
  {
    const std::vector<std::string> non_ascii = {"content-type: application/json", "request-id: caf\xC3\xA9",
                                                "anthropic-ratelimit-requests-remaining: \xFF\x01",
                                                "retry-after: 1\x7F"};
    rows.push_back(Raw("non_ascii_headers_unary", Rpc::kUnary, RawResponse(200, non_ascii, kMessageJson), false,
                       StatusCode::OK, 0));
    std::vector<std::string> non_ascii_sse = non_ascii;
    non_ascii_sse[0] = "content-type: text/event-stream";
    rows.push_back(Raw("non_ascii_headers_stream", Rpc::kStream, RawResponse(200, non_ascii_sse, kWholeStream),
                       false, StatusCode::OK, 7));
    std::vector<std::string> non_ascii_error = non_ascii;
    rows.push_back(Raw("non_ascii_headers_on_error", Rpc::kUnary,
                       RawResponse(400, non_ascii_error, ApiErrorBody("invalid_request_error")), false,
                       StatusCode::INVALID_ARGUMENT, 0));
    std::vector<std::string> many = {"content-type: application/json"};
    for (int i = 0; i < 40; ++i) {
      many.push_back(absl::StrCat("anthropic-ratelimit-tokens-", i, ": ", std::string(200, 'a' + i % 26)));
    }
    rows.push_back(Raw("8kb_of_forwarded_headers_unary", Rpc::kUnary, RawResponse(200, many, kMessageJson), false,
                       StatusCode::OK, 0));
    many[0] = "content-type: text/event-stream";
    rows.push_back(Raw("8kb_of_forwarded_headers_stream", Rpc::kStream, RawResponse(200, many, kWholeStream),
                       false, StatusCode::OK, 7));
    rows.push_back(Raw("60kb_header_value", Rpc::kUnary,
                       RawResponse(200, {"content-type: application/json",
                                         "anthropic-ratelimit-huge: " + std::string(60 << 10, 'h')},
                                   kMessageJson),
                       false, StatusCode::OK, 0));
    // Past libcurl's own limit for one header line (100 KB): the response is refused.
    rows.push_back(Raw("200kb_header_line", Rpc::kUnary,
                       RawResponse(200, {"content-type: application/json",
                                         "x-huge: " + std::string(200 << 10, 'h')},
                                   kMessageJson),
                       true, StatusCode::UNAVAILABLE, 0));
    std::vector<std::string> thousands = {"content-type: application/json"};
    for (int i = 0; i < 3000; ++i) thousands.push_back(absl::StrCat("x-filler-", i, ": ", std::string(60, 'f')));
    rows.push_back(Raw("3000_headers", Rpc::kUnary, RawResponse(200, thousands, kMessageJson), false,
                       StatusCode::OK, 0));
  }

  // Framing.
  rows.push_back(Raw("bogus_chunk_size_unary", Rpc::kUnary,
                     Bytes({Head(200, {"content-type: application/json", "transfer-encoding: chunked"}) +
                            "zz\r\n{}\r\n0\r\n\r\n"}),
                     true, StatusCode::UNAVAILABLE, 0));
  rows.push_back(Raw("bogus_chunk_size_mid_stream", Rpc::kStream,
                     Bytes({sse_chunked + Chunk(kMessageStart) + "fffffffffffffffffff\r\n"}), false,
                     StatusCode::UNAVAILABLE, 1));
  rows.push_back(Raw("close_delimited_unary", Rpc::kUnary,
                     Bytes({Head(200, {"content-type: application/json", "connection: close"}) + kMessageJson}),
                     false, StatusCode::OK, 0));
  rows.push_back(Raw("close_delimited_stream", Rpc::kStream,
                     Bytes({Head(200, {"content-type: text/event-stream", "connection: close"}) + kWholeStream}),
                     false, StatusCode::OK, 7));
  rows.push_back(Raw("close_delimited_stream_cut", Rpc::kStream,
                     Bytes({Head(200, {"content-type: text/event-stream", "connection: close"}) +
                            kMessageStart + kBlockStart}),
                     false, StatusCode::UNAVAILABLE, 2, "before message_stop"));

  // A reused keep-alive connection closed before the answer (issue 12, bug 9): each of the two
  // attempts reaches the upstream once; libcurl must not send a hidden third request.
  rows.push_back(Raw("keep_alive_closed_before_answer", Rpc::kUnary, Bytes({}), true,
                     StatusCode::UNAVAILABLE, 0));

  // An accumulated unary reply past the cap (issue 12, bug 8).
  {
    FaultCase c = Raw("accumulated_reply_over_cap", Rpc::kUnaryAccumulated,
                      RawResponse(200, kSseHeaders,
                                  kMessageStart + kBlockStart + Delta(std::string(40000, 'x')) +
                                      Delta(std::string(40000, 'y')) + kBlockStop + kMessageDelta + kMessageStop),
                      false, StatusCode::RESOURCE_EXHAUSTED, 0, "max_response_bytes");
    c.configure = [](ServerConfig& config) { config.call.max_response_bytes = 64 << 10; };
    rows.push_back(c);
    c = Raw("unary_reply_over_cap", Rpc::kUnary,
            RawResponse(200, kJsonHeaders,
                        absl::StrReplaceAll(kMessageJson, {{"\"Hi\"", "\"" + std::string(80000, 'z') + "\""}})),
            false, StatusCode::RESOURCE_EXHAUSTED, 0, "max_response_bytes");
    c.configure = [](ServerConfig& config) { config.call.max_response_bytes = 64 << 10; };
    rows.push_back(c);
  }
  return rows;
}

// ---- Running a row.

struct Outcome {
  grpc::Status status;
  int events = 0;
};

Outcome Call(ServerHarness& h, Rpc rpc, absl::Duration deadline) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  Outcome out;
  if (rpc == Rpc::kStream) {
    auto reader = h.messages().StreamMessage(&context, Hello());
    v1::MessageStreamEvent event;
    while (reader->Read(&event)) ++out.events;
    out.status = reader->Finish();
  } else {
    v1::Message message;
    // Above the harness's stream threshold, CreateMessage streams upstream and accumulates.
    out.status = h.messages().CreateMessage(&context, Hello(rpc == Rpc::kUnaryAccumulated ? 64000 : 256), &message);
  }
  return out;
}

// Waits until `read` returns 0; its last value otherwise.
double SettlesToZero(const std::function<double()>& read) {
  double value = read();
  WaitUntil(
      [&] {
        value = read();
        return value == 0;
      },
      Scaled(absl::Seconds(5)), absl::Milliseconds(5));
  return value;
}

// gtest prints a failing row by its name.
void PrintTo(const FaultCase& row, std::ostream* os) { *os << row.name; }

class FaultTableTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(FaultTableTest, EndsWithItsCodeAndLeavesNothingBehind) {
  const FaultCase& row = GetParam();
  std::unique_ptr<RawFaultServer> raw;
  std::string base_url;
  switch (row.upstream) {
    case Upstream::kFake:
      break;
    case Upstream::kRaw:
    case Upstream::kTlsToPlain: {
      auto server = RawFaultServer::Start();
      ASSERT_TRUE(server.ok()) << server.status();
      raw = std::move(*server);
      base_url = raw->base_url();
      if (row.upstream == Upstream::kTlsToPlain) base_url = absl::StrCat("https://127.0.0.1:", raw->port());
      break;
    }
    case Upstream::kBlackHole:
    case Upstream::kTlsSilent: {
      auto server = RawFaultServer::Start(row.upstream == Upstream::kBlackHole ? RawFaultServer::Mode::kBlackHole
                                                                              : RawFaultServer::Mode::kSilent);
      ASSERT_TRUE(server.ok()) << server.status();
      raw = std::move(*server);
      base_url = absl::StrCat(row.upstream == Upstream::kTlsSilent ? "https" : "http", "://127.0.0.1:", raw->port());
      break;
    }
    case Upstream::kRefused:
      base_url = absl::StrCat("http://127.0.0.1:", ClosedPort());
      break;
  }
  HarnessOptions options;
  options.max_retries = kMaxRetries;
  options.jitter = 0.999;  // the shortest backoff (0.375 s)
  options.configure = [&](ServerConfig& config) {
    if (!base_url.empty()) config.upstream.base_url = base_url;
    config.transport.connect_timeout = absl::Milliseconds(300);
    config.transport.stall_timeout = absl::Seconds(1);
    // The live-stream gauge counts StreamMessage RPCs only; /metrics costs a second to stop.
    if (row.rpc == Rpc::kStream) config.metrics_listen = "127.0.0.1:0";
    if (row.configure) row.configure(config);
  };
  ServerHarness h(options);
  const bool scripted = row.upstream == Upstream::kFake || row.upstream == Upstream::kRaw;
  const auto requests = [&] {
    return row.upstream == Upstream::kFake ? h.upstream().request_count() : raw->request_count();
  };

  // A call that succeeds first: the fault then arrives on a kept-alive connection, as in production.
  if (scripted) {
    const Outcome warm = Call(h, row.rpc, absl::Seconds(20));
    ASSERT_TRUE(warm.status.ok()) << warm.status.error_message();
  }
  const int requests_before = scripted ? requests() : 0;
  for (const FakeReply& reply : row.fake) h.upstream().Enqueue(reply);
  for (const RawReply& reply : row.raw) raw->Enqueue(reply);

  const Outcome fault = Call(h, row.rpc, row.deadline);
  EXPECT_EQ(fault.status.error_code(), row.code) << fault.status.error_message();
  EXPECT_THAT(fault.status.error_message(), HasSubstr(row.message));
  EXPECT_EQ(fault.events, row.events);
  if (scripted) {
    EXPECT_EQ(requests() - requests_before, static_cast<int>(row.fake.size() + row.raw.size()))
        << "requests the upstream saw for this call";
  }

  EXPECT_EQ(SettlesToZero([&] { return static_cast<double>(h.loop().live_transfers()); }), 0);
  EXPECT_EQ(SettlesToZero([&] { return static_cast<double>(h.loop().paused_transfers()); }), 0);
  EXPECT_EQ(SettlesToZero([&] { return static_cast<double>(h.server().live_calls()); }), 0);
  if (row.rpc == Rpc::kStream) {
    EXPECT_EQ(SettlesToZero([&] {
                return SumSamples(ParseMetrics(ScrapeMetrics(h.server().metrics_port())),
                                  "claude_grpc_live_streams");
              }),
              0);
  }

  if (scripted) {
    const Outcome next = Call(h, row.rpc, absl::Seconds(20));
    EXPECT_TRUE(next.status.ok()) << "the next call: " << next.status.error_message();
  }
}

INSTANTIATE_TEST_SUITE_P(Catalogue, FaultTableTest, ::testing::ValuesIn(Catalogue()),
                         [](const ::testing::TestParamInfo<FaultCase>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace claude::testing
