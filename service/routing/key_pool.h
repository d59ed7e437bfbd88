// A pool of API keys for one upstream (the upstreams file's key_files): keys are used in turn;
// a key the upstream refused (401, 403) is parked for `auth_failure_park` (a revoked key, or one
// not yet valid, must not fail every other call), and one that hit its rate limit (429) is
// parked until the retry-after the upstream gave (else `rate_limit_park`). When every key is
// parked the pool says when the first one frees up, so the call can fail over to another
// upstream or give the caller a RetryInfo.
//
// Thread-safe; time is passed in.
#ifndef SERVICE_ROUTING_KEY_POOL_H_
#define SERVICE_ROUTING_KEY_POOL_H_

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/sync/mutex.h"

namespace claude {

struct KeyPoolPolicy {
  absl::Duration auth_failure_park = absl::Minutes(5);
  absl::Duration rate_limit_park = absl::Seconds(10);  // a 429 without retry-after
};

class KeyPool {
 public:
  // `keys` > 0: how many keys the pool rotates over (indexes 0..keys-1).
  KeyPool(size_t keys, KeyPoolPolicy policy = {});

  // The key for the next attempt at `now`: the next one in turn that is not parked; nullopt
  // when all are.
  std::optional<size_t> Next(absl::Time now);
  // When the earliest parked key frees up; InfinitePast when one is free now.
  absl::Time FirstFreeAt(absl::Time now) const;
  // The response an attempt with `key` got (0: none). `retry_after`: what a 429 said.
  void Report(size_t key, int http_status, std::optional<absl::Duration> retry_after, absl::Time now);

 private:
  const KeyPoolPolicy policy_;
  mutable Mutex mu_;
  std::vector<absl::Time> parked_until_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace claude

#endif  // SERVICE_ROUTING_KEY_POOL_H_
