// The admission step at the start of every claude.v1 RPC: who is calling (a bearer token
// checked against the callers file, when there is one) and whether that caller is within its
// limits. Health and reflection never pass through it (Kubernetes probes carry no token).
#ifndef SERVICE_SECURITY_CALLER_GATE_H_
#define SERVICE_SECURITY_CALLER_GATE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/security/caller_limiter.h"
#include "service/security/callers_file.h"
#include "service/security/shared_limits.h"

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
  // The fixed windows of the budgets (and of the shared per-minute counts); tests shorten them.
  QuotaWindows windows;
};

class CallerGate;

// Who is calling: the name (empty without authentication), whether it may read other callers'
// usage, and its limits (the server's defaults with its callers-file line applied).
struct AuthenticatedCaller {
  std::string name;
  bool admin = false;
  CallerLimits limits;
};

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
  // The caller is marked admin in the callers file (or authentication is off).
  bool admin() const { return admin_; }
  // The windowed limits still have to decide (CallerGate::Decide): the shared store's, or,
  // for a batch, this replica's after the batch is validated.
  bool pending() const { return pending_; }

 private:
  friend class CallerGate;

  void Release();

  grpc::Status status_;
  std::string caller_;
  bool admin_ = false;
  bool pending_ = false;
  CallerLimits limits_;            // the caller's, for the pending decision
  int64_t requests_ = 1;           // what the call counts against requests_per_minute
  CallerLimiter* held_ = nullptr;  // set while a concurrent slot is held
};

class CallerGate {
 public:
  explicit CallerGate(CallerPolicy policy);

  // Reads the callers file, if any; fails when it cannot be read or parsed.
  absl::Status Load();
  // Counts the windowed limits in `shared` (Redis) instead of in memory; the calls in flight
  // stay per replica. Before the server serves; `shared` outlives the gate's use of it.
  void UseSharedLimits(SharedLimits* shared) { shared_ = shared; }

  // Who the call's "authorization: Bearer <token>" metadata names (anyone, without a callers
  // file); UNAUTHENTICATED otherwise, never echoing the token. Counts nothing.
  absl::StatusOr<AuthenticatedCaller> Authenticate(const grpc::ServerContextBase& context, absl::Time now);
  // Authenticate's failure as the status the caller gets (ErrorInfo reason caller_token_*).
  static grpc::Status AuthenticationStatus(const absl::Status& failure);
  // Authenticates the call from its "authorization: Bearer <token>" metadata and applies the
  // caller's limits: UNAUTHENTICATED (the token is never echoed) or RESOURCE_EXHAUSTED with
  // RetryInfo and QuotaFailure details when refused. With shared limits, the admission comes
  // back pending() when the store has to decide: then call Decide. `requests` is what the call
  // counts against requests_per_minute: 1, or for a CreateMessageBatch 1 + its requests; a
  // call counting more than one is always decided in Decide (after validation, so an invalid
  // batch costs nothing), all of it or nothing, in memory as in the shared store.
  CallAdmission Admit(const grpc::ServerContextBase& context, int64_t requests = 1);
  // Completes a pending admission with the windowed limits' decision (refused: the status says
  // why, and the concurrent slot is given back; UNAVAILABLE when the store cannot decide and
  // the server fails closed). `done` runs exactly once, on the store's thread or inline, never
  // after blocking the caller; an admission that is not pending is handed back at once.
  void Decide(CallAdmission admission, std::function<void(CallAdmission)> done);
  // Charges what a call of `caller` spent: tokens (input + output, for tokens_per_minute and
  // the token budgets) and millionths of a US dollar (the USD budgets). Called when a call
  // ends and its usage is known.
  void RecordUsage(const std::string& caller, int64_t tokens, int64_t usd_micros = 0);
  // A caller's counts: from the shared store when there is one, else this replica's. `done`
  // runs exactly once.
  void ReadUsage(const std::string& caller, std::function<void(absl::StatusOr<CallerUsageCounts>)> done);
  // The caller named `name` (the first of its tokens' lines), or nullopt when no line names it;
  // without authentication, the anonymous caller "" with the server's defaults.
  std::optional<AuthenticatedCaller> Find(const std::string& name);
  bool shared() const { return shared_ != nullptr; }

  bool authenticating() const { return callers_ != nullptr; }
  CallerLimiter& limiter() { return limiter_; }

 private:
  const CallerPolicy policy_;
  std::unique_ptr<CallersFile> callers_;  // null: no authentication
  CallerLimiter limiter_;
  SharedLimits* shared_ = nullptr;
};

}  // namespace claude

#endif  // SERVICE_SECURITY_CALLER_GATE_H_
