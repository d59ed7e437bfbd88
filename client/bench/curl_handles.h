// Owning types for the bench's libcurl objects, and option setting that reports failure. The
// bench keeps its own (small) copy rather than the server's transport: client/ does not depend
// on service/ code.
#ifndef CLIENT_BENCH_CURL_HANDLES_H_
#define CLIENT_BENCH_CURL_HANDLES_H_

#include <initializer_list>
#include <memory>

#include <curl/curl.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace claude {
namespace bench {

struct CurlEasyCleanup {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct CurlMultiCleanup {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct CurlSlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// An easy handle; must be out of any multi handle when it is destroyed.
using CurlEasy = std::unique_ptr<CURL, CurlEasyCleanup>;
// A multi handle; destroy the easy handles it holds first.
using CurlMulti = std::unique_ptr<CURLM, CurlMultiCleanup>;
// A header list; must outlive every transfer that uses it.
using CurlHeaders = std::unique_ptr<curl_slist, CurlSlistFree>;

absl::StatusOr<CurlEasy> NewCurlEasy();
absl::StatusOr<CurlMulti> NewCurlMulti();

// Appends "Name: value" lines to `*headers`.
absl::Status AppendHeaders(std::initializer_list<const char*> lines, CurlHeaders* headers);

// curl_easy_setopt, its failure as a status naming the option.
template <typename T>
absl::Status SetOption(CURL* handle, CURLoption option, T value) {
  const CURLcode code = curl_easy_setopt(handle, option, value);
  if (code == CURLE_OK) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("curl option ", static_cast<int>(option), ": ", curl_easy_strerror(code)));
}

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_CURL_HANDLES_H_
