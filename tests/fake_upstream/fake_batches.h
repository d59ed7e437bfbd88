// The Message Batches API of fake-anthropic: a state machine per batch, kept in memory.
//
//   POST   /v1/messages/batches              create: in_progress; ends `processing_time` later
//   GET    /v1/messages/batches[?before_id=&after_id=&limit=]   newest first, the API's paging
//   GET    /v1/messages/batches/ID           the batch (its state advanced to now)
//   POST   /v1/messages/batches/ID/cancel    in_progress -> canceling; ended `cancel_time` later,
//                                            every request canceled
//   DELETE /v1/messages/batches/ID           only once ended (else 400 invalid_request_error)
//   GET    /v1/messages/batches/ID/results   JSONL, generated lazily line by line (never stored)
// Unknown ids: 404 not_found_error. Once ended, results_url is this fake's own
// ".../ID/results".
//
// The result of each created request is an echo of its last user message, like POST
// /v1/messages: "Echo: <text>", except that a last user text "error" gives an errored result
// (invalid_request_error) and "expire" an expired one. A synthetic batch (AddSyntheticBatch)
// has `count` succeeded results of `text_bytes` bytes of text each, custom ids "r<i>", so a
// test can stream a gigabyte of results that nobody holds in memory.
//
// Thread-safe.
#ifndef TESTS_FAKE_UPSTREAM_FAKE_BATCHES_H_
#define TESTS_FAKE_UPSTREAM_FAKE_BATCHES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "tests/fake_upstream/fake_anthropic.h"

namespace claude {
namespace testing {

class FakeBatches {
 public:
  // How long a created batch stays in_progress, and a canceled one canceling.
  void set_processing_time(absl::Duration d);
  void set_cancel_time(absl::Duration d);

  // An ended batch of `count` succeeded results with `text_bytes` of text each; returns its id.
  std::string AddSyntheticBatch(int64_t count, size_t text_bytes);

  // The reply to `request` when it is a batch route, else nullopt. `n` is the request's
  // arrival number (request ids), `base_url` the fake's own (results_url).
  std::optional<FakeReply> Handle(const RecordedRequest& request, int n, const std::string& base_url);

 private:
  enum class Outcome { kSucceeded, kErrored, kExpired };
  struct Batch {
    std::string id;
    absl::Time created;
    std::optional<absl::Time> cancel_initiated;
    // Created batches: one entry per request; synthetic batches: none, see synthetic_count.
    std::vector<std::string> custom_ids;
    std::vector<std::string> texts;
    std::vector<Outcome> outcomes;
    int64_t synthetic_count = 0;
    size_t synthetic_text_bytes = 0;
    bool synthetic = false;
  };

  // "in_progress", "canceling" or "ended" at `now`.
  const char* StatusOf(const Batch& batch, absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<absl::Time> EndedAt(const Batch& batch) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string BatchJson(const Batch& batch, absl::Time now, const std::string& base_url) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Batch* Find(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  FakeReply Create(const std::string& body, int n, const std::string& base_url) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  FakeReply List(const std::string& query, const std::string& base_url) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  FakeReply Results(const Batch& batch) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable std::mutex mu_;
  absl::Duration processing_time_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  absl::Duration cancel_time_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  int next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::shared_ptr<Batch>> batches_ ABSL_GUARDED_BY(mu_);  // oldest first
};

}  // namespace testing
}  // namespace claude

#endif  // TESTS_FAKE_UPSTREAM_FAKE_BATCHES_H_
