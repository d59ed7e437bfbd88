// The backpressure between a fast upstream and a slow caller, as one small class (the idea of
// Envoy's watermark buffer): a queue of events bounded by a high watermark, one write in
// flight, and the two transitions that matter: "above high" (the producer must pause the
// upstream transfer) and "drained to low" (it may resume).
//
// Not thread-safe: its call's mutex guards it (see upstream_call.h). `Event` is the stream's
// message type (claude.v1.MessageStreamEvent, claude.v1.MessageBatchResult); both are
// instantiated once, in stream_relay.cc.
#ifndef SERVICE_RPC_STREAM_RELAY_H_
#define SERVICE_RPC_STREAM_RELAY_H_

#include <cstdint>
#include <deque>
#include <utility>

#include "claude/v1/message_batches.pb.h"
#include "claude/v1/messages.pb.h"

namespace claude {

template <typename Event>
class BasicStreamRelay {
 public:
  // Events of `high_watermark_bytes` (encoded size) may wait; the low watermark is half of it.
  explicit BasicStreamRelay(int64_t high_watermark_bytes)
      : high_(high_watermark_bytes), low_(high_watermark_bytes / 2) {}

  // True when the queue holds at least the high watermark: the producer must not push now; it
  // calls Paused() and stops its source.
  bool above_high_watermark() const { return queued_bytes_ >= high_; }
  void Paused() { paused_ = true; }

  // Queues `event` (the producer pushes whole chunks' events even past the high watermark: a
  // chunk is small, and its bytes cannot be given back half-decoded).
  void Push(Event event) {
    queued_bytes_ += static_cast<int64_t>(event.ByteSizeLong());
    queue_.push_back(std::move(event));
  }

  // The next event to write, moved out of the queue and held until WriteDone(); nullptr when a
  // write is in flight or nothing waits.
  const Event* StartWrite() {
    if (write_in_flight_ || queue_.empty()) return nullptr;
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= static_cast<int64_t>(in_flight_.ByteSizeLong());
    write_in_flight_ = true;
    return &in_flight_;
  }
  void WriteDone() { write_in_flight_ = false; }
  bool write_in_flight() const { return write_in_flight_; }
  bool empty() const { return queue_.empty(); }

  // True exactly once after Paused(), as soon as the queue has drained to the low watermark:
  // the producer resumes its source then.
  bool TakeResume() {
    if (!paused_ || queued_bytes_ > low_) return false;
    paused_ = false;
    return true;
  }

  // Drops what waits (nobody will read it); the write in flight stays until WriteDone().
  void Clear() {
    queue_.clear();
    queued_bytes_ = 0;
  }

  int64_t queued_bytes() const { return queued_bytes_; }

 private:
  const int64_t high_;
  const int64_t low_;
  std::deque<Event> queue_;
  int64_t queued_bytes_ = 0;
  Event in_flight_;  // owned by the write in flight
  bool write_in_flight_ = false;
  bool paused_ = false;
};

extern template class BasicStreamRelay<claude::v1::MessageStreamEvent>;
extern template class BasicStreamRelay<claude::v1::MessageBatchResult>;
using StreamRelay = BasicStreamRelay<claude::v1::MessageStreamEvent>;
using BatchResultRelay = BasicStreamRelay<claude::v1::MessageBatchResult>;

}  // namespace claude

#endif  // SERVICE_RPC_STREAM_RELAY_H_
