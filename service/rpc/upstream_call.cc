#include "service/rpc/upstream_call.h"

#include <algorithm>
#include <type_traits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "service/errors/error_table.h"

namespace claude {

// The reply's message id and stop reason (the API's string: "end_turn"), as far as given, into
// the record; bounded, as both come from the upstream.
void RecordReply(absl::string_view message_id, claude::v1::StopReason stop_reason, absl::string_view raw,
                 CallRecord* record) {
  constexpr size_t kMaxBytes = 128;
  if (!message_id.empty()) record->message_id = std::string(message_id.substr(0, kMaxBytes));
  if (!raw.empty()) {
    record->stop_reason = std::string(raw.substr(0, kMaxBytes));
  } else if (stop_reason != claude::v1::STOP_REASON_UNSPECIFIED) {
    absl::string_view name = claude::v1::StopReason_Name(stop_reason);
    absl::ConsumePrefix(&name, "STOP_REASON_");
    record->stop_reason = absl::AsciiStrToLower(name);
  }
}

CallUsage CallUsageOf(const claude::v1::Usage& usage) {
  using google::protobuf::FieldDescriptor;
  CallUsage out;
  const google::protobuf::Descriptor* descriptor = usage.GetDescriptor();
  const google::protobuf::Reflection* reflection = usage.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    absl::string_view type = field->name();
    if (field->is_repeated() || field->cpp_type() != FieldDescriptor::CPPTYPE_INT64 ||
        !absl::ConsumeSuffix(&type, "_tokens")) {
      continue;
    }
    out.tokens.emplace_back(std::string(type), reflection->GetInt64(usage, field));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// UpstreamCall: attempts, retries, error responses.

namespace {

std::vector<UpstreamTarget> SingleTarget(const CallEnvironment& env, HttpRequest request) {
  std::vector<UpstreamTarget> targets(1);
  targets[0].dialect = env.dialect;
  targets[0].request = std::move(request);
  return targets;
}

}  // namespace

UpstreamCall::UpstreamCall(const CallEnvironment& env, std::vector<UpstreamTarget> targets,
                           absl::Time deadline, CallerSide* caller)
    : caller_(caller), env_(env), targets_(std::move(targets)), deadline_(deadline) {}

UpstreamCall::UpstreamCall(const CallEnvironment& env, HttpRequest request, absl::Time deadline,
                           CallerSide* caller)
    : UpstreamCall(env, SingleTarget(env, std::move(request)), deadline, caller) {}

void UpstreamCall::Begin(CallRecord record) {
  {
    MutexLock lock(mu_);
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
  const absl::Duration remaining = deadline_ == absl::InfiniteFuture()
                                       ? env_.options.default_timeout
                                       : deadline_ - env_.clock->Now();
  if (remaining - delay <= absl::ZeroDuration()) {
    Conclude(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "deadline exceeded before the upstream request could be sent"));
    return;
  }
  const absl::Time now = env_.clock->Now();
  // An upstream whose keys are all parked (refused, rate limited) is left for the next one.
  for (size_t tried = 0; targets_[target_].keys != nullptr; ++tried) {
    if (const std::optional<size_t> key = targets_[target_].keys->Next(now)) {
      key_ = *key;
      break;
    }
    const std::optional<size_t> next = NextTarget(now);
    if (!next.has_value() || tried == targets_.size()) {
      Conclude(WithAttempts(grpc::Status(
          grpc::StatusCode::UNAVAILABLE,
          absl::StrCat("every key of upstream \"", targets_[target_].upstream, "\" is parked until ",
                       absl::FormatTime(targets_[target_].keys->FirstFreeAt(now))))));
      return;
    }
    target_ = *next;
  }
  const UpstreamTarget& target = targets_[target_];
  HttpRequest attempt = target.request;  // shares the body
  if (target.keys != nullptr) attempt.signer = (*target.key_signers)[key_];
  attempt.timeout = std::min(attempt.timeout, remaining - delay);  // an upstream's own timeout
  record_.attempt_upstreams.push_back(target.upstream);
  attempt_sent_ = CallRecord::Clock::now() + absl::ToChronoNanoseconds(delay);
  if (record_.upstream_started == CallRecord::Clock::time_point{}) {
    record_.upstream_started = CallRecord::Clock::now();
  }
  transfer_ = env_.transport->Start(std::move(attempt), shared_from_this(), delay);
  transfer_live_ = true;
}

void UpstreamCall::StartNextRequest(HttpRequest next) {
  // The next request goes to the upstream that answered the previous one, alone.
  UpstreamTarget target = targets_[target_];
  target.request = std::move(next);
  targets_.assign(1, std::move(target));
  target_ = 0;
  retries_ = 0;
  StartAttempt(absl::ZeroDuration());
}

void UpstreamCall::CancelLocked() {
  if (cancelled_) return;
  cancelled_ = true;
  if (transfer_live_) env_.transport->Cancel(transfer_);
}

void UpstreamCall::Cancel(grpc::Status status) {
  {
    MutexLock lock(mu_);
    if (!cancelled_) {
      CancelLocked();
      Conclude(std::move(status));
    }
  }
  Flush();
}

void UpstreamCall::Detach() {
  MutexLock lock(mu_);
  detached_ = true;
  CancelLocked();
}

void UpstreamCall::OnHead(int http_status, const HttpHeaders& headers) {
  MutexLock lock(mu_);
  http_status_ = http_status;
  headers_ = headers;
  forwarded_ = SelectForwardedHeaders(headers);
  // The attempt whose answer the caller gets decides: earlier attempts' headers never reach it.
  record_.dropped_response_headers = forwarded_.dropped;
  record_.attempt_statuses.push_back(http_status);
  record_.attempt_latencies.push_back(absl::FromChrono(CallRecord::Clock::now() - attempt_sent_));
  // Logged, so held to the same rule as metadata: printable ASCII, bounded.
  if (const std::string* id = FindHeader(headers, "request-id");
      id != nullptr && IsValidMetadataValue(*id) && id->size() <= kMaxForwardedValueBytes) {
    record_.request_id = *id;
  }
  if (http_status >= 200 && http_status < 300) ReportAttempt(http_status, env_.clock->Now());
}

BodyAction UpstreamCall::OnBody(absl::string_view chunk) {
  BodyAction action = BodyAction::kContinue;
  {
    MutexLock lock(mu_);
    if (cancelled_) return BodyAction::kAbort;
    if (http_status_ >= 200 && http_status_ < 300) {
      action = OnSuccessBody(chunk);
    } else {
      const size_t limit = env_.options.max_error_body_bytes;
      const size_t room = limit - std::min(error_body_.size(), limit);
      error_body_.append(chunk.data(), std::min(room, chunk.size()));
    }
  }
  Flush();
  return action;
}

void UpstreamCall::OnDone(const absl::Status& status) {
  {
    MutexLock lock(mu_);
    transfer_live_ = false;
    record_.upstream_ended = CallRecord::Clock::now();
    if (!cancelled_ && http_status_ == 0) {
      record_.attempt_statuses.push_back(0);
      record_.attempt_latencies.push_back(absl::FromChrono(record_.upstream_ended - attempt_sent_));
    }
    if (!cancelled_) {
      if (http_status_ >= 200 && http_status_ < 300) {
        OnSuccessEnd(status);
      } else if (http_status_ != 0) {
        const UpstreamError error = dialect().ReadError(http_status_, error_body_, headers_);
        RetryOrConclude(StatusFromUpstreamError(error, headers_), http_status_);
      } else if (status.code() == absl::StatusCode::kUnavailable) {
        RetryOrConclude(StatusFromTransportError(status), 0);  // a connection error
      } else {
        // Cancelled, timed out, or a request the transport could not set up (signing, an
        // option): another attempt would fare no better.
        Conclude(StatusFromTransportError(status));
      }
    }
  }
  Flush();
}

void UpstreamCall::RetryOrConclude(grpc::Status status, int http_status) {
  const absl::Time now = env_.clock->Now();
  ReportAttempt(http_status, now);
  if (!cancelled_ && MayRetry()) {
    const std::optional<size_t> next = NextTarget(now);
    // Else the same upstream with its next key, when one is free.
    const KeyPool* keys = targets_[target_].keys;
    const bool next_key = !next.has_value() && keys != nullptr && keys->FirstFreeAt(now) == absl::InfinitePast();
    const absl::Duration remaining =
        deadline_ == absl::InfiniteFuture() ? absl::InfiniteDuration() : deadline_ - now;
    // Another upstream or key is tried at once, so the wait this one asked for cannot veto it;
    // the deadline still bounds the attempt (StartAttempt).
    const bool at_once = next.has_value() || next_key;
    RetryDecision decision = env_.retry_policy->Decide(
        retries_, http_status, headers_, at_once ? absl::InfiniteDuration() : remaining, now);
    if (decision.retry) {
      ++retries_;
      if (next.has_value()) target_ = *next;
      if (at_once) decision.delay = absl::ZeroDuration();
      StartAttempt(decision.delay);
      return;
    }
  }
  Conclude(std::move(status));
}

void UpstreamCall::ReportAttempt(int http_status, absl::Time now) {
  if (KeyPool* keys = targets_[target_].keys; keys != nullptr) {
    keys->Report(key_, http_status, ServerRetryDelay(headers_, now), now);
  }
  UpstreamHealth* health = targets_[target_].health;
  if (health == nullptr) return;
  if (http_status == 0 || http_status == 408 || http_status >= 500) {
    health->OnFailure(now);
  } else {
    health->OnSuccess();  // it answered: up, whatever it thought of the request
  }
  if (http_status == 429 || http_status == 503 || http_status == 529) {
    if (const std::optional<absl::Duration> wait = ServerRetryDelay(headers_, now)) {
      health->BackOffUntil(now + *wait);
    }
  }
}

std::optional<size_t> UpstreamCall::NextTarget(absl::Time now) {
  if (targets_.size() < 2) return std::nullopt;
  for (size_t i = 1; i < targets_.size(); ++i) {
    const size_t candidate = (target_ + i) % targets_.size();
    UpstreamHealth* health = targets_[candidate].health;
    if (health == nullptr || health->TryAdmit(now)) return candidate;
  }
  return std::nullopt;  // all the others are ejected or backing off: this one, after its backoff
}

grpc::Status UpstreamCall::WithAttempts(grpc::Status status) const {
  if (status.ok() || record_.attempt_upstreams.empty() || record_.attempt_upstreams.front().empty()) {
    return status;
  }
  std::string attempts;
  for (size_t i = 0; i < record_.attempt_upstreams.size(); ++i) {
    if (i > 0) attempts += ',';
    const int http_status = i < record_.attempt_statuses.size() ? record_.attempt_statuses[i] : 0;
    absl::StrAppend(&attempts, record_.attempt_upstreams[i], ":", http_status);
  }
  return WithErrorInfoMetadata(status, "attempts", attempts);
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

UpstreamCall::Ending UpstreamCall::TakeEnding(const grpc::Status& status) {
  Ending ending{WithAttempts(status), caller_metadata(), TakeRecord(status)};
  // The server has applied its own retry policy to the upstream already: a negative pushback
  // tells gRPC clients with a retry policy not to multiply the attempts.
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
    ending.trailing_metadata.emplace_back("grpc-retry-pushback-ms", "-1");
  }
  return ending;
}

void UpstreamCall::FinishRpc(const Ending& ending) {
  if (env_.observers != nullptr) env_.observers->End(ending.record);
  caller_->SendStatus(ending.status, ending.trailing_metadata);
}

// ---------------------------------------------------------------------------------------------
// UnaryCall

UnaryCall::UnaryCall(const CallEnvironment& env, HttpRequest request, absl::Time deadline,
                     CallerSide* caller, google::protobuf::Message* response, bool accumulate_stream)
    : UnaryCall(env, SingleTarget(env, std::move(request)), deadline, caller, response,
                accumulate_stream) {}

UnaryCall::UnaryCall(const CallEnvironment& env, std::vector<UpstreamTarget> targets,
                     absl::Time deadline, CallerSide* caller, google::protobuf::Message* response,
                     bool accumulate_stream)
    : UpstreamCall(env, std::move(targets), deadline, caller),
      response_(response),
      accumulate_stream_(accumulate_stream),
      max_response_bytes_(env.options.max_response_bytes) {}

void UnaryCall::ResetAttempt() {
  body_.clear();
  received_bytes_ = 0;
  stream_error_ = grpc::Status::OK;
  if (accumulate_stream_) {
    events_.emplace(NewEventReader());
    accumulator_.emplace();
  }
}

BodyAction UnaryCall::OnSuccessBody(absl::string_view chunk) {
  // The whole reply is held until it is complete, so its size is capped whether it comes as one
  // JSON body or as a stream folded into a Message.
  received_bytes_ += chunk.size();
  if (received_bytes_ > max_response_bytes_) {
    stream_error_ = grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("upstream reply exceeds --max_response_bytes (", max_response_bytes_,
                     " bytes), the most a unary call holds; StreamMessage has no such limit"));
    return BodyAction::kAbort;
  }
  if (!accumulate_stream_) {
    body_.append(chunk.data(), chunk.size());
    return BodyAction::kContinue;
  }
  stream_error_ = events_->Feed(chunk, response_headers(),
                                [this](claude::v1::MessageStreamEvent event) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                  return FoldEvent(event);
                                });
  return stream_error_.ok() ? BodyAction::kContinue : BodyAction::kAbort;
}

