#include "service/security/caller_gate.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/errors/error_table.h"

namespace claude {
namespace {

grpc::Status Unauthenticated(std::string message, std::string reason) {
  return StatusFromLocalPolicy(grpc::StatusCode::UNAUTHENTICATED, std::move(message), std::move(reason));
}

}  // namespace

CallAdmission& CallAdmission::operator=(CallAdmission&& other) noexcept {
  if (this != &other) {
    Release();
    status_ = std::move(other.status_);
    caller_ = std::move(other.caller_);
    held_ = std::exchange(other.held_, nullptr);
  }
  return *this;
}

void CallAdmission::Release() {
  if (held_ != nullptr) std::exchange(held_, nullptr)->Release(caller_);
}

CallerGate::CallerGate(CallerPolicy policy) : policy_(std::move(policy)) {
  if (!policy_.callers_file.empty()) {
    callers_ = std::make_unique<CallersFile>(policy_.callers_file, policy_.callers_check_interval);
  }
}

absl::Status CallerGate::Load() { return callers_ == nullptr ? absl::OkStatus() : callers_->Load(); }

CallAdmission CallerGate::Admit(const grpc::ServerContextBase& context, int64_t requests) {
  CallAdmission admission;
  const absl::Time now = absl::Now();
  CallerLimits limits = policy_.limits;
  if (callers_ != nullptr) {
    const auto& metadata = context.client_metadata();
    auto it = metadata.find("authorization");
    if (it == metadata.end()) {
      admission.status_ = Unauthenticated(
          "missing caller token: send \"authorization: Bearer <token>\" metadata", "caller_token_missing");
      return admission;
    }
    absl::string_view value(it->second.data(), it->second.size());
    value = absl::StripAsciiWhitespace(value);
    if (!absl::StartsWithIgnoreCase(value, "bearer ")) {
      admission.status_ = Unauthenticated(
          "the authorization metadata must be \"Bearer <token>\"", "caller_token_malformed");
      return admission;
    }
    const absl::string_view token = absl::StripLeadingAsciiWhitespace(value.substr(7));
    const std::shared_ptr<const CallersFile::Table> table = callers_->Current(now);
    const CallerEntry* entry = table == nullptr ? nullptr : FindCaller(*table, token);
    if (entry == nullptr) {
      admission.status_ = Unauthenticated("unknown or revoked caller token", "caller_token_unknown");
      return admission;
    }
    admission.caller_ = entry->name;
    limits = entry->LimitsOver(policy_.limits);
  }
  if (limits.unlimited()) return admission;
  if (std::optional<LimitRefusal> refusal = limiter_.Acquire(admission.caller_, limits, now, requests)) {
    const std::string who =
        admission.caller_.empty() ? "the anonymous caller" : absl::StrCat("caller \"", admission.caller_, "\"");
    admission.status_ = StatusFromLocalPolicy(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat(who, " is ", refusal->message, "; retry in ",
                     absl::FormatDuration(absl::Ceil(refusal->retry_after, absl::Milliseconds(1)))),
        refusal->reason, refusal->retry_after);
    return admission;
  }
  admission.held_ = &limiter_;
  return admission;
}

void CallerGate::RecordTokens(const std::string& caller, int64_t tokens) {
  limiter_.RecordTokens(caller, tokens, absl::Now());
}

}  // namespace claude
