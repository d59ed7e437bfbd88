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

grpc::Status RefusalStatus(const std::string& caller, const LimitRefusal& refusal) {
  const std::string who = caller.empty() ? "the anonymous caller" : absl::StrCat("caller \"", caller, "\"");
  if (refusal.never_fits) {
    return StatusFromQuotaRefusal(absl::StrCat(who, " is ", refusal.message), refusal.reason,
                                  std::nullopt, absl::StrCat("caller:", caller));
  }
  return StatusFromQuotaRefusal(
      absl::StrCat(who, " is ", refusal.message, "; retry in ",
                   absl::FormatDuration(absl::Ceil(refusal.retry_after, absl::Milliseconds(1)))),
      refusal.reason, refusal.retry_after, absl::StrCat("caller:", caller));
}

}  // namespace

CallAdmission& CallAdmission::operator=(CallAdmission&& other) noexcept {
  if (this != &other) {
    Release();
    status_ = std::move(other.status_);
    caller_ = std::move(other.caller_);
    admin_ = other.admin_;
    pending_ = std::exchange(other.pending_, false);
    limits_ = other.limits_;
    requests_ = other.requests_;
    held_ = std::exchange(other.held_, nullptr);
  }
  return *this;
}

void CallAdmission::Release() {
  if (held_ != nullptr) std::exchange(held_, nullptr)->Release(caller_);
}

CallerGate::CallerGate(CallerPolicy policy) : policy_(std::move(policy)), limiter_(policy_.windows) {
  if (!policy_.callers_file.empty()) {
    callers_ = std::make_unique<CallersFile>(policy_.callers_file, policy_.callers_check_interval);
  }
}

absl::Status CallerGate::Load() { return callers_ == nullptr ? absl::OkStatus() : callers_->Load(); }

absl::StatusOr<AuthenticatedCaller> CallerGate::Authenticate(const grpc::ServerContextBase& context,
                                                              absl::Time now) {
  AuthenticatedCaller who;
  who.limits = policy_.limits;
  who.admin = callers_ == nullptr;
  if (callers_ == nullptr) return who;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("missing caller token: send \"authorization: Bearer <token>\" metadata");
  }
  absl::string_view value(it->second.data(), it->second.size());
  value = absl::StripAsciiWhitespace(value);
  if (!absl::StartsWithIgnoreCase(value, "bearer ")) {
    return absl::UnauthenticatedError("the authorization metadata must be \"Bearer <token>\"");
  }
  const absl::string_view token = absl::StripLeadingAsciiWhitespace(value.substr(7));
  const std::shared_ptr<const CallersFile::Table> table = callers_->Current(now);
  const CallerEntry* entry = table == nullptr ? nullptr : FindCaller(*table, token);
  if (entry == nullptr) return absl::UnauthenticatedError("unknown or revoked caller token");
  who.name = entry->name;
  who.admin = entry->admin;
  who.limits = entry->LimitsOver(policy_.limits);
  return who;
}

grpc::Status CallerGate::AuthenticationStatus(const absl::Status& failure) {
  const absl::string_view message = failure.message();
  const char* reason = absl::StartsWith(message, "missing")    ? "caller_token_missing"
                       : absl::StrContains(message, "Bearer") ? "caller_token_malformed"
                                                              : "caller_token_unknown";
  return Unauthenticated(std::string(message), reason);
}

CallAdmission CallerGate::Admit(const grpc::ServerContextBase& context, int64_t requests) {
  CallAdmission admission;
  const absl::Time now = absl::Now();
  absl::StatusOr<AuthenticatedCaller> who = Authenticate(context, now);
  if (!who.ok()) {
    admission.status_ = AuthenticationStatus(who.status());
    return admission;
  }
  admission.caller_ = who->name;
  admission.admin_ = who->admin;
  const CallerLimits& limits = who->limits;
  if (limits.unlimited()) return admission;
  // With a shared store, this replica counts only its calls in flight; the store the rest. A
  // batch's windowed limits wait for Decide too, so that an invalid batch counts nothing.
  const bool decide_later = shared_ != nullptr || requests > 1;
  CallerLimits local = limits;
  if (decide_later) local = CallerLimits{limits.concurrent_streams};
  if (std::optional<LimitRefusal> refusal = limiter_.Acquire(admission.caller_, local, now)) {
    admission.status_ = RefusalStatus(admission.caller_, *refusal);
    return admission;
  }
  admission.held_ = &limiter_;
  if (decide_later && limits.has_windowed_limits()) {
    admission.pending_ = true;
    admission.limits_ = limits;
    admission.requests_ = requests;
  }
  return admission;
}

void CallerGate::Decide(CallAdmission admission, std::function<void(CallAdmission)> done) {
  if (!admission.pending_ || !admission.ok()) {
    admission.pending_ = false;
    done(std::move(admission));
    return;
  }
  if (shared_ == nullptr) {  // a batch without a shared store: this replica decides, inline
    admission.pending_ = false;
    if (std::optional<LimitRefusal> refusal = limiter_.AdmitWindows(
            admission.caller_, admission.limits_, absl::Now(), admission.requests_)) {
      admission.Release();
      admission.status_ = RefusalStatus(admission.caller_, *refusal);
    }
    done(std::move(admission));
    return;
  }
  // std::function needs a copyable capture; the admission (its slot) moves through a holder.
  auto held = std::make_shared<CallAdmission>(std::move(admission));
  const std::string caller = held->caller_;
  const CallerLimits limits = held->limits_;
  shared_->Admit(caller, limits, absl::Now(), held->requests_,
                 [held, done = std::move(done)](SharedDecision decision) {
                   CallAdmission result = std::move(*held);
                   result.pending_ = false;
                   if (!decision.unavailable.ok()) {
                     result.Release();
                     result.status_ = StatusFromLocalPolicy(
                         grpc::StatusCode::UNAVAILABLE, std::string(decision.unavailable.message()),
                         "quota_store_unavailable", absl::Seconds(1));
                   } else if (decision.refusal) {
                     result.Release();
                     result.status_ = RefusalStatus(result.caller_, *decision.refusal);
                   }
                   done(std::move(result));
                 });
}

void CallerGate::RecordUsage(const std::string& caller, int64_t tokens, int64_t usd_micros) {
  const absl::Time now = absl::Now();
  // Always counted here too: the stand-in while the shared store is unreachable.
  limiter_.RecordTokens(caller, tokens, now, usd_micros);
  if (shared_ != nullptr) shared_->Charge(caller, tokens, usd_micros, now);
}

void CallerGate::ReadUsage(const std::string& caller,
                           std::function<void(absl::StatusOr<CallerUsageCounts>)> done) {
  const absl::Time now = absl::Now();
  if (shared_ != nullptr) {
    shared_->Read(caller, now, std::move(done));
    return;
  }
  done(limiter_.Usage(caller, now));
}

std::optional<AuthenticatedCaller> CallerGate::Find(const std::string& name) {
  if (callers_ == nullptr) {
    if (!name.empty()) return std::nullopt;
    return AuthenticatedCaller{"", true, policy_.limits};
  }
  const std::shared_ptr<const CallersFile::Table> table = callers_->Current(absl::Now());
  if (table == nullptr) return std::nullopt;
  for (const CallerEntry& entry : *table) {
    if (entry.name == name) return AuthenticatedCaller{entry.name, entry.admin, entry.LimitsOver(policy_.limits)};
  }
  return std::nullopt;
}

}  // namespace claude
