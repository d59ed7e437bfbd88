// Per-upstream connection limits (the upstreams file's max_connections): at most `limit`
// transfers of one pool in flight at once, the rest waiting first come first served. With
// HTTP/1.1 a transfer in flight holds one connection, so this bounds the connections opened to
// that upstream, whatever other upstreams share its host. Pure bookkeeping, no clock or I/O:
// CurlEventLoop owns one and touches it on its thread only.
#ifndef SERVICE_UPSTREAM_CONNECTION_SLOTS_H_
#define SERVICE_UPSTREAM_CONNECTION_SLOTS_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace claude {

class ConnectionSlots {
 public:
  using Id = uint64_t;

  // True: `id` holds one of `pool`'s slots now. False: it waits (in arrival order) until
  // Release hands it a slot. `limit` > 0; the latest request's limit applies to the pool.
  bool Acquire(absl::string_view pool, long limit, Id id);
  // `id` is done (or gave up waiting): frees its slot, or takes it out of the queue. Returns
  // the waiting ids that now hold a slot, in arrival order (more than one when the pool's
  // limit was raised meanwhile).
  std::vector<Id> Release(absl::string_view pool, Id id);

  // For tests and metrics.
  long in_flight(absl::string_view pool) const;
  size_t waiting(absl::string_view pool) const;

 private:
  struct Pool {
    long limit = 0;
    long in_flight = 0;
    std::deque<Id> waiting;
  };
  absl::flat_hash_map<std::string, Pool> pools_;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_CONNECTION_SLOTS_H_
