// The seam between the call logic and the network: a Transport runs HTTP exchanges and reports
// each one to a TransferSink. CurlEventLoop is the production transport; tests drive the call
// logic through tests/testing/mock_transport.h instead, with no sockets and no sleeps.
//
// Nothing here knows which API is on the other side: what to send (URL, headers, body) and how
// to read the answer belong to a Dialect (service/upstream/dialect.h).
#ifndef SERVICE_UPSTREAM_TRANSPORT_H_
#define SERVICE_UPSTREAM_TRANSPORT_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/upstream/http_types.h"

namespace claude {

// What a sink wants done with a body chunk.
enum class BodyAction {
  kContinue,  // consumed
  kPause,     // not consumed: pause the transfer; the same bytes come again after Resume()
  kAbort,     // stop the transfer (OnDone follows with ABORTED)
};

// Receives the events of one transfer, always on the transport's thread, in this order: OnHead
// at most once (the final response's status and headers), OnBody any number of times, OnDone
// exactly once, also after Cancel. Callbacks must be quick and must not block.
class TransferSink {
 public:
  virtual ~TransferSink() = default;
  virtual void OnHead(int http_status, const HttpHeaders& headers) = 0;
  virtual BodyAction OnBody(absl::string_view chunk) = 0;
  // OK when the response was received whole (whatever its HTTP status); otherwise UNAVAILABLE
  // (connection failed or broke), DEADLINE_EXCEEDED (the request's timeout), CANCELLED,
  // ABORTED (the sink asked), the signer's status, or INTERNAL / RESOURCE_EXHAUSTED (the
  // request could not be set up; nothing was sent).
  virtual void OnDone(const absl::Status& status) = 0;
};

// Adds a request's credentials on the transport's thread, just before it is sent, so secrets
// never travel through the request objects that the rest of the server logs or inspects, and
// files holding them are never read on gRPC threads.
class RequestSigner {
 public:
  virtual ~RequestSigner() = default;
  // The headers to add to `request` (its URL, method, headers and body are final), e.g.
  // `x-api-key`, `authorization`, or a signature over the whole request made at `now`.
  // Not OK: the transfer is not sent and ends with this status (no credentials readable:
  // UNAVAILABLE).
  virtual absl::StatusOr<HttpHeaders> Sign(const HttpRequest& request, absl::Time now) = 0;
};

class Transport {
 public:
  using TransferId = uint64_t;

  virtual ~Transport() = default;
  // Sends `request` after `delay` (a retry's backoff) and reports to `sink`. Thread-safe; the
  // sink's callbacks never run inside this call.
  virtual TransferId Start(HttpRequest request, std::shared_ptr<TransferSink> sink,
                           absl::Duration delay) = 0;
  // Aborts the transfer at once, closing its connection; OnDone(CANCELLED) follows unless the
  // transfer already finished. Thread-safe; unknown ids are ignored.
  virtual void Cancel(TransferId id) = 0;
  // Resumes a transfer paused by BodyAction::kPause. Thread-safe; unknown ids are ignored.
  virtual void Resume(TransferId id) = 0;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_TRANSPORT_H_
