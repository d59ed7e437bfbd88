#include "service/quota/redis_quota.h"
#include "service/observability/server_log.h"

#include <openssl/sha.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace claude {
namespace {

// KEYS: requests this minute, tokens this minute, tokens today, tokens this month, micro-USD
// today, micro-USD this month. ARGV[1..6]: the limit on each (0: none); ARGV[7]: when the
// minute's key expires (Unix ms); ARGV[8]: the requests this call counts (1; a batch: 1 + its
// requests), all of them or none. Returns {0, requests} when admitted, else {i, count}: the
// first limit (1-based, KEYS order) reached.
constexpr char kAdmitScript[] = R"lua(
for i = 2, 6 do
  local limit = tonumber(ARGV[i])
  if limit > 0 then
    local used = tonumber(redis.call('GET', KEYS[i]) or '0')
    if used >= limit then return {i, used} end
  end
end
local limit = tonumber(ARGV[1])
local requests = tonumber(ARGV[8])
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if limit > 0 and count + requests > limit then return {1, count} end
count = redis.call('INCRBY', KEYS[1], requests)
redis.call('PEXPIREAT', KEYS[1], ARGV[7])
return {0, count}
)lua";

// KEYS as above, without the first; ARGV: tokens, micro-USD, and when the minute's, the day's
// and the month's keys expire (Unix ms).
constexpr char kChargeScript[] = R"lua(
local tokens = tonumber(ARGV[1])
local micros = tonumber(ARGV[2])
if tokens > 0 then
  redis.call('INCRBY', KEYS[1], tokens)
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  redis.call('INCRBY', KEYS[2], tokens)
  redis.call('PEXPIREAT', KEYS[2], ARGV[4])
  redis.call('INCRBY', KEYS[3], tokens)
  redis.call('PEXPIREAT', KEYS[3], ARGV[5])
end
if micros > 0 then
  redis.call('INCRBY', KEYS[4], micros)
  redis.call('PEXPIREAT', KEYS[4], ARGV[4])
  redis.call('INCRBY', KEYS[5], micros)
  redis.call('PEXPIREAT', KEYS[5], ARGV[5])
end
return 1
)lua";

// EVALSHA's name for a script: its SHA-1, in hex.
std::string ScriptSha(absl::string_view script) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(script.data()), script.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

constexpr LimitKind kKindOfKey[] = {LimitKind::kRequestsPerMinute, LimitKind::kTokensPerMinute,
                                    LimitKind::kTokensPerDay,      LimitKind::kTokensPerMonth,
                                    LimitKind::kUsdPerDay,         LimitKind::kUsdPerMonth};

// Keys outlive their window by a minute, so replicas whose clocks differ a little still see
// the same counts.
std::string ExpiresAt(absl::Time window_end) {
  return absl::StrCat(absl::ToUnixMillis(window_end + absl::Minutes(1)));
}

int64_t Count(const RedisValue& value) {
  if (value.type == RedisValue::Type::kInteger) return value.integer;
  int64_t n = 0;
  if (value.type == RedisValue::Type::kString && absl::SimpleAtoi(value.string, &n)) return n;
  return 0;
}

}  // namespace

RedisQuota::RedisQuota(RedisClient* client, CallerLimiter* local, RedisQuotaOptions options,
                       std::shared_ptr<QuotaFailOpenObserver> observer)
    : client_(client),
      local_(local),
      options_(std::move(options)),
      observer_(std::move(observer)),
      admit_sha_(ScriptSha(kAdmitScript)),
      charge_sha_(ScriptSha(kChargeScript)) {
  // Loaded on every connection, so EVALSHA finds them even on a Redis that just restarted.
  client_->AddConnectionSetup({"SCRIPT", "LOAD", kAdmitScript});
  client_->AddConnectionSetup({"SCRIPT", "LOAD", kChargeScript});
}

void RedisQuota::Eval(const char* script, const std::string& sha,
                      std::vector<std::string> keys_and_args, bool soon,
                      RedisClient::Callback done) {
  std::vector<std::string> args = {"EVALSHA", sha};
  args.insert(args.end(), std::make_move_iterator(keys_and_args.begin()),
              std::make_move_iterator(keys_and_args.end()));
  // Kept for the rare resend: a Redis whose scripts were flushed (SCRIPT FLUSH) after this
  // connection loaded them answers NOSCRIPT, and gets the script itself, which caches it again.
  auto resend = std::make_shared<std::vector<std::string>>(args);
  auto on_reply = [this, script, resend,
                   done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
    if (!reply.ok() && reply.status().code() == absl::StatusCode::kInternal &&
        absl::StartsWith(reply.status().message(), "Redis: NOSCRIPT")) {
      (*resend)[0] = "EVAL";
      (*resend)[1] = script;
      client_->Command(std::move(*resend), std::move(done));
      return;
    }
    done(std::move(reply));
  };
  if (soon) {
    client_->CommandSoon(std::move(args), std::move(on_reply));
  } else {
    client_->Command(std::move(args), std::move(on_reply));
  }
}

std::string RedisQuota::Key(const std::string& caller, const char* what, int64_t id) const {
  // Caller names never hold braces (callers_file.h), so the tag is the whole name.
  return absl::StrCat(options_.key_prefix, ":{", caller, "}:", what, ":", id);
}

std::vector<std::string> RedisQuota::Keys(const std::string& caller, absl::Time now) const {
  const int64_t minute = options_.windows.MinuteAt(now).id;
  const int64_t day = options_.windows.DayAt(now).id;
  const int64_t month = options_.windows.MonthAt(now).id;
  return {Key(caller, "rpm", minute), Key(caller, "tpm", minute), Key(caller, "tpd", day),
          Key(caller, "tpmo", month), Key(caller, "usdd", day),   Key(caller, "usdm", month)};
}

