// A loopback HTTP/1.1 server that writes exactly the bytes a test scripts, for the faults that a
// well-behaved HTTP library (fake-anthropic's evhttp) cannot produce: headers cut short, bogus
// chunk sizes, close-delimited bodies, raw header bytes, a reused keep-alive connection closed
// before the answer; and two listeners that never answer at all (a black hole whose accept
// queue is full, so connects hang; and one that accepts and then says nothing, so a TLS
// handshake hangs).
//
// One thread accepts; each connection has its own thread (tests open a handful). Requests are
// read whole (headers and a content-length body); each is answered by the next queued RawReply,
// or, when none is queued, by a valid reply: an SSE stream of the API's event grammar when the
// body asks for "stream":true, else a JSON Message. All public methods are thread-safe.
#ifndef TESTS_FAKE_UPSTREAM_RAW_FAULT_SERVER_H_
#define TESTS_FAKE_UPSTREAM_RAW_FAULT_SERVER_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace claude {
namespace testing {

// Bytes written after a pause.
struct RawStep {
  absl::Duration delay_before = absl::ZeroDuration();
  std::string bytes;
};

// The answer to one request.
struct RawReply {
  std::vector<RawStep> steps;
  // After the last step: close the connection (true), or keep it open for the next request
  // (keep-alive; the steps must then form a complete response).
  bool close = true;
  // After the last step, hold the connection open without writing until the client closes it
  // (a stall that never ends).
  bool hang = false;
};

// A complete response with a content-length: "HTTP/1.1 <status> X\r\n", `headers` (each a
// "name: value" line without CRLF, written raw), the body.
RawReply RawResponse(int status, std::vector<std::string> headers, std::string body,
                     bool keep_alive = false);

class RawFaultServer {
 public:
  enum class Mode {
    kScripted,  // answers requests as described above
    kBlackHole,  // the accept queue is kept full: a client's connect never completes
    kSilent,     // accepts connections and never reads or writes
  };

  static absl::StatusOr<std::unique_ptr<RawFaultServer>> Start(Mode mode = Mode::kScripted);
  // Closes every connection and joins every thread.
  ~RawFaultServer();
  RawFaultServer(const RawFaultServer&) = delete;
  RawFaultServer& operator=(const RawFaultServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT".
  std::string base_url() const;

  // Queues the reply for the next request without one.
  void Enqueue(RawReply reply);
  // Requests read so far.
  int request_count() const;
  // Connections accepted so far.
  int connection_count() const;

 private:
  explicit RawFaultServer(Mode mode) : mode_(mode) {}
  absl::Status Listen();
  void AcceptLoop();
  void Serve(int fd);
  // Waits up to `d` or until the server stops or `fd` is closed by the peer; false: stop now.
  bool Wait(int fd, absl::Duration d);
  // Reads one request on `fd` (true), or sees the connection end (false); `body` gets its body.
  bool ReadRequest(int fd, std::string* body);
  RawReply NextReply(const std::string& request_body);

  const Mode mode_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: readable once the server stops
  int port_ = 0;
  std::vector<int> backlog_fillers_;  // kBlackHole: the connections that fill the accept queue
  std::thread acceptor_;

  mutable std::mutex mu_;
  std::deque<RawReply> queue_;
  std::vector<std::thread> connections_;
  std::vector<int> open_fds_;
  int requests_ = 0;
  int accepted_ = 0;
};

}  // namespace testing
}  // namespace claude

#endif  // TESTS_FAKE_UPSTREAM_RAW_FAULT_SERVER_H_
