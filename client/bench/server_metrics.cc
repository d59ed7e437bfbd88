#include "client/bench/server_metrics.h"

#include <curl/curl.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/curl/curl_handles.h"

namespace claude {
namespace bench {
absl::StatusOr<std::string> FetchMetrics(int metrics_port) {
  std::string body;
  CurlEasy curl(curl_easy_init());
  if (curl == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
  const std::string url = absl::StrCat("http://127.0.0.1:", metrics_port, "/metrics");
  for (absl::Status s :
       {SetOption(curl.get(), CURLOPT_URL, url.c_str()),
        SetOption(curl.get(), CURLOPT_WRITEFUNCTION, AppendToString),
        SetOption(curl.get(), CURLOPT_WRITEDATA, &body),
        SetOption(curl.get(), CURLOPT_NOSIGNAL, 1L), SetOption(curl.get(), CURLOPT_TIMEOUT, 10L)}) {
    if (!s.ok()) return s;
  }
  if (const CURLcode code = curl_easy_perform(curl.get()); code != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat(url, ": ", curl_easy_strerror(code)));
  }
  return body;
}

double SampleValue(absl::string_view text, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, absl::StrCat(name, " "))) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(name.size() + 1), &value)) return value;
  }
  return -1;
}

double LabelledSum(absl::string_view text, absl::string_view name, absl::string_view label) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, absl::StrCat(name, "{")) || !absl::StrContains(line, label))
      continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) sum += value;
  }
  return sum;
}

}  // namespace bench
}  // namespace claude
