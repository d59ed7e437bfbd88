#include "client/bench/histogram.h"

#include <algorithm>
#include <cmath>

namespace claude {
namespace bench {
namespace {

constexpr int kSubBits = 6;  // 64 sub-buckets per power of two
constexpr int kSubBuckets = 1 << kSubBits;
// Values below 2^kSubBits are exact; above, bucket = (exponent - kSubBits + 1) * 64 + sub.
constexpr int kBuckets = (64 - kSubBits + 1) * kSubBuckets;

int Log2Floor(uint64_t v) { return 63 - __builtin_clzll(v); }

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

int LatencyHistogram::BucketOf(int64_t nanos) {
  const uint64_t v = static_cast<uint64_t>(nanos);
  if (v < static_cast<uint64_t>(kSubBuckets)) return static_cast<int>(v);
  const int e = Log2Floor(v);
  const int shift = e - kSubBits;
  const int sub = static_cast<int>((v >> shift) & (kSubBuckets - 1));
  return (shift + 1) * kSubBuckets + sub;
}

int64_t LatencyHistogram::BucketLow(int bucket) {
  if (bucket < kSubBuckets) return bucket;
  const int shift = bucket / kSubBuckets - 1;
  const int sub = bucket % kSubBuckets;
  return static_cast<int64_t>((static_cast<uint64_t>(kSubBuckets) + sub) << shift);
}

int64_t LatencyHistogram::BucketHigh(int bucket) {
  if (bucket < kSubBuckets) return bucket + 1;
  const int shift = bucket / kSubBuckets - 1;
  return BucketLow(bucket) + (int64_t{1} << shift);
}

void LatencyHistogram::Record(int64_t nanos) {
  nanos = std::clamp(nanos, kMinNanos, kMaxNanos);
  ++counts_[static_cast<size_t>(BucketOf(nanos))];
  ++count_;
  sum_ += nanos;
  max_ = std::max(max_, nanos);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  sum_ = 0;
  max_ = 0;
}

int64_t LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the wanted sample, 1-based.
  const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * static_cast<double>(count_))));
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const int bucket = static_cast<int>(i);
      const int64_t mid = BucketLow(bucket) + (BucketHigh(bucket) - BucketLow(bucket)) / 2;
      return std::min(mid, max_);
    }
  }
  return max_;
}

}  // namespace bench
}  // namespace claude
