// libFuzzer target: the error table. Whatever an upstream's error body or error event holds,
// the status it becomes has a message and details that are valid UTF-8, bounded, and never
// echo anything that looks like an API key ("sk-ant-...", any case).
//
// Input: one byte picking the HTTP status (400..655), then the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <google/protobuf/struct.pb.h>

#include "absl/strings/ascii.h"
#include "claude/v1/messages.pb.h"
#include "common/codec/json_mapping.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "service/errors/error_table.h"
#include "service/upstream/messages_api_error.h"

namespace {

bool IsValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// Aborts unless `text` is valid UTF-8 without a key in it.
void CheckEchoed(const std::string& text) {
  if (!IsValidUtf8(text)) std::abort();
  if (absl::AsciiStrToLower(text).find("sk-ant-") != std::string::npos) std::abort();
}

void CheckStatus(const grpc::Status& status) {
  if (status.ok()) std::abort();
  CheckEchoed(status.error_message());
  if (status.error_message().size() > 4096) std::abort();
  if (status.error_details().size() > 8192) std::abort();  // the trailers must stay small
  google::rpc::Status rpc;
  if (!rpc.ParseFromString(status.error_details())) std::abort();
  for (const google::protobuf::Any& any : rpc.details()) {
    if (google::rpc::ErrorInfo info; any.UnpackTo(&info)) {
      CheckEchoed(info.reason());
      for (const auto& [key, value] : info.metadata()) {
        CheckEchoed(key);
        CheckEchoed(value);
      }
    } else if (google::protobuf::Struct details; any.UnpackTo(&details)) {
      CheckEchoed(claude::MessageToJsonString(details));
    } else if (google::rpc::RequestInfo request; any.UnpackTo(&request)) {
      CheckEchoed(request.request_id());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int http_status = 400 + data[0];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  CheckStatus(claude::StatusFromHttpError(http_status, body, {{"request-id", body.substr(0, 64)}}));
  claude::v1::ErrorEvent event;
  if (claude::JsonToMessage(body, &event).ok()) CheckStatus(claude::StatusFromErrorEvent(event, {}));
  return 0;
}
