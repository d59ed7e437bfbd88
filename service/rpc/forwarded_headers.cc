#include "service/rpc/forwarded_headers.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace claude {
namespace {

// What gRPC charges an entry against its metadata size limit (HPACK's accounting).
constexpr size_t kMetadataEntryOverhead = 32;

// request-id and the retry hints come before the rate-limit headers when the budget is tight:
// callers act on them.
bool IsPriorityHeader(absl::string_view name) {
  return name == "request-id" || name == "retry-after" || name == "retry-after-ms";
}

}  // namespace

bool IsForwardedHeaderName(absl::string_view name) {
  return IsPriorityHeader(name) || absl::StartsWith(name, "anthropic-ratelimit-");
}

bool IsValidMetadataValue(absl::string_view value) {
  for (unsigned char c : value) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

bool IsValidMetadataKey(absl::string_view name) {
  if (name.empty() || absl::EndsWith(name, "-bin")) return false;
  for (unsigned char c : name) {
    if (!(absl::ascii_isdigit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

ForwardedHeaders SelectForwardedHeaders(const HttpHeaders& headers) {
  ForwardedHeaders out;
  size_t total = 0;
  const auto take = [&](const std::string& name, const std::string& value) {
    const size_t cost = name.size() + value.size() + kMetadataEntryOverhead;
    if (!IsValidMetadataKey(name) || !IsValidMetadataValue(value) ||
        value.size() > kMaxForwardedValueBytes || total + cost > kMaxForwardedHeaderBytes) {
      ++out.dropped;
      return;
    }
    total += cost;
    out.entries.emplace_back(name, value);
  };
  for (const auto& [name, value] : headers) {
    if (IsPriorityHeader(name)) take(name, value);
  }
  for (const auto& [name, value] : headers) {
    if (!IsPriorityHeader(name) && IsForwardedHeaderName(name)) take(name, value);
  }
  return out;
}

}  // namespace claude
