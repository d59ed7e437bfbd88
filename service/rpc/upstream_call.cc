#include "service/rpc/upstream_call.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/codec/json_mapping.h"
#include "service/errors/error_table.h"

namespace claude {

// ---------------------------------------------------------------------------------------------
// UpstreamCall: attempts, retries, error responses.

UpstreamCall::UpstreamCall(const CallEnvironment& env, HttpRequest request, absl::Time deadline)
    : env_(env), request_(std::move(request)), deadline_(deadline) {}

void UpstreamCall::Begin(CallRecord record) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    record_ = std::move(record);
    StartAttempt(absl::ZeroDuration());
  }
  Flush();
}

void UpstreamCall::StartAttempt(absl::Duration delay) {
  if (cancelled_) return;
  ResetAttempt();
  http_status_ = 0;
  headers_.clear();
  error_body_.clear();
  HttpRequest attempt = request_;  // shares the body
  const absl::Time now = absl::Now();
  const absl::Duration remaining =
      deadline_ == absl::InfiniteFuture() ? env_.options.default_timeout : deadline_ - now;
  if (remaining - delay <= absl::ZeroDuration()) {
    Conclude(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "deadline exceeded before the upstream request could be sent"));
    return;
  }
  attempt.timeout = remaining - delay;
  if (record_.upstream_started == CallRecord::Clock::time_point{}) {
    record_.upstream_started = CallRecord::Clock::now();
  }
  transfer_ = env_.transport->Start(std::move(attempt), shared_from_this(), delay);
  transfer_live_ = true;
}

grpc::Status UpstreamCall::DecodeEvents(
    EventDecoder& decoder, std::optional<absl::string_view> chunk,
    absl::FunctionRef<grpc::Status(claude::v1::MessageStreamEvent)> on_event) const {
  grpc::Status ended;  // why the events stop here, when they do
  auto emit = [&](claude::v1::MessageStreamEvent event) {
    ended = event.has_error() ? StatusFromErrorEvent(event.error(), headers_) : on_event(std::move(event));
    return ended.ok() ? absl::OkStatus() : absl::AbortedError("the stream ends here");
  };
  const absl::Status decoded = chunk ? decoder.Feed(*chunk, emit) : decoder.Finish(emit);
  if (!ended.ok()) return ended;
  if (decoded.ok()) return grpc::Status::OK;
  // The body ended before the stream did.
  if (!chunk && decoded.code() == absl::StatusCode::kUnavailable) return ToGrpcStatus(decoded);
  return StatusFromInternal(decoded);
}

void UpstreamCall::CancelLocked() {
  if (cancelled_) return;
  cancelled_ = true;
  if (transfer_live_) env_.transport->Cancel(transfer_);
}

void UpstreamCall::Cancel(grpc::Status status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!cancelled_) {
      CancelLocked();
      Conclude(std::move(status));
    }
  }
  Flush();
}

void UpstreamCall::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  detached_ = true;
  CancelLocked();
}

void UpstreamCall::OnHead(int http_status, const HttpHeaders& headers) {
  std::lock_guard<std::mutex> lock(mu_);
  http_status_ = http_status;
  headers_ = headers;
  record_.attempt_statuses.push_back(http_status);
  if (const std::string* id = FindHeader(headers, "request-id")) record_.request_id = *id;
}

BodyAction UpstreamCall::OnBody(absl::string_view chunk) {
  BodyAction action = BodyAction::kContinue;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return BodyAction::kAbort;
    if (http_status_ >= 200 && http_status_ < 300) {
      action = OnSuccessBody(chunk);
    } else {
      const size_t room = env_.options.max_error_body_bytes - std::min(error_body_.size(), env_.options.max_error_body_bytes);
      error_body_.append(chunk.data(), std::min(room, chunk.size()));
    }
  }
  Flush();
  return action;
}

