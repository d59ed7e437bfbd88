#include "service/observability/trace_context.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace claude {
namespace {

// tracestate may hold up to 32 members of up to 256 characters each; 512 bytes is what the
// spec asks every participant to pass on at least. Longer ones are dropped, not cut.
constexpr size_t kMaxTracestateBytes = 512;

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool AllZero(absl::string_view s) { return s.find_first_not_of('0') == absl::string_view::npos; }

// `bytes` random bytes as lowercase hex, never all zero.
std::string RandomHexId(int bytes) {
  thread_local absl::BitGen random;
  std::string raw(static_cast<size_t>(bytes), '\0');
  do {
    for (char& c : raw) c = static_cast<char>(absl::Uniform<uint8_t>(random));
  } while (AllZero(absl::BytesToHexString(raw)));
  return absl::BytesToHexString(raw);
}

// Printable ASCII only (a header value), within the bound.
bool IsUsableTracestate(absl::string_view value) {
  if (value.empty() || value.size() > kMaxTracestateBytes) return false;
  for (char c : value) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// OpenCensus' binary format: version 0, then field 0 (16-byte trace id), field 1 (8-byte span
// id), field 2 (1 byte of options), in that order.
std::optional<ParsedTraceparent> ParseGrpcTraceBin(absl::string_view bin) {
  if (bin.size() < 27 || bin[0] != 0 || bin[1] != 0 || bin[18] != 1) return std::nullopt;
  ParsedTraceparent parsed;
  parsed.trace_id = absl::BytesToHexString(bin.substr(2, 16));
  parsed.parent_span_id = absl::BytesToHexString(bin.substr(19, 8));
  parsed.flags = bin.size() >= 29 && bin[27] == 2 ? absl::BytesToHexString(bin.substr(28, 1)) : "00";
  if (AllZero(parsed.trace_id) || AllZero(parsed.parent_span_id)) return std::nullopt;
  return parsed;
}

}  // namespace

std::string TraceContext::Traceparent() const { return absl::StrCat("00-", trace_id, "-", span_id, "-", flags); }

std::optional<ParsedTraceparent> ParseTraceparent(absl::string_view value) {
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters;
  // later versions may append "-..." fields.
  if (value.size() < 55 || (value.size() > 55 && value[55] != '-')) return std::nullopt;
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  const absl::string_view version = value.substr(0, 2), trace_id = value.substr(3, 32),
                          parent = value.substr(36, 16), flags = value.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff" || (version == "00" && value.size() != 55)) return std::nullopt;
  if (!IsLowerHex(trace_id) || !IsLowerHex(parent) || !IsLowerHex(flags)) return std::nullopt;
  if (AllZero(trace_id) || AllZero(parent)) return std::nullopt;
  return ParsedTraceparent{std::string(trace_id), std::string(parent), std::string(flags)};
}

TraceContext TraceContextFromCaller(absl::string_view traceparent, absl::string_view tracestate,
                                    absl::string_view grpc_trace_bin) {
  TraceContext context;
  std::optional<ParsedTraceparent> caller = ParseTraceparent(traceparent);
  const bool w3c = caller.has_value();
  if (!caller) caller = ParseGrpcTraceBin(grpc_trace_bin);
  if (caller) {
    context.trace_id = caller->trace_id;
    context.parent_span_id = caller->parent_span_id;
    context.flags = caller->flags;
    if (w3c && IsUsableTracestate(tracestate)) context.tracestate = std::string(tracestate);
  } else {
    context.trace_id = RandomHexId(16);
  }
  context.span_id = RandomHexId(8);
  return context;
}

}  // namespace claude
