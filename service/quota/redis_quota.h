// The windowed limits (requests and tokens per minute, token and US-dollar budgets per day and
// month) counted in Redis, so every replica sharing it enforces one limit. Each count is a key
// per caller and fixed window ("claude-grpc:{<caller>}:rpm:<window id>"), created by INCR and
// set to expire a minute after its window ends, so nothing grows without bound. An admission is
// one Lua script (one round trip, EVALSHA: Redis runs its cached copy): it reads the counts the
// caller has limits on, refuses when one is reached (or when a batch's requests would pass the
// per-minute one), else counts the request (a batch: 1 + its requests), atomically: two replicas
// never both admit the last
// request of a window. Charging a finished call is a second script. The caller's name is the
// keys' hash tag, so a Redis Cluster keeps a caller's keys in one slot.
//
// When Redis cannot answer (no connection, an error, a timeout), `fail_open` admits with the
// replica's own in-memory count (CallerLimiter::AdmitWindows) and reports it; otherwise the
// call is refused UNAVAILABLE.
#ifndef SERVICE_QUOTA_REDIS_QUOTA_H_
#define SERVICE_QUOTA_REDIS_QUOTA_H_

#include <atomic>
#include <memory>
#include <string>

#include "service/quota/quota_windows.h"
#include "service/quota/redis_client.h"
#include "service/security/caller_limiter.h"
#include "service/security/shared_limits.h"

namespace claude {

struct RedisQuotaOptions {
  QuotaWindows windows;
  bool fail_open = true;
  std::string key_prefix = "claude-grpc";
};

// Admissions decided without Redis (fail open), for metrics.
class QuotaFailOpenObserver {
 public:
  virtual ~QuotaFailOpenObserver() = default;
  virtual void OnFailOpen() = 0;
};

class RedisQuota final : public SharedLimits {
 public:
  // `client` and `local` outlive this.
  RedisQuota(RedisClient* client, CallerLimiter* local, RedisQuotaOptions options,
             std::shared_ptr<QuotaFailOpenObserver> observer = nullptr);

  void Admit(const std::string& caller, const CallerLimits& limits, absl::Time now,
             int64_t requests, std::function<void(SharedDecision)> done) override;
  void Charge(const std::string& caller, int64_t tokens, int64_t usd_micros, absl::Time now) override;
  void Read(const std::string& caller, absl::Time now,
            std::function<void(absl::StatusOr<CallerUsageCounts>)> done) override;

  // The key of `what` ("rpm", "tpm", "tpd", "tpmo", "usdd", "usdm") for `caller` in window `id`.
  std::string Key(const std::string& caller, const char* what, int64_t id) const;

 private:
  // The six keys of `caller` at `now`, in the scripts' order.
  std::vector<std::string> Keys(const std::string& caller, absl::Time now) const;
  // Runs `script` by its SHA-1 (`sha`); sends the script itself when Redis does not know it.
  // `keys_and_args`: EVAL's arguments after the script (the key count first).
  // `soon`: RedisClient::CommandSoon, else Command.
  void Eval(const char* script, const std::string& sha, std::vector<std::string> keys_and_args,
            bool soon, RedisClient::Callback done);

  RedisClient* const client_;
  CallerLimiter* const local_;
  const RedisQuotaOptions options_;
  const std::shared_ptr<QuotaFailOpenObserver> observer_;
  const std::string admit_sha_;
  const std::string charge_sha_;
  // Redis failed the last admission: logged once per outage, not per call.
  std::atomic<bool> failing_{false};
};

}  // namespace claude

#endif  // SERVICE_QUOTA_REDIS_QUOTA_H_