grpc::Status UnaryCall::FoldEvent(const claude::v1::MessageStreamEvent& event) {
  if (absl::Status s = accumulator_->Apply(event); !s.ok()) return StatusFromInternal(s);
  return grpc::Status::OK;
}

void UnaryCall::RetryErrorEventOrConclude(grpc::Status failure) {
  const int error_event_status = events_ ? events_->error_event_status() : 0;
  if (error_event_status != 0) {
    RetryOrConclude(std::move(failure), error_event_status);
  } else {
    Conclude(std::move(failure));
  }
}

void UnaryCall::OnSuccessEnd(const absl::Status& transport) {
  if (!stream_error_.ok()) {
    RetryErrorEventOrConclude(stream_error_);
    return;
  }
  if (!transport.ok()) {
    RetryOrConclude(StatusFromTransportError(transport), 0);
    return;
  }
  if (accumulate_stream_) {
    if (grpc::Status cut = events_->Finish(response_headers(),
                                           [this](claude::v1::MessageStreamEvent event) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                             return FoldEvent(event);
                                           });
        !cut.ok()) {
      RetryErrorEventOrConclude(std::move(cut));
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
  if (message.has_usage()) record().usage = CallUsageOf(message.usage());
  RecordReply(message.id(), message.stop_reason(), message.stop_reason_raw(), &record());
  if (record_bodies()) {
    for (const claude::v1::ContentBlock& block : message.content()) {
      if (block.has_text()) record().response_text += block.text().text();
    }
  }
}

void UnaryCall::Conclude(grpc::Status status) {
  if (finished_ || detached_) return;
  finished_ = true;
  pending_end_ = TakeEnding(status);
}

void UnaryCall::Flush() {
  std::optional<Ending> end;
  {
    MutexLock lock(mu_);
    end.swap(pending_end_);
  }
  if (end) FinishRpc(*end);
}

// ---------------------------------------------------------------------------------------------
// RelayedCall

template <typename Event>
void RelayedCall<Event>::WriteDone(bool ok) {
  {
    MutexLock lock(mu_);
    relay_.WriteDone();
    if (!ok && !cancelled_) {
      // The caller is gone: stop the upstream at once.
      CancelLocked();
      Conclude(grpc::Status(grpc::StatusCode::CANCELLED, "caller went away mid-stream"));
    }
  }
  Flush();
}

template <typename Event>
bool RelayedCall<Event>::PauseForSlowCaller() {
  if (!relay_.above_high_watermark()) return false;
  relay_.Paused();
  return true;
}

template <typename Event>
void RelayedCall<Event>::Produce(Event event) {
  relay_.Push(std::move(event));
  produced_any_ = true;
}

template <typename Event>
void RelayedCall<Event>::Conclude(grpc::Status status) {
  if (cancelled_) {
    relay_.Clear();  // nobody will read them
    outcome_ = std::move(status);
    return;
  }
  if (!outcome_) outcome_ = std::move(status);
}

template <typename Event>
typename RelayedCall<Event>::Action RelayedCall<Event>::NextAction() {
  Action action;
  if (detached_ || finished_) return action;
  action.write = relay_.StartWrite();
  if (action.write != nullptr) {
    OnWriteStarting(*action.write);
    if (!wrote_any_) {
      wrote_any_ = true;
      action.initial_metadata = caller_metadata();
    }
  } else if (outcome_ && !relay_.write_in_flight() && relay_.empty()) {
    finished_ = true;
    action.end = TakeEnding(*outcome_);
  }
  if (relay_.TakeResume() && !cancelled_) action.resume = current_transfer();
  return action;
}

template <typename Event>
void RelayedCall<Event>::Flush() {
  Action action;
  {
    MutexLock lock(mu_);
    action = NextAction();
  }
  if (action.resume) transport().Resume(*action.resume);
  if (action.write != nullptr) {
    const HttpHeaders* initial_metadata =
        action.initial_metadata ? &*action.initial_metadata : nullptr;
    if constexpr (std::is_same_v<Event, claude::v1::MessageStreamEvent>) {
      caller_->SendEvent(*action.write, initial_metadata);
    } else {
      caller_->SendResult(*action.write, initial_metadata);
    }
  } else if (action.end) {
    FinishRpc(*action.end);
  }
}

template class RelayedCall<claude::v1::MessageStreamEvent>;
template class RelayedCall<claude::v1::MessageBatchResult>;

// ---------------------------------------------------------------------------------------------
// StreamCall

StreamCall::StreamCall(const CallEnvironment& env, HttpRequest request, absl::Time deadline,
                       CallerSide* caller)
    : StreamCall(env, SingleTarget(env, std::move(request)), deadline, caller) {}

StreamCall::StreamCall(const CallEnvironment& env, std::vector<UpstreamTarget> targets,
                       absl::Time deadline, CallerSide* caller)
    : RelayedCall(env, std::move(targets), deadline, caller) {}

void StreamCall::ResetAttempt() {
  events_.emplace(NewEventReader());
  error_before_first_event_.reset();
}

grpc::Status StreamCall::Relay(claude::v1::MessageStreamEvent event) {
  RecordEvent(event);
  Produce(std::move(event));
  return grpc::Status::OK;
}

void StreamCall::OnWriteStarting(const claude::v1::MessageStreamEvent& event) {
  if (event.has_content_block_delta() && record().first_token == CallRecord::Clock::time_point{}) {
    record().first_token = CallRecord::Clock::now();
  }
}

void StreamCall::RecordEvent(const claude::v1::MessageStreamEvent& event) {
  // message_start gives the initial usage; message_delta's counts are cumulative: overwrite.
  if (event.has_message_start()) {
    RecordReply(event.message_start().message().id(), claude::v1::STOP_REASON_UNSPECIFIED, "", &record());
  } else if (event.has_message_delta()) {
    RecordReply("", event.message_delta().delta().stop_reason(), event.message_delta().delta().stop_reason_raw(),
                &record());
  }
  if (event.has_message_start() && event.message_start().message().has_usage()) {
    usage_ = event.message_start().message().usage();
  } else if (event.has_message_delta() && event.message_delta().has_usage()) {
    ApplyUsageDelta(event.message_delta().usage(), usage_ ? &*usage_ : &usage_.emplace());
  } else {
    if (record_bodies() && event.has_content_block_delta() &&
        event.content_block_delta().delta().has_text_delta()) {
      record().response_text += event.content_block_delta().delta().text_delta().text();
    }
    return;
  }
  record().usage = CallUsageOf(*usage_);
}

BodyAction StreamCall::OnSuccessBody(absl::string_view chunk) {
  if (outcome_ || error_before_first_event_) return BodyAction::kAbort;
  // The caller reads slower than the upstream writes: hold this chunk in the transport (it is
  // delivered again on resume) and stop reading the socket, instead of growing the queue.
  if (PauseForSlowCaller()) return BodyAction::kPause;
  grpc::Status ended = events_->Feed(chunk, response_headers(),
                                     [this](claude::v1::MessageStreamEvent event) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                       return Relay(std::move(event));
                                     });
  if (!ended.ok()) {
    if (MayRetry() && events_->error_event_status() != 0) {
      error_before_first_event_ = std::move(ended);  // OnSuccessEnd retries it
    } else {
      // The events already queued still reach the caller; then the stream ends with the failure.
      outcome_ = std::move(ended);
    }
    return BodyAction::kAbort;
  }
  return BodyAction::kContinue;
}

void StreamCall::OnSuccessEnd(const absl::Status& transport) {
  if (error_before_first_event_) {
    grpc::Status error = *std::move(error_before_first_event_);
    error_before_first_event_.reset();
    RetryOrConclude(std::move(error), events_->error_event_status());
    return;
  }
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
  grpc::Status ended = events_->Finish(
      response_headers(), [this](claude::v1::MessageStreamEvent event)
                              ABSL_NO_THREAD_SAFETY_ANALYSIS { return Relay(std::move(event)); });
  if (!ended.ok() && MayRetry() && events_->error_event_status() != 0) {
    RetryOrConclude(std::move(ended), events_->error_event_status());
    return;
  }
  outcome_ = std::move(ended);
}

}  // namespace claude
