// A sliding window of two counters (e.g. messages and recipients) over `span` seconds, kept as
// a ring of equal time buckets: memory is fixed per window whatever the rate, and the sum is
// exact up to one bucket (span/kBuckets, at least one second) at the old edge. A span shorter
// than kBuckets seconds uses one-second buckets, as many as the span has seconds. Times are the log's civil seconds,
// so a follower catching up on a backlog sees the same windows as it would have live.
#pragma once
#include <array>
#include <cstdint>

#include "base/civil_time.h"

namespace sw::detect {

struct WindowCounts {
  uint64_t first = 0;   // messages (or: events)
  uint64_t second = 0;  // recipients (or: the interesting subset of the events)
};

class SlidingWindow {
 public:
  static constexpr int64_t kBuckets = 10;
  SlidingWindow() = default;
  explicit SlidingWindow(int64_t span_seconds);

  void add(CivilSeconds time, uint64_t first, uint64_t second);
  // Totals of the buckets that overlap (time - span, time].
  WindowCounts totals(CivilSeconds time) const;
  bool empty_at(CivilSeconds time) const;
  int64_t span() const { return bucket_seconds_ * used_buckets_; }

 private:
  struct Bucket {
    int64_t index = INT64_MIN;  // time / bucket_seconds_ this bucket currently counts
    uint32_t first = 0;
    uint32_t second = 0;
  };
  int64_t bucket_seconds_ = 1;
  int64_t used_buckets_ = kBuckets;  // buckets summed by totals(): fewer for spans < kBuckets s
  std::array<Bucket, kBuckets> buckets_{};
};

}  // namespace sw::detect
