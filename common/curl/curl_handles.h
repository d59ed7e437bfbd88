// Ownership of libcurl's objects, and option setting that cannot be ignored: every handle has a
// unique_ptr alias that frees it, and every option goes through SetOption, whose failure is a
// Status the caller must handle (a transfer that cannot be set up fails through the normal
// error path instead of running half-configured). Shared by the server's curl event loop and
// the bench's HTTP load.
#ifndef COMMON_CURL_CURL_HANDLES_H_
#define COMMON_CURL_CURL_HANDLES_H_

#include <curl/curl.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace claude {

struct CurlEasyCleanup {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct CurlMultiCleanup {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct CurlSlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyCleanup>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiCleanup>;
using CurlHeaderList = std::unique_ptr<curl_slist, CurlSlistFree>;

// curl_easy_setopt as a Status: INTERNAL naming the option and curl's reason.
template <typename T>
absl::Status SetOption(CURL* easy, CURLoption option, T value) {
  const CURLcode code = curl_easy_setopt(easy, option, value);
  if (code == CURLE_OK) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("curl option ", static_cast<int>(option), ": ", curl_easy_strerror(code)));
}

// curl_multi_setopt as a Status.
template <typename T>
absl::Status SetMultiOption(CURLM* multi, CURLMoption option, T value) {
  const CURLMcode code = curl_multi_setopt(multi, option, value);
  if (code == CURLM_OK) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("curl multi option ", static_cast<int>(option), ": ",
                                          curl_multi_strerror(code)));
}

// Appends "name: value" to `list`; INTERNAL when curl cannot (out of memory), the list is
// then unchanged.
absl::Status AppendHeader(CurlHeaderList& list, const std::string& line);

// A CURLOPT_WRITEFUNCTION that appends the body to the std::string given as CURLOPT_WRITEDATA.
size_t AppendToString(char* data, size_t size, size_t n, void* string);

}  // namespace claude

#endif  // COMMON_CURL_CURL_HANDLES_H_
