// fake-anthropic: a loopback HTTP/1.1 server that speaks enough of the Claude Messages API for
// tests, the quickstart and the load generator.
//
// One thread runs a libevent loop (evhttp); there is no thread per connection. Replies can be
// scripted (status, headers, body pieces, delays, a lazily generated body, a connection that
// dies mid-body, an upstream that never answers); when no scripted reply is queued the server
// answers in echo mode:
//   POST /v1/messages               "Echo: <last user text>", unary JSON or (with "stream":true)
//                                   SSE in the API's event grammar, one text delta per word;
//   POST /v1/messages/count_tokens  {"input_tokens": <words in the request's text>};
//   GET  /v1/models, /v1/models/ID  one model, "claude-fake-1";
//   POST /v1/chat/completions       the chat_completions dialect (fake_chat_completions.h); with
//                                   set_chat_completions_models(true), GET /v1/models[/ID]
//                                   answer in OpenAI's shape instead;
//   POST /v1/projects/P/locations/R/publishers/anthropic/models/M:rawPredict, :streamRawPredict,
//        .../models/count-tokens:rawPredict
//                                   Vertex AI: the same echo for model M; the body must carry
//                                   "anthropic_version":"vertex-2023-10-16" and no "model" (400
//                                   in Google's error shape otherwise); with a Google token set
//                                   (SetCloudCredentials), `authorization: Bearer <it>` (401);
//   POST /model/M/invoke, /model/M/invoke-with-response-stream
//                                   Amazon Bedrock: the same echo for model M, streams as AWS
//                                   event-stream frames with real CRCs; the body must carry
//                                   "anthropic_version":"bedrock-2023-05-31" and neither "model"
//                                   nor "stream" (400 ValidationException); with AWS credentials
//                                   set, the SigV4 signature is verified against the secret and
//                                   x-amz-content-sha256 against the body (403 otherwise);
//   anything else                   404 with an API-shaped error body.
// Echo replies carry `request-id: req_fake_N` and `anthropic-ratelimit-requests-remaining: 999`,
// where N is the request's 1-based arrival number (also used in message ids, msg_fake_N).
// "Words" are runs of non-whitespace; the request's text is the system prompt and the text of
// every message (string content and text blocks).
//
// Every request, scripted or echoed, is recorded: method, path with query, lower-case header
// names, body. All public methods are thread-safe.
//
// Where each job lives: the server thread and each request's arrival, fake_anthropic.cc;
// scripted replies and their faults, scripted_replies.cc (builders: fake_replies.cc); echo
// mode's routing, fake_echo_routes.h, and its endpoints, fake_messages_echo.h,
// fake_chat_completions.h, fake_cloud_echo.h; the batches API, fake_batches.h.
#ifndef TESTS_FAKE_UPSTREAM_FAKE_ANTHROPIC_H_
#define TESTS_FAKE_UPSTREAM_FAKE_ANTHROPIC_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "claude/v1/messages.pb.h"
#include "service/upstream/http_types.h"