void UpstreamCall::OnDone(const absl::Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    transfer_live_ = false;
    record_.upstream_ended = CallRecord::Clock::now();
    if (!cancelled_ && http_status_ == 0) record_.attempt_statuses.push_back(0);
    if (!cancelled_) {
      if (http_status_ >= 200 && http_status_ < 300) {
        OnSuccessEnd(status);
      } else if (http_status_ != 0) {
        RetryOrConclude(StatusFromUpstreamError(env_.dialect->ReadError(http_status_, error_body_, headers_), headers_),
                        http_status_);
      } else if (status.code() == absl::StatusCode::kCancelled ||
                 status.code() == absl::StatusCode::kDeadlineExceeded) {
        Conclude(StatusFromTransportError(status));
      } else {
        RetryOrConclude(StatusFromTransportError(status), 0);
      }
    }
  }
  Flush();
}

void UpstreamCall::RetryOrConclude(grpc::Status status, int http_status) {
  if (!cancelled_ && MayRetry()) {
    const absl::Duration remaining =
        deadline_ == absl::InfiniteFuture() ? absl::InfiniteDuration() : deadline_ - absl::Now();
    RetryDecision decision = env_.retry_policy->Decide(retries_, http_status, headers_, remaining);
    if (decision.retry) {
      ++retries_;
      StartAttempt(decision.delay);
      return;
    }
  }
  Conclude(std::move(status));
}

CallRecord UpstreamCall::TakeRecord(const grpc::Status& status) {
  record_.Finish(status);
  record_.retries = retries_;
  // The call stopped waiting for a transfer still running (cancelled): its upstream time ends now.
  if (record_.upstream_started != CallRecord::Clock::time_point{} &&
      (transfer_live_ || record_.upstream_ended == CallRecord::Clock::time_point{})) {
    record_.upstream_ended = record_.ended;
  }
  return std::move(record_);
}

void UpstreamCall::NotifyEnd(const CallRecord& record) const {
  if (env_.observers != nullptr) env_.observers->End(record);
}

void UpstreamCall::AddTrailers(const HttpHeaders& headers, const grpc::Status& status,
                               grpc::CallbackServerContext* context) {
  ForwardHeaders(headers, [context](const std::string& k, const std::string& v) {
    context->AddTrailingMetadata(k, v);
  });
  // The server has applied its own retry policy to the upstream already: a negative pushback
  // tells gRPC clients with a retry policy not to multiply the attempts.
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
    context->AddTrailingMetadata("grpc-retry-pushback-ms", "-1");
  }
}

