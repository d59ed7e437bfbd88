// W3C Trace Context for each RPC: the caller's trace (the `traceparent` and `tracestate`
// metadata, else OpenCensus' binary `grpc-trace-bin`), or a new one when the caller sends none
// or sends it malformed. Each RPC gets a span id of its own, whose parent is the caller's span;
// the upstream request carries `traceparent` naming that span, so the upstream's spans hang
// under ours; the per-RPC log line carries trace_id and span_id.
#ifndef SERVICE_OBSERVABILITY_TRACE_CONTEXT_H_
#define SERVICE_OBSERVABILITY_TRACE_CONTEXT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace claude {

struct TraceContext {
  std::string trace_id;        // 32 lowercase hex digits, not all zero
  std::string span_id;         // this RPC's span: 16 lowercase hex digits, not all zero
  std::string parent_span_id;  // the caller's span; "" when the trace starts here
  std::string flags = "01";    // trace-flags, 2 hex digits (01: sampled)
  std::string tracestate;      // the caller's, passed on; "" when none or unusable

  // "00-<trace_id>-<span_id>-<flags>", the traceparent header naming this RPC's span.
  std::string Traceparent() const;
};

// The caller's trace from its metadata values (empty: absent), with a new span id for this RPC;
// a new trace when neither header gives a valid one. Malformed values are ignored, never echoed.
TraceContext TraceContextFromCaller(absl::string_view traceparent, absl::string_view tracestate,
                                    absl::string_view grpc_trace_bin);

// The trace id, parent span id and flags of a W3C traceparent value; nullopt when malformed
// (wrong length or characters, version ff, an all-zero id).
struct ParsedTraceparent {
  std::string trace_id;
  std::string parent_span_id;
  std::string flags;
};
std::optional<ParsedTraceparent> ParseTraceparent(absl::string_view value);

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_TRACE_CONTEXT_H_
