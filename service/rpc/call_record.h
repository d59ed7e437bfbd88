// What one RPC did, for metrics and logs: a CallRecord is started by the RPC's handler, filled
// by its UpstreamCall (under the call's own mutex, which it holds anyway), and handed to every
// CallObserver once, just before the RPC's status goes to gRPC, so a caller that has its status
// can already see the RPC in the metrics and logs. RPCs refused before any upstream call
// (validation, a draining server) get a record too.
#ifndef SERVICE_RPC_CALL_RECORD_H_
#define SERVICE_RPC_CALL_RECORD_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace claude {

// Token usage as the upstream reported it (message_start, then message_delta overwrites with
// cumulative counts; or the unary response's usage).
struct CallUsage {
  // Count by token type: every integer `<type>_tokens` field of claude.v1.Usage, in field order,
  // absent ones as 0 ("input", "output", "cache_creation_input", "cache_read_input"), read by
  // reflection (CallUsageOf), so a token type the proto gains reaches metrics and logs as is.
  std::vector<std::pair<std::string, int64_t>> tokens;

  // The count of `type`; 0 when the usage has no such type.
  int64_t count(absl::string_view type) const {
    for (const auto& [name, n] : tokens) {
      if (name == type) return n;
    }
    return 0;
  }
};

// CallRecord::method of each RPC.
inline constexpr char kCreateMessageMethod[] = "claude.v1.Messages/CreateMessage";
inline constexpr char kStreamMessageMethod[] = "claude.v1.Messages/StreamMessage";
inline constexpr char kCountTokensMethod[] = "claude.v1.Messages/CountTokens";
inline constexpr char kListModelsMethod[] = "claude.v1.Models/ListModels";
inline constexpr char kGetModelMethod[] = "claude.v1.Models/GetModel";
inline constexpr char kCreateMessageBatchMethod[] = "claude.v1.MessageBatches/CreateMessageBatch";
inline constexpr char kGetMessageBatchMethod[] = "claude.v1.MessageBatches/GetMessageBatch";
inline constexpr char kListMessageBatchesMethod[] = "claude.v1.MessageBatches/ListMessageBatches";
inline constexpr char kCancelMessageBatchMethod[] = "claude.v1.MessageBatches/CancelMessageBatch";
inline constexpr char kDeleteMessageBatchMethod[] = "claude.v1.MessageBatches/DeleteMessageBatch";
inline constexpr char kStreamMessageBatchResultsMethod[] = "claude.v1.MessageBatches/StreamMessageBatchResults";
inline constexpr char kGetCallerUsageMethod[] = "claude.v1.Admin/GetCallerUsage";

struct CallRecord {
  using Clock = std::chrono::steady_clock;

  // "claude.v1.Messages/StreamMessage".
  std::string method;
  // The authenticated caller's name; "" while the server authenticates no caller.
  std::string caller;
  // The model the request names ("" for calls without one, such as ListModels).
  std::string model;
  // The caller's address as gRPC names it ("ipv4:10.0.0.7:51234").
  std::string peer;
  // The RPC's W3C trace (the caller's, or one started here) and its own span.
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;  // the caller's span; "" when the trace started here
  // Wall-clock start, for the log's timestamp; durations use the steady clock below.
  absl::Time start_time;
  Clock::time_point started{};
  // The first content_block_delta handed to gRPC (streams only).
  Clock::time_point first_token{};
  // From the first upstream attempt's start to the end of the last attempt (or the moment the
  // call stopped waiting for it); unset when no attempt started.
  Clock::time_point upstream_started{};
  Clock::time_point upstream_ended{};
  // When the final status was handed to gRPC.
  Clock::time_point ended{};

  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;  // the status message the caller got (non-OK only)
  // HTTP status of each upstream attempt, in order; 0: the attempt got no response.
  absl::InlinedVector<int, 3> attempt_statuses;
  // The upstream (upstreams file name) of each attempt started, in order; empty names when the
  // server has one unnamed upstream.
  absl::InlinedVector<std::string, 3> attempt_upstreams;
  // How long each attempt of attempt_statuses took to answer: from its request leaving (after
  // any backoff) to its response head, or to its failure when none came.
  absl::InlinedVector<absl::Duration, 3> attempt_latencies;
  std::string request_id;  // the upstream's request-id header of the last attempt
  // Headers of the last attempt's response that the caller would have got as metadata but that
  // were left out: a value gRPC would refuse (not printable ASCII) or over the size bounds.
  int dropped_response_headers = 0;
  int retries = 0;
  std::optional<CallUsage> usage;  // unset when the upstream reported none
  // The reply's message id and stop reason as the API names them ("end_turn"); "" when none came.
  std::string message_id;
  std::string stop_reason;

  // Only when bodies are recorded (--log_bodies): the JSON body sent upstream, and the text of
  // the reply's text blocks.
  std::shared_ptr<const std::string> request_body;
  std::string response_text;

  // Sets the final status and the end time.
  void Finish(const grpc::Status& status) {
    code = status.error_code();
    if (!status.ok()) message = status.error_message();
    ended = Clock::now();
  }

  // HTTP status of the last attempt, 0 if none answered.
  int upstream_status() const { return attempt_statuses.empty() ? 0 : attempt_statuses.back(); }
  absl::Duration latency() const { return absl::FromChrono(ended - started); }
  std::optional<absl::Duration> time_to_first_token() const {
    if (first_token == Clock::time_point{}) return std::nullopt;
    return absl::FromChrono(first_token - started);
  }
  std::optional<absl::Duration> upstream_time() const {
    if (upstream_started == Clock::time_point{}) return std::nullopt;
    return absl::FromChrono(upstream_ended - upstream_started);
  }
};

// Sees every RPC start and end. Called on gRPC and curl loop threads, possibly at once for
// different RPCs: implementations are thread-safe, cheap and never block.
class CallObserver {
 public:
  virtual ~CallObserver() = default;
  virtual void OnCallStart(const CallRecord& record) { (void)record; }
  // Exactly once per RPC, before its status is sent.
  virtual void OnCallEnd(const CallRecord& record) = 0;
};

// The server's observers; fixed before the server starts, read-only afterwards. Add publishes
// with a release store and the readers acquire it, so an observer built on the starting thread
// is visibly complete on the gRPC and curl loop threads that call it (their hand-off through
// gRPC's own threads is invisible to ThreadSanitizer).
class CallObservers {
 public:
  void Add(std::shared_ptr<CallObserver> observer) {
    observers_.push_back(std::move(observer));
    published_.store(observers_.size(), std::memory_order_release);
  }
  bool empty() const { return published_.load(std::memory_order_acquire) == 0; }
  void Start(const CallRecord& record) const {
    const size_t n = published_.load(std::memory_order_acquire);
    for (size_t i = 0; i < n; ++i) observers_[i]->OnCallStart(record);
  }
  void End(const CallRecord& record) const {
    const size_t n = published_.load(std::memory_order_acquire);
    for (size_t i = 0; i < n; ++i) observers_[i]->OnCallEnd(record);
  }

 private:
  std::vector<std::shared_ptr<CallObserver>> observers_;
  std::atomic<size_t> published_{0};
};

}  // namespace claude

#endif  // SERVICE_RPC_CALL_RECORD_H_