void UpstreamCall::ForwardHeaders(
    const HttpHeaders& headers, const std::function<void(const std::string&, const std::string&)>& add) {
  for (const auto& [name, value] : headers) {
    if (name == "request-id" || name == "retry-after" || name == "retry-after-ms" ||
        absl::StartsWith(name, "anthropic-ratelimit-")) {
      add(name, value);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// UnaryCall

UnaryCall::UnaryCall(const CallEnvironment& env, HttpRequest request, absl::Time deadline,
                     grpc::CallbackServerContext* context, grpc::ServerUnaryReactor* reactor,
                     google::protobuf::Message* response, bool accumulate_stream)
    : UpstreamCall(env, std::move(request), deadline),
      context_(context),
      reactor_(reactor),
      response_(response),
      accumulate_stream_(accumulate_stream),
      max_response_bytes_(env.options.max_response_bytes) {}

void UnaryCall::ResetAttempt() {
  body_.clear();
  stream_error_ = grpc::Status::OK;
  if (accumulate_stream_) {
    decoder_ = dialect().NewEventDecoder();
    accumulator_.emplace();
  }
}

BodyAction UnaryCall::OnSuccessBody(absl::string_view chunk) {
  if (!accumulate_stream_) {
    if (body_.size() + chunk.size() > max_response_bytes_) {
      stream_error_ = grpc::Status(grpc::StatusCode::INTERNAL,
                                   absl::StrCat("upstream response exceeds ", max_response_bytes_, " bytes"));
      return BodyAction::kAbort;
    }
    body_.append(chunk.data(), chunk.size());
    return BodyAction::kContinue;
  }
  stream_error_ = DecodeEvents(*decoder_, chunk, [&](claude::v1::MessageStreamEvent event) {
    return FoldEvent(event);
  });
  return stream_error_.ok() ? BodyAction::kContinue : BodyAction::kAbort;
}

grpc::Status UnaryCall::FoldEvent(const claude::v1::MessageStreamEvent& event) {
  if (absl::Status s = accumulator_->Apply(event); !s.ok()) return StatusFromInternal(s);
  return grpc::Status::OK;
}

void UnaryCall::OnSuccessEnd(const absl::Status& transport) {
  if (!stream_error_.ok()) {
    Conclude(stream_error_);
    return;
  }
  if (!transport.ok()) {
    RetryOrConclude(StatusFromTransportError(transport), 0);
    return;
  }
  if (accumulate_stream_) {
    if (grpc::Status cut = DecodeEvents(*decoder_, std::nullopt, [&](claude::v1::MessageStreamEvent event) {
          return FoldEvent(event);
        });
        !cut.ok()) {
      Conclude(std::move(cut));
      return;
    }
    absl::StatusOr<claude::v1::Message> message = std::move(*accumulator_).Finish();
    if (!message.ok()) {
      Conclude(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            absl::StrCat("upstream stream incomplete: ", message.status().message())));
      return;
    }
    RecordMessage(*message);
    static_cast<claude::v1::Message*>(response_)->Swap(&*message);
    Conclude(grpc::Status::OK);
    return;
  }
  if (absl::Status s = dialect().DecodeReply(body_, response_); !s.ok()) {
    Conclude(StatusFromInternal(s));
    return;
  }
  if (response_->GetDescriptor() == claude::v1::Message::descriptor()) {
    RecordMessage(*static_cast<const claude::v1::Message*>(response_));
  }
  Conclude(grpc::Status::OK);
}

void UnaryCall::RecordMessage(const claude::v1::Message& message) {
  if (message.has_usage()) {
    const claude::v1::Usage& u = message.usage();
    record().usage = CallUsage{u.input_tokens(), u.output_tokens(), u.cache_read_input_tokens(),
                               u.cache_creation_input_tokens()};
  }
  if (record_bodies()) {
    for (const claude::v1::ContentBlock& block : message.content()) {
      if (block.has_text()) record().response_text += block.text().text();
    }
  }
}

void UnaryCall::Conclude(grpc::Status status) {
  if (finished_ || detached_) return;
  finished_ = true;
  pending_finish_ = std::move(status);
}

void UnaryCall::Flush() {
  std::optional<grpc::Status> finish;
  HttpHeaders headers;
  std::optional<CallRecord> record;
  {
    std::lock_guard<std::mutex> lock(mu_);
    finish.swap(pending_finish_);
    if (finish) {
      headers = response_headers();
      record = TakeRecord(*finish);
    }
  }
  if (!finish) return;
  NotifyEnd(*record);
  AddTrailers(headers, *finish, context_);
  reactor_->Finish(*finish);
}

// ---------------------------------------------------------------------------------------------
// StreamCall

StreamCall::StreamCall(const CallEnvironment& env, HttpRequest request, absl::Time deadline,
                       grpc::CallbackServerContext* context,
                       grpc::ServerWriteReactor<claude::v1::MessageStreamEvent>* reactor)
    : UpstreamCall(env, std::move(request), deadline),
      context_(context),
      reactor_(reactor),
      buffer_bytes_(env.options.stream_buffer_bytes) {}

void StreamCall::ResetAttempt() { decoder_ = dialect().NewEventDecoder(); }

grpc::Status StreamCall::HandleEvent(claude::v1::MessageStreamEvent event) {
  RecordEvent(event);
  queued_bytes_ += static_cast<int64_t>(event.ByteSizeLong());
  queue_.push_back(std::move(event));
  produced_any_ = true;
  return grpc::Status::OK;
}

void StreamCall::RecordEvent(const claude::v1::MessageStreamEvent& event) {
  // message_start gives the initial usage; message_delta's counts are cumulative: overwrite.
  if (event.has_message_start() && event.message_start().message().has_usage()) {
    const claude::v1::Usage& u = event.message_start().message().usage();
    record().usage = CallUsage{u.input_tokens(), u.output_tokens(), u.cache_read_input_tokens(),
                               u.cache_creation_input_tokens()};
  } else if (event.has_message_delta() && event.message_delta().has_usage()) {
    const claude::v1::MessageDeltaUsage& u = event.message_delta().usage();
    CallUsage& usage = record().usage ? *record().usage : record().usage.emplace();
    if (u.has_input_tokens()) usage.input_tokens = u.input_tokens();
    if (u.has_output_tokens()) usage.output_tokens = u.output_tokens();
    if (u.has_cache_read_input_tokens()) usage.cache_read_input_tokens = u.cache_read_input_tokens();
    if (u.has_cache_creation_input_tokens()) usage.cache_creation_input_tokens = u.cache_creation_input_tokens();
  } else if (record_bodies() && event.has_content_block_delta() &&
             event.content_block_delta().delta().has_text_delta()) {
    record().response_text += event.content_block_delta().delta().text_delta().text();
  }
}

BodyAction StreamCall::OnSuccessBody(absl::string_view chunk) {
  if (outcome_) return BodyAction::kAbort;
  if (queued_bytes_ >= buffer_bytes_) {
    // The caller reads slower than the upstream writes: hold this chunk in curl (it is delivered
    // again on resume) and stop reading the socket, instead of growing the queue.
    paused_ = true;
    return BodyAction::kPause;
  }
  grpc::Status ended = DecodeEvents(*decoder_, chunk,
                                    [this](claude::v1::MessageStreamEvent event) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                      return HandleEvent(std::move(event));
                                    });
  if (!ended.ok()) {
    // The events already queued still reach the caller; then the stream ends with the failure.
    outcome_ = std::move(ended);
    return BodyAction::kAbort;
  }
  return BodyAction::kContinue;
}

void StreamCall::OnSuccessEnd(const absl::Status& transport) {
  if (outcome_) return;  // an error event or malformed data ended it already
  if (!transport.ok()) {
    if (MayRetry()) {
      RetryOrConclude(StatusFromTransportError(transport), 0);
    } else {
      outcome_ = StatusFromTransportError(transport);
    }
    return;
  }
  // A stream that ends without its end marker is never a success.
  outcome_ = DecodeEvents(*decoder_, std::nullopt,
                          [this](claude::v1::MessageStreamEvent event) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                            return HandleEvent(std::move(event));
                          });
}

