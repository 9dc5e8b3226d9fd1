// A sliding window of two counters (e.g. messages and recipients) over `span` seconds, kept as
// a ring of equal time buckets: memory is fixed per window whatever the rate, and the sum is
// exact up to one bucket (span/kBuckets: 200 ms of a 2 s window) at the old edge. Times are
// the log's civil time in milliseconds (its +millisec part, 0 without), so a short window does
// not lag by up to a second, and a follower catching up on a backlog sees the same windows as
// it would have live.
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

  // A line older than the newest one added counts in the newest bucket (lines written seconds
  // out of order; a window that forgot it would hide it). One older by the window's span or
  // more (a minute at least, ten minutes at most) is the clock going back (daylight saving time
  // ending, in a log without zones; a clock set right): the window starts again there, so the
  // repeated time is counted at all, and not piled into one short bucket.
  void add(int64_t time_ms, uint64_t first, uint64_t second);
  // Totals of the buckets that overlap (time - span, time], time taken no earlier than the
  // newest line added.
  WindowCounts totals(int64_t time_ms) const;
  bool empty_at(int64_t time_ms) const;
  int64_t span_ms() const { return bucket_ms_ * used_buckets_; }

 private:
  struct Bucket {
    int64_t index = INT64_MIN;  // time / bucket_ms_ this bucket currently counts
    uint32_t first = 0;
    uint32_t second = 0;
  };
  int64_t bucket_ms_ = 1000;
  int64_t used_buckets_ = kBuckets;
  int64_t newest_ = INT64_MIN;     // the newest bucket index added
  int64_t newest_ms_ = INT64_MIN;  // ...and the newest time
  std::array<Bucket, kBuckets> buckets_{};
};

}  // namespace sw::detect
