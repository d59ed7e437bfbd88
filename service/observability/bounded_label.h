// A bounded set of Prometheus label values for values callers control (model, caller names):
// a value seen before, or a new one while there is room, is itself; any other is "other".
#ifndef SERVICE_OBSERVABILITY_BOUNDED_LABEL_H_
#define SERVICE_OBSERVABILITY_BOUNDED_LABEL_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "common/sync/mutex.h"

namespace claude {

class BoundedLabel {
 public:
  explicit BoundedLabel(size_t max) : max_(max) {}
  std::string Get(absl::string_view value) {
    MutexLock lock(mu_);
    if (seen_.contains(value)) return std::string(value);
    if (seen_.size() >= max_) return "other";
    seen_.emplace(value);
    return std::string(value);
  }

 private:
  const size_t max_;
  Mutex mu_;
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_BOUNDED_LABEL_H_