void StreamCall::Conclude(grpc::Status status) {
  if (cancelled_) {
    queue_.clear();  // nobody will read them
    queued_bytes_ = 0;
    outcome_ = std::move(status);
    return;
  }
  if (!outcome_) outcome_ = std::move(status);
}

void StreamCall::WriteDone(bool ok) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    write_in_flight_ = false;
    if (!ok && !cancelled_) {
      // The caller is gone: stop the upstream at once.
      CancelLocked();
      Conclude(grpc::Status(grpc::StatusCode::CANCELLED, "caller went away mid-stream"));
    }
  }
  Flush();
}

StreamCall::Action StreamCall::NextAction() {
  Action action;
  if (detached_ || finished_) return action;
  if (paused_ && queued_bytes_ <= buffer_bytes_ / 2 && !cancelled_) {
    paused_ = false;
    action.resume = current_transfer();
  }
  if (write_in_flight_) return action;
  if (!queue_.empty()) {
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= static_cast<int64_t>(in_flight_.ByteSizeLong());
    write_in_flight_ = true;
    action.write = true;
    if (in_flight_.has_content_block_delta() && record().first_token == CallRecord::Clock::time_point{}) {
      record().first_token = CallRecord::Clock::now();
    }
    if (!wrote_any_) {
      wrote_any_ = true;
      action.initial_metadata = response_headers();
    }
    if (paused_ && queued_bytes_ <= buffer_bytes_ / 2 && !cancelled_) {
      paused_ = false;
      action.resume = current_transfer();
    }
    return action;
  }
  if (outcome_) {
    finished_ = true;
    action.finish = *outcome_;
    action.trailing_metadata = response_headers();
    action.record = TakeRecord(*outcome_);
  }
  return action;
}

void StreamCall::Flush() {
  Action action;
  {
    std::lock_guard<std::mutex> lock(mu_);
    action = NextAction();
  }
  if (action.resume) transport()->Resume(*action.resume);
  if (action.write) {
    if (action.initial_metadata) {
      ForwardHeaders(*action.initial_metadata, [this](const std::string& k, const std::string& v) {
        context_->AddInitialMetadata(k, v);
      });
    }
    reactor_->StartWrite(&in_flight_);
  } else if (action.finish) {
    NotifyEnd(*action.record);
    AddTrailers(action.trailing_metadata, *action.finish, context_);
    reactor_->Finish(*action.finish);
  }
}

}  // namespace claude
