// StreamMessageBatchResults: a call made of two upstream exchanges. First the batch itself
// (GET /v1/messages/batches/{id}): a batch still processing ends the RPC FAILED_PRECONDITION,
// naming its status; an ended one gives the results_url, which the dialect turns into the
// second request (refused, INTERNAL, unless it is on the upstream's origin). Then the results,
// JSONL of any size, are read line by line into claude.v1.MessageBatchResult and relayed with
// the same backpressure as StreamMessage: a full relay pauses the download, so memory stays
// bounded by the relay's watermark plus one line. A line that does not parse ends the RPC
// INTERNAL naming its line number, after the results before it.
//
// Threads, locks and the CallerSide: as for every UpstreamCall (upstream_call.h).
#ifndef SERVICE_RPC_BATCH_RESULTS_CALL_H_
#define SERVICE_RPC_BATCH_RESULTS_CALL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "claude/v1/message_batches.pb.h"
#include "service/rpc/caller_side.h"
#include "service/rpc/upstream_call.h"

namespace claude {

class BatchResultsCall final : public RelayedCall<claude::v1::MessageBatchResult> {
 public:
  // Largest single line of a results file.
  static constexpr size_t kMaxLineBytes = 32 << 20;

  // `request` is the batch's GET; `forwarded` go with the results' GET too; results up to and
  // including `after_custom_id` (when set) are skipped.
  BatchResultsCall(const CallEnvironment& env, std::vector<UpstreamTarget> targets, absl::Time deadline,
                   CallerSide* caller, HttpHeaders forwarded, std::optional<std::string> after_custom_id);

 private:
  enum class Phase { kBatch, kResults };

  BodyAction OnSuccessBody(absl::string_view chunk) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnSuccessEnd(const absl::Status& transport) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResetAttempt() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The batch has been read whole: check it has ended, then ask for its results.
  void StartResults() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One complete line of the results (without its newline): relayed, skipped, or the error.
  grpc::Status TakeLine(absl::string_view line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const HttpHeaders forwarded_;
  const std::optional<std::string> after_custom_id_;
  const size_t max_batch_bytes_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kBatch;
  std::string body_ ABSL_GUARDED_BY(mu_);  // the batch's JSON (phase kBatch); a partial line (kResults)
  int64_t line_number_ ABSL_GUARDED_BY(mu_) = 0;
  bool skipping_ ABSL_GUARDED_BY(mu_);  // before after_custom_id's result
};

}  // namespace claude

#endif  // SERVICE_RPC_BATCH_RESULTS_CALL_H_
