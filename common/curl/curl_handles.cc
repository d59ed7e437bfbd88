#include "common/curl/curl_handles.h"

namespace claude {

absl::Status AppendHeader(CurlHeaderList& list, const std::string& line) {
  curl_slist* head = curl_slist_append(list.get(), line.c_str());
  if (head == nullptr) return absl::InternalError("curl_slist_append failed");
  if (list == nullptr) list.reset(head);  // otherwise `head` is the list we already own
  return absl::OkStatus();
}

size_t AppendToString(char* data, size_t size, size_t n, void* string) {
  static_cast<std::string*>(string)->append(data, size * n);
  return size * n;
}

}  // namespace claude
