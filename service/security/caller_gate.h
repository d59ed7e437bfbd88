// The admission step at the start of every claude.v1 RPC: who is calling (a bearer token
// checked against the callers file, when there is one) and whether that caller is within its
// limits. Health and reflection never pass through it (Kubernetes probes carry no token).
#ifndef SERVICE_SECURITY_CALLER_GATE_H_
#define SERVICE_SECURITY_CALLER_GATE_H_

#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "service/security/caller_limiter.h"
#include "service/security/callers_file.h"

namespace claude {

struct CallerPolicy {
  // The callers file (see callers_file.h); empty: no authentication, every call is the
  // anonymous caller "".
  std::string callers_file;
  // How often the callers file is checked for changes.
  absl::Duration callers_check_interval = absl::Seconds(1);
  // Limits of every caller unless its line in the callers file overrides them; the anonymous
  // caller (authentication off) is one caller: its limits are server-wide.
  CallerLimits limits;
};

class CallerGate;

// One RPC's admission: OK with the caller's name, or the status to finish the RPC with. An
// admitted call holds its caller's concurrent slot until the admission is destroyed: when the
// reactor is deleted (OnDone), just after the caller has its status, so a caller that starts
// its next call at that very instant may still find the slot taken. Move-only.
class CallAdmission {
 public:
  CallAdmission() = default;
  CallAdmission(CallAdmission&& other) noexcept { *this = std::move(other); }
  CallAdmission& operator=(CallAdmission&& other) noexcept;
  ~CallAdmission() { Release(); }

  bool ok() const { return status_.ok(); }
  const grpc::Status& status() const { return status_; }
  // The authenticated caller's name; "" when authentication is off.
  const std::string& caller() const { return caller_; }

 private:
  friend class CallerGate;
  void Release();

  grpc::Status status_;
  std::string caller_;
  CallerLimiter* held_ = nullptr;  // set while a concurrent slot is held
};

class CallerGate {
 public:
  explicit CallerGate(CallerPolicy policy);

  // Reads the callers file, if any; fails when it cannot be read or parsed.
  absl::Status Load();
  // Authenticates the call from its "authorization: Bearer <token>" metadata and applies the
  // caller's limits: UNAUTHENTICATED (the token is never echoed) or RESOURCE_EXHAUSTED with a
  // RetryInfo when refused.
  // `requests`: how many requests the call counts as towards requests_per_minute (a message
  // batch's requests; 1 for any other call).
  CallAdmission Admit(const grpc::ServerContextBase& context, int64_t requests = 1);
  // Counts tokens a call of `caller` spent (input + output), for tokens_per_minute: called when
  // a call ends and its usage is known.
  void RecordTokens(const std::string& caller, int64_t tokens);

  bool authenticating() const { return callers_ != nullptr; }
  CallerLimiter& limiter() { return limiter_; }

 private:
  const CallerPolicy policy_;
  std::unique_ptr<CallersFile> callers_;  // null: no authentication
  CallerLimiter limiter_;
};

}  // namespace claude

#endif  // SERVICE_SECURITY_CALLER_GATE_H_
