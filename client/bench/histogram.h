// A small log-linear latency histogram (HdrHistogram-like): values in nanoseconds from 1 µs to
// 60 s, 64 linear sub-buckets per power of two, so a reported percentile is within ~1.6% of the
// true value. Not thread-safe: each load slot owns one and they are merged after a run.
#ifndef CLIENT_BENCH_HISTOGRAM_H_
#define CLIENT_BENCH_HISTOGRAM_H_

#include <cstdint>
#include <vector>

namespace claude {
namespace bench {

class LatencyHistogram {
 public:
  static constexpr int64_t kMinNanos = 1000;             // 1 µs; smaller values count as this
  static constexpr int64_t kMaxNanos = 60'000'000'000;   // 60 s; larger values count as this

  LatencyHistogram();

  void Record(int64_t nanos);
  void Merge(const LatencyHistogram& other);
  void Clear();

  int64_t count() const { return count_; }
  // The largest recorded value (clamped to [kMinNanos, kMaxNanos]); 0 when empty.
  int64_t max() const { return max_; }
  // The mean of the recorded values (as clamped); 0 when empty. Beside the percentiles because
  // a few scheduler-delayed calls move the mean long before they move the median.
  double Mean() const {
    return count_ == 0 ? 0 : static_cast<double>(sum_) / static_cast<double>(count_);
  }
  // The value at quantile q (0..1): the midpoint of the bucket holding it, never above max().
  // 0 when empty.
  int64_t Percentile(double q) const;

 private:
  static int BucketOf(int64_t nanos);
  static int64_t BucketLow(int bucket);
  static int64_t BucketHigh(int bucket);  // exclusive

  std::vector<int64_t> counts_;
  int64_t count_ = 0;
  int64_t max_ = 0;
  int64_t sum_ = 0;  // at most 2^63 ns / 60 s per value: ~150 million values of 60 s
};

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_HISTOGRAM_H_
