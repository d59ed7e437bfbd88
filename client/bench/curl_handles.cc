#include "client/bench/curl_handles.h"

namespace claude {
namespace bench {

absl::StatusOr<CurlEasy> NewCurlEasy() {
  CurlEasy handle(curl_easy_init());
  if (handle == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
  return handle;
}

absl::StatusOr<CurlMulti> NewCurlMulti() {
  CurlMulti multi(curl_multi_init());
  if (multi == nullptr) return absl::ResourceExhaustedError("curl_multi_init failed");
  return multi;
}

absl::Status AppendHeaders(std::initializer_list<const char*> lines, CurlHeaders* headers) {
  for (const char* line : lines) {
    curl_slist* longer = curl_slist_append(headers->get(), line);
    if (longer == nullptr) return absl::ResourceExhaustedError("curl_slist_append failed");
    // On success curl_slist_append returns the same head (or a new one for an empty list).
    (void)headers->release();
    headers->reset(longer);
  }
  return absl::OkStatus();
}

}  // namespace bench
}  // namespace claude
