// Setting up a transfer's easy handle (SendNow) and curl's callbacks for it; the loop itself is
// in curl_event_loop.cc.
#include "service/upstream/curl_transfer.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace claude {
namespace {

// A header line curl sends as is: a name of token characters, a value without CR, LF or NUL
// (which would end the line early and let the rest pose as another header). INTERNAL: headers
// come from the server's dialect and credentials (a key file holding a line break), never from
// the caller as is. The value is never echoed: it may be a credential.
absl::Status CheckHeader(const std::string& name, const std::string& value) {
  const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
  if (!name_ok) return absl::InternalError("an upstream request header has an invalid name");
  if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
    return absl::InternalError(
        absl::StrCat("upstream request header ", name, ": value holds CR, LF or NUL"));
  }
  return absl::OkStatus();
}

// Response headers kept per transfer (the rest are ignored): what the calls read of them is a
// handful of fields, and an upstream must not make the server hold megabytes of headers.
constexpr size_t kMaxResponseHeaderFields = 256;
constexpr size_t kMaxResponseHeaderBytes = 64 << 10;

long Millis(absl::Duration d) {
  return static_cast<long>(std::min<int64_t>(absl::ToInt64Milliseconds(d), 1L << 30));
}

}  // namespace

absl::Status CurlEventLoop::SendNow(Transfer* t) {
  if (!setup_.ok()) return setup_;
  const HttpRequest& r = t->request;
  // Signed here, on the loop thread and only now: credentials never travel through the request
  // objects that the rest of the server logs or inspects, and a signature is made at send time.
  HttpHeaders credentials;
  if (r.signer != nullptr) {
    absl::StatusOr<HttpHeaders> signed_headers = r.signer->Sign(r, absl::Now());
    if (!signed_headers.ok()) return signed_headers.status();
    credentials = *std::move(signed_headers);
  }
  CurlHeaderList& headers = t->header_list;
  // An empty Expect: no 100-continue round trip before the body.
  if (absl::Status s = AppendHeader(headers, "Expect:"); !s.ok()) return s;
  if (r.body != nullptr && FindHeader(r.headers, "content-type") == nullptr) {
    if (absl::Status s = AppendHeader(headers, "content-type: application/json"); !s.ok()) return s;
  }
  for (const HttpHeaders* list : {&r.headers, static_cast<const HttpHeaders*>(&credentials)}) {
    for (const auto& [name, value] : *list) {
      if (absl::Status s = CheckHeader(name, value); !s.ok()) return s;
      if (absl::Status s = AppendHeader(headers, name + ": " + value); !s.ok()) return s;
    }
  }

  if (!idle_handles_.empty()) {
    t->easy = std::move(idle_handles_.back());
    idle_handles_.pop_back();
  } else {
    t->easy.reset(curl_easy_init());
    if (t->easy == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
  }
  CURL* easy = t->easy.get();
  absl::Status s;
  auto set = [&](CURLoption option, auto value) {
    if (s.ok()) s = SetOption(easy, option, value);
  };
  set(CURLOPT_PRIVATE, static_cast<void*>(t));
  set(CURLOPT_ERRORBUFFER, t->error);
  set(CURLOPT_URL, r.url.c_str());
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_TCP_NODELAY, 1L);
  set(CURLOPT_CONNECTTIMEOUT_MS, Millis(ConnectTimeout(r)));
  if (r.timeout != absl::InfiniteDuration())
    set(CURLOPT_TIMEOUT_MS, std::max(1L, Millis(r.timeout)));
  set(CURLOPT_MAXAGE_CONN, CurlMaxAgeSeconds(options_.idle_connection_timeout));
  set(CURLOPT_PREREQFUNCTION, &CurlEventLoop::OnRequestReady);
  set(CURLOPT_PREREQDATA, static_cast<void*>(t));
  set(CURLOPT_USERAGENT, options_.user_agent.c_str());
  // TLS to the upstream is always verified (peer and host name; curl's defaults, stated here so
  // nobody turns them off by accident).
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
  set(CURLOPT_HTTP_VERSION,
      static_cast<long>(options_.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1));
  if (r.method == "GET") {
    set(CURLOPT_HTTPGET, 1L);
  } else {
    set(CURLOPT_POST, 1L);
    static const std::string kEmpty;
    const std::string& body = r.body != nullptr ? *r.body : kEmpty;
    set(CURLOPT_POSTFIELDS, body.data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    if (r.method != "POST") set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  set(CURLOPT_HTTPHEADER, headers.get());
  set(CURLOPT_HEADERFUNCTION, &CurlEventLoop::OnHeaderLine);
  set(CURLOPT_HEADERDATA, static_cast<void*>(t));
  set(CURLOPT_WRITEFUNCTION, &CurlEventLoop::OnBodyBytes);
  set(CURLOPT_WRITEDATA, static_cast<void*>(t));
  if (!s.ok()) return s;
  if (const CURLMcode added = curl_multi_add_handle(multi_.get(), easy); added != CURLM_OK) {
    return absl::InternalError(absl::StrCat("curl_multi_add_handle: ", curl_multi_strerror(added)));
  }
  t->in_multi = true;
  t->handed_at = absl::Now();
  t->last_byte_at = t->handed_at;
  if (options_.stall_timeout > absl::ZeroDuration())
    ArmStallCheck(t, t->handed_at + options_.stall_timeout);
  return absl::OkStatus();
}

absl::Status CurlEventLoop::FailureStatus(const Transfer& t, int code) const {
  const char* detail = t.error[0] ? t.error : curl_easy_strerror(static_cast<CURLcode>(code));
  if (t.aborted_by_sink) return absl::AbortedError("transfer aborted by its reader");
  if (t.resend_refused) {
    return absl::UnavailableError(
        "upstream closed a reused connection before answering (not re-sent by the transport; "
        "the call's retry policy decides)");
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    // curl has two timeouts: the request's (its caller's deadline) and the connect timeout
    // (TCP and TLS handshake). Only the first is the caller's; the second is a connection
    // failure. The request's timeout is known to have passed when this much time went by.
    const absl::Duration elapsed = absl::Now() - t.handed_at;
    if (t.request.timeout != absl::InfiniteDuration() &&
        elapsed >= t.request.timeout - absl::Milliseconds(5)) {
      return absl::DeadlineExceededError(absl::StrCat("upstream request timed out: ", detail));
    }
    return absl::UnavailableError(
        absl::StrCat("upstream connection failed: connect or TLS handshake took over ",
                     absl::FormatDuration(ConnectTimeout(t.request)), ": ", detail));
  }
  return absl::UnavailableError(absl::StrCat(t.head_delivered
                                                 ? "upstream connection broke mid-response: "
                                                 : "upstream connection failed: ",
                                             detail));
}

size_t CurlEventLoop::OnHeaderLine(char* data, size_t size, size_t count, void* self) {
  auto* t = static_cast<Transfer*>(self);
  const size_t n = size * count;
  t->last_byte_at = absl::Now();
  absl::string_view line(data, n);
  line = absl::StripTrailingAsciiWhitespace(line);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response head (after 1xx or a redirect): forget the previous one.
    t->response_headers.clear();
    t->http_status = 0;
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    int status = 0;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &status)) t->http_status = status;
    return n;
  }
  if (line.empty()) {
    if (t->http_status >= 200) {
      t->headers_complete = true;
      t->DeliverHead();
    }
    return n;
  }
  t->header_bytes += n;
  if (t->response_headers.size() >= kMaxResponseHeaderFields ||
      t->header_bytes > kMaxResponseHeaderBytes) {
    return n;  // kept out (see kMaxResponseHeaderBytes); the transfer goes on
  }
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    t->response_headers.emplace_back(
        absl::AsciiStrToLower(line.substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return n;
}

size_t CurlEventLoop::OnBodyBytes(char* data, size_t size, size_t count, void* self) {
  auto* t = static_cast<Transfer*>(self);
  const size_t n = size * count;
  t->last_byte_at = absl::Now();
  t->DeliverHead();
  switch (t->sink->OnBody(absl::string_view(data, n))) {
    case BodyAction::kContinue: return n;
    case BodyAction::kPause:
      t->paused = true;
      t->loop->paused_.fetch_add(1, std::memory_order_relaxed);
      return CURL_WRITEFUNC_PAUSE;
    case BodyAction::kAbort: t->aborted_by_sink = true; return 0;
  }
  return 0;
}

int CurlEventLoop::OnRequestReady(void* self, char* /*conn_primary_ip*/, char* /*conn_local_ip*/,
                                  int /*conn_primary_port*/, int /*conn_local_port*/) {
  auto* t = static_cast<Transfer*>(self);
  if (++t->sends == 1) return CURL_PREREQFUNC_OK;
  // curl retries a request itself when a reused connection died before any answer; the upstream
  // may have received the first one. Refused, so attempts, logs and metrics count every request.
  t->resend_refused = true;
  return CURL_PREREQFUNC_ABORT;
}

}  // namespace claude
