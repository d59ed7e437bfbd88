// One transfer of the curl event loop (curl_event_loop.h): its state, shared by the loop's two
// source files: curl_event_loop.cc drives the loop, curl_transfer.cc sets up each transfer's
// easy handle and takes curl's callbacks for it. Loop thread only, as all of the loop's state.
#ifndef SERVICE_UPSTREAM_CURL_TRANSFER_H_
#define SERVICE_UPSTREAM_CURL_TRANSFER_H_

#include <curl/curl.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>

#include "absl/time/time.h"
#include "service/upstream/curl_event_loop.h"

namespace claude {

// CURLOPT_MAXAGE_CONN counts whole seconds, and closes a connection idle for more than it.
inline long CurlMaxAgeSeconds(absl::Duration d) {
  return std::max(1L, static_cast<long>(std::min<int64_t>(absl::ToInt64Seconds(d), 1L << 30)));
}

struct CurlEventLoop::Transfer {
  TransferId id = 0;
  HttpRequest request;
  std::shared_ptr<TransferSink> sink;
  absl::Time start_at;
  CurlEasy easy;
  CurlHeaderList header_list;  // lives as long as curl may send it
  bool in_multi = false;       // added to the multi handle
  // Counted against its pool's max_connections (holding a slot or waiting for one) since then.
  bool in_pool = false;
  absl::Time pool_queued_at;
  CurlEventLoop* loop = nullptr;
  int http_status = 0;
  HttpHeaders response_headers;
  bool head_delivered = false;
  // The final response's header block ended (its blank line): a response cut before that is a
  // connection failure, not a response.
  bool headers_complete = false;
  size_t header_bytes = 0;
  bool paused = false;
  bool aborted_by_sink = false;
  // When the request was handed to curl, and when the last byte of the response arrived (or the
  // transfer resumed from a pause): the stall timer's clock.
  absl::Time handed_at;
  absl::Time last_byte_at;
  bool stall_check_armed = false;
  std::multimap<absl::Time, TransferId>::iterator stall_check;  // valid while armed
  // Times curl was about to send the request (OnRequestReady); a re-send was refused.
  int sends = 0;
  bool resend_refused = false;
  char error[CURL_ERROR_SIZE] = {0};

  void DeliverHead() {
    if (head_delivered) return;
    head_delivered = true;
    if (http_status == 0) {
      long code = 0;
      curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &code);
      http_status = static_cast<int>(code);
    }
    sink->OnHead(http_status, response_headers);
  }
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_CURL_TRANSFER_H_