void RedisQuota::Admit(const std::string& caller, const CallerLimits& limits, absl::Time now,
                       int64_t requests, std::function<void(SharedDecision)> done) {
  requests = std::max<int64_t>(requests, 1);
  const int64_t limit_of_key[] = {limits.requests_per_minute, limits.tokens_per_minute,
                                  limits.tokens_per_day,      limits.tokens_per_month,
                                  limits.usd_micros_per_day,  limits.usd_micros_per_month};
  std::vector<std::string> args = {"6"};
  for (std::string& key : Keys(caller, now)) args.push_back(std::move(key));
  for (int64_t limit : limit_of_key) args.push_back(absl::StrCat(std::max<int64_t>(limit, 0)));
  const QuotaWindow minute = options_.windows.MinuteAt(now);
  args.push_back(ExpiresAt(minute.end));
  args.push_back(absl::StrCat(requests));
  const absl::Time window_end[] = {minute.end, minute.end, options_.windows.DayAt(now).end,
                                   options_.windows.MonthAt(now).end, options_.windows.DayAt(now).end,
                                   options_.windows.MonthAt(now).end};
  std::vector<absl::Time> ends(std::begin(window_end), std::end(window_end));
  std::vector<int64_t> limit_values(std::begin(limit_of_key), std::end(limit_of_key));
  Eval(
      kAdmitScript, admit_sha_, std::move(args), /*soon=*/false,
      [this, caller, limits, now, requests, ends = std::move(ends),
       limit_values = std::move(limit_values),
       done = std::move(done)](absl::StatusOr<RedisValue> reply) {
        SharedDecision decision;
        if (reply.ok() && reply->type == RedisValue::Type::kArray && reply->elements.size() == 2) {
          if (failing_.exchange(false)) {
            LogEvent(Severity::kInfo, "Redis answers again: limits are shared again", {{"event", "redis_recovered"}});
          }
          const int64_t which = Count(reply->elements[0]);
          if (which == 1) {
            decision.refusal =
                RequestsRefusal(limit_values[0], requests,
                                limit_values[0] - Count(reply->elements[1]), ends[0] - now);
          } else if (which >= 2 && which <= 6) {
            decision.refusal = RefusalFor(kKindOfKey[which - 1], limit_values[which - 1], ends[which - 1] - now);
          }
          done(std::move(decision));
          return;
        }
        const absl::Status failure =
            reply.ok() ? absl::InternalError("Redis answered the admission script unexpectedly") : reply.status();
        if (!failing_.exchange(true)) {
          LogEvent(Severity::kError,
                   absl::StrCat("Redis cannot decide admissions (", failure.message(), "): ",
                                options_.fail_open ? "admitting on this replica's own counts" : "refusing calls",
                                " until it answers again"),
                   {{"event", "redis_unavailable"}});
        }
        if (options_.fail_open) {
          if (observer_) observer_->OnFailOpen();
          decision.refusal = local_->AdmitWindows(caller, limits, now, requests);
        } else {
          decision.unavailable = absl::UnavailableError(
              absl::StrCat("the shared quota store (Redis) cannot be reached: ", failure.message()));
        }
        done(std::move(decision));
      });
}

void RedisQuota::Charge(const std::string& caller, int64_t tokens, int64_t usd_micros, absl::Time now) {
  if (tokens <= 0 && usd_micros <= 0) return;
  std::vector<std::string> keys = Keys(caller, now);
  std::vector<std::string> args = {"5"};
  for (size_t i = 1; i < keys.size(); ++i) args.push_back(std::move(keys[i]));
  args.push_back(absl::StrCat(std::max<int64_t>(tokens, 0)));
  args.push_back(absl::StrCat(std::max<int64_t>(usd_micros, 0)));
  args.push_back(ExpiresAt(options_.windows.MinuteAt(now).end));
  args.push_back(ExpiresAt(options_.windows.DayAt(now).end));
  args.push_back(ExpiresAt(options_.windows.MonthAt(now).end));
  // Nobody waits for a charge: it is written right after the next reply (CommandSoon), so
  // Redis wakes once for both and no admission waits while Redis runs it. The admission
  // answered just before it does not see these tokens; every one written after it does (one
  // connection, in order). Token limits are approximate anyway: calls already admitted are
  // charged only when they end.
  Eval(kChargeScript, charge_sha_, std::move(args), /*soon=*/true,
       [](absl::StatusOr<RedisValue> reply) {
         // Counted by the client's error metric; the replica's own count (always kept) stands in.
         (void)reply;
       });
}

void RedisQuota::Read(const std::string& caller, absl::Time now,
                      std::function<void(absl::StatusOr<CallerUsageCounts>)> done) {
  std::vector<std::string> args = {"MGET"};
  for (std::string& key : Keys(caller, now)) args.push_back(std::move(key));
  client_->Command(std::move(args), [done = std::move(done)](absl::StatusOr<RedisValue> reply) {
    if (!reply.ok()) {
      done(reply.status());
      return;
    }
    if (reply->type != RedisValue::Type::kArray || reply->elements.size() != 6) {
      done(absl::InternalError("Redis answered MGET unexpectedly"));
      return;
    }
    const auto& e = reply->elements;
    CallerUsageCounts counts;
    counts.requests_this_minute = Count(e[0]);
    counts.tokens_this_minute = Count(e[1]);
    counts.tokens_today = Count(e[2]);
    counts.tokens_this_month = Count(e[3]);
    counts.usd_micros_today = Count(e[4]);
    counts.usd_micros_this_month = Count(e[5]);
    done(counts);
  });
}

}  // namespace claude
