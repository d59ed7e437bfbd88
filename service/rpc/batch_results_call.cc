#include "service/rpc/batch_results_call.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"
#include "service/errors/error_table.h"

namespace claude {
namespace {

// The API's JSON name of a processing status, for messages.
std::string ProcessingStatusName(const claude::v1::MessageBatch& batch) {
  switch (batch.processing_status()) {
    case claude::v1::PROCESSING_STATUS_IN_PROGRESS:
      return "in_progress";
    case claude::v1::PROCESSING_STATUS_CANCELING:
      return "canceling";
    case claude::v1::PROCESSING_STATUS_ENDED:
      return "ended";
    default:
      return batch.processing_status_raw().empty() ? "unknown" : batch.processing_status_raw();
  }
}

}  // namespace

BatchResultsCall::BatchResultsCall(const CallEnvironment& env, std::vector<UpstreamTarget> targets,
                                   absl::Time deadline, CallerSide* caller, HttpHeaders forwarded,
                                   std::optional<std::string> after_custom_id)
    : RelayedCall(env, std::move(targets), deadline, caller),
      forwarded_(std::move(forwarded)),
      after_custom_id_(std::move(after_custom_id)),
      max_batch_bytes_(env.options.max_response_bytes),
      skipping_(after_custom_id_.has_value()) {}

void BatchResultsCall::ResetAttempt() {
  body_.clear();
  line_number_ = 0;
  skipping_ = after_custom_id_.has_value();
}

BodyAction BatchResultsCall::OnSuccessBody(absl::string_view chunk) {
  if (outcome_) return BodyAction::kAbort;
  if (phase_ == Phase::kBatch) {
    if (body_.size() + chunk.size() > max_batch_bytes_) {
      outcome_ = grpc::Status(grpc::StatusCode::INTERNAL,
                              absl::StrCat("upstream batch exceeds ", max_batch_bytes_, " bytes"));
      return BodyAction::kAbort;
    }
    body_.append(chunk.data(), chunk.size());
    return BodyAction::kContinue;
  }
  // A slow caller: leave the chunk with the transport (it comes again on resume) and stop
  // reading the socket, rather than grow the queue.
  if (PauseForSlowCaller()) return BodyAction::kPause;
  while (!chunk.empty()) {
    const size_t newline = chunk.find('\n');
    const absl::string_view piece = chunk.substr(0, newline);
    if (body_.size() + piece.size() > kMaxLineBytes) {
      outcome_ = grpc::Status(grpc::StatusCode::INTERNAL, absl::StrCat("upstream results line ", line_number_ + 1,
                                                                        " exceeds ", kMaxLineBytes, " bytes"));
      return BodyAction::kAbort;
    }
    if (newline == absl::string_view::npos) {
      body_.append(piece.data(), piece.size());
      break;
    }
    grpc::Status taken;
    if (body_.empty()) {
      taken = TakeLine(piece);  // the common case: a whole line inside the chunk, not copied
    } else {
      body_.append(piece.data(), piece.size());
      taken = TakeLine(body_);
      body_.clear();
    }
    if (!taken.ok()) {
      outcome_ = std::move(taken);  // the results before it still reach the caller
      return BodyAction::kAbort;
    }
    chunk.remove_prefix(newline + 1);
  }
  return BodyAction::kContinue;
}

grpc::Status BatchResultsCall::TakeLine(absl::string_view line) {
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return grpc::Status::OK;
  claude::v1::MessageBatchResult result;
  if (absl::Status s = JsonToMessage(line, &result); !s.ok()) {
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        absl::StrCat("upstream results line ", line_number_, " does not parse: ", s.message()));
  }
  if (skipping_) {
    if (result.custom_id() == *after_custom_id_) skipping_ = false;
    return grpc::Status::OK;
  }
  Produce(std::move(result));
  return grpc::Status::OK;
}

void BatchResultsCall::OnSuccessEnd(const absl::Status& transport) {
  if (outcome_) return;  // too large, or a line that does not parse, ended it already
  if (!transport.ok()) {
    RetryOrConclude(StatusFromTransportError(transport), 0);
    return;
  }
  if (phase_ == Phase::kBatch) {
    StartResults();
    return;
  }
  // The last line may lack its newline.
  if (!body_.empty()) {
    std::string last = std::move(body_);
    body_.clear();
    if (grpc::Status taken = TakeLine(last); !taken.ok()) {
      Conclude(std::move(taken));
      return;
    }
  }
  Conclude(grpc::Status::OK);
}

void BatchResultsCall::StartResults() {
  claude::v1::MessageBatch batch;
  if (absl::Status s = dialect().DecodeReply(body_, &batch); !s.ok()) {
    Conclude(StatusFromInternal(s));
    return;
  }
  body_.clear();
  if (batch.processing_status() != claude::v1::PROCESSING_STATUS_ENDED) {
    Conclude(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrCat("message batch ", batch.id(), " is ", ProcessingStatusName(batch),
                                       "; its results can be read once it has ended")));
    return;
  }
  if (!batch.has_results_url()) {
    Conclude(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrCat("message batch ", batch.id(), " has no results_url (archived?)")));
    return;
  }
  absl::StatusOr<HttpRequest> results = dialect().MessageBatchResults(batch.results_url(), forwarded_);
  if (!results.ok()) {
    Conclude(ToGrpcStatus(results.status()));
    return;
  }
  phase_ = Phase::kResults;
  StartNextRequest(*std::move(results));
}

}  // namespace claude
