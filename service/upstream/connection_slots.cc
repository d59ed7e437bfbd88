#include "service/upstream/connection_slots.h"

#include <algorithm>

namespace claude {

bool ConnectionSlots::Acquire(absl::string_view pool, long limit, Id id) {
  Pool& p = pools_[pool];
  p.limit = limit;
  if (p.in_flight < p.limit && p.waiting.empty()) {
    ++p.in_flight;
    return true;
  }
  p.waiting.push_back(id);
  return false;
}

std::vector<ConnectionSlots::Id> ConnectionSlots::Release(absl::string_view pool, Id id) {
  std::vector<Id> granted;
  auto it = pools_.find(pool);
  if (it == pools_.end()) return granted;
  Pool& p = it->second;
  if (auto queued = std::find(p.waiting.begin(), p.waiting.end(), id); queued != p.waiting.end()) {
    p.waiting.erase(queued);  // gave up waiting: held no slot
  } else if (p.in_flight > 0) {
    --p.in_flight;
  }
  // A lowered limit (a reloaded file) drains the excess before anyone else starts.
  while (p.in_flight < p.limit && !p.waiting.empty()) {
    granted.push_back(p.waiting.front());
    p.waiting.pop_front();
    ++p.in_flight;
  }
  if (p.in_flight == 0 && p.waiting.empty()) pools_.erase(it);  // idle pools cost nothing
  return granted;
}

long ConnectionSlots::in_flight(absl::string_view pool) const {
  auto it = pools_.find(pool);
  return it == pools_.end() ? 0 : it->second.in_flight;
}

size_t ConnectionSlots::waiting(absl::string_view pool) const {
  auto it = pools_.find(pool);
  return it == pools_.end() ? 0 : it->second.waiting.size();
}

}  // namespace claude
