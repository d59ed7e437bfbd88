#include "service/rpc/stream_relay.h"

#include <utility>

namespace claude {

StreamRelay::StreamRelay(int64_t high_watermark_bytes)
    : high_(high_watermark_bytes), low_(high_watermark_bytes / 2) {}

void StreamRelay::Push(claude::v1::MessageStreamEvent event) {
  queued_bytes_ += static_cast<int64_t>(event.ByteSizeLong());
  queue_.push_back(std::move(event));
}

const claude::v1::MessageStreamEvent* StreamRelay::StartWrite() {
  if (write_in_flight_ || queue_.empty()) return nullptr;
  in_flight_ = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= static_cast<int64_t>(in_flight_.ByteSizeLong());
  write_in_flight_ = true;
  return &in_flight_;
}

bool StreamRelay::TakeResume() {
  if (!paused_ || queued_bytes_ > low_) return false;
  paused_ = false;
  return true;
}

void StreamRelay::Clear() {
  queue_.clear();
  queued_bytes_ = 0;
}

}  // namespace claude