namespace claude {
namespace testing {

// One request as the fake received it.
struct RecordedRequest {
  std::string method;  // "POST", "GET", ...
  std::string path;    // the request target, query included: "/v1/messages?beta=true"
  HttpHeaders headers;  // in arrival order, names lower-case
  std::string body;
};

// One scripted reply. Replies queued with FakeAnthropic::Enqueue() are served to requests in
// arrival order, whatever their path; when the queue is empty the server answers in echo mode
// (or with the default reply, see SetDefaultReply()).
//
// A reply with at most one body piece, no generator and no close_mid_body is sent with a
// content-length; any other is sent with chunked transfer encoding, one HTTP chunk per piece,
// unless `headers` has a content-length (then the pieces are written raw).
struct FakeReply {
  int status = 200;
  // Sent as given (no content-type is added): e.g. {"content-type", "text/event-stream"},
  // {"request-id", "req_1"}, {"retry-after", "2"}.
  HttpHeaders headers;
  // Body pieces, written in order; empty pieces are skipped.
  std::vector<std::string> chunks;
  // Wait this long before sending the status line and headers (time to first byte).
  absl::Duration delay_before_head = absl::ZeroDuration();
  // Wait this long between two body pieces.
  absl::Duration delay_between_chunks = absl::ZeroDuration();
  // Lazily produced body for huge streams, used instead of `chunks` when set: called for the
  // next piece until it returns false (the piece it leaves then is ignored). It is called on the
  // server thread, only once the previous piece has been written to the socket, so a slow client
  // makes the fake wait (TCP backpressure) instead of buffering the body. An empty piece is
  // skipped (the generator is called again).
  std::function<bool(std::string* piece)> generator;
  // After the last piece, drop the connection without finishing the response.
  bool close_mid_body = false;
  // Accept the request and never answer (a hung upstream); only the client can end it.
  bool never_reply = false;
};

// 200, content-type text/event-stream, `sse_body` cut into pieces of `chunk_size` bytes
// (0 = one piece) with `between` between them.
FakeReply SseReply(std::string sse_body, size_t chunk_size = 0,
                   absl::Duration between = absl::ZeroDuration());

// `status`, content-type application/json, then `extra_headers`; the body in one piece.
FakeReply JsonReply(int status, std::string json, HttpHeaders extra_headers = {});

// Accepts the request and never answers: a hung upstream, which only the client can end.
FakeReply HungReply();

// A text stream in the API's event grammar, produced lazily (a generator, so a 50 MB stream
// costs the fake no memory and follows the reader's speed): message_start and
// content_block_start, then `deltas` text deltas of `delta_bytes` bytes of text each, then
// content_block_stop, message_delta and message_stop. Each event is one body piece, with
// `between` before every piece after the first (a slowly dripping stream).
FakeReply GeneratedSseReply(int64_t deltas, size_t delta_bytes,
                            absl::Duration between = absl::ZeroDuration());

// Credentials the Vertex AI and Bedrock endpoints of echo mode check; empty: not checked.
struct FakeCloudCredentials {
  std::string google_token;
  std::string aws_access_key_id;
  std::string aws_secret_access_key;
  std::string aws_region = "us-east-1";
};
// An error body of the API:
// `{"type":"error","error":{"type":TYPE,"message":MESSAGE},"request_id":"req_fake_N"}`.
std::string ApiErrorBody(absl::string_view type, absl::string_view message, int n);

// The echo reply to `request` (the unary body of POST /v1/messages), as the `n`th request.
std::string EchoMessageJson(int n, const claude::v1::CreateMessageRequest& request);
// The text of the request's last user message.
std::string LastUserTextOf(const claude::v1::CreateMessageRequest& request);

class FakeBatches;  // fake_batches.h

class FakeAnthropic {
 public:
  // Listens on host:port (port 0 = pick a free one) and serves on its own thread.
  static absl::StatusOr<std::unique_ptr<FakeAnthropic>> Start(const std::string& host = "127.0.0.1",
                                                              int port = 0);
  // Stops the thread and closes every connection (a reply in progress is cut off).
  ~FakeAnthropic();

  FakeAnthropic(const FakeAnthropic&) = delete;
  FakeAnthropic& operator=(const FakeAnthropic&) = delete;

  int port() const;
  // "http://127.0.0.1:PORT" (an IPv6 host is bracketed).
  std::string base_url() const;

  // Queues a scripted reply for the next request that has none.
  void Enqueue(FakeReply reply);

  // Served (a copy each time) to every request that finds the queue empty, instead of echo mode.
  // Used by the binary's --replay.
  void SetDefaultReply(FakeReply reply);
  // Back to echo mode for requests that find the queue empty.
  void ClearDefaultReply();

  // What the Vertex AI and Bedrock endpoints require from now on.
  void SetCloudCredentials(FakeCloudCredentials credentials);
  // Whether GET /v1/models and /v1/models/ID answer in OpenAI's shape (a chat_completions
  // upstream's) instead of the Messages API's (default false).
  void set_chat_completions_models(bool chat);

  // Whether requests are kept for requests() (default true). A long-running load test turns
  // this off so the fake's memory stays flat; request_count() still counts.
  void set_record_requests(bool record);

  // Every request received so far (while recording), in arrival order.
  std::vector<RecordedRequest> requests() const;
  // Requests received so far, recorded or not.
  int request_count() const;
  // Blocks until request_count() >= n; false on timeout.
  bool WaitForRequests(int n, absl::Duration timeout) const;

  // Scripted replies whose connection the client closed before the reply was complete (while
  // the fake waited before the head or between pieces, was writing, or never replied): the
  // "client disconnected" signal. Connections the fake drops itself (close_mid_body) do not count.
  int disconnects() const;
  // Blocks until disconnects() >= n; false on timeout.
  bool WaitForDisconnects(int n, absl::Duration timeout) const;

  // The Message Batches API (fake_batches.h), answered when no scripted reply is queued.
  FakeBatches& batches();

  // Scripted replies currently in progress: waiting before the head, being sent, or hung.
  int active_replies() const;

 private:
  class Impl;
  explicit FakeAnthropic(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace testing
}  // namespace claude

#endif  // TESTS_FAKE_UPSTREAM_FAKE_ANTHROPIC_H_
