#include "detect/sliding_window.h"

#include <algorithm>

namespace sw::detect {
namespace {

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

uint32_t saturating_add(uint32_t a, uint64_t b) { return uint32_t(std::min<uint64_t>(uint64_t(a) + b, UINT32_MAX)); }

}  // namespace

SlidingWindow::SlidingWindow(int64_t span_seconds)
    : bucket_ms_(std::max<int64_t>(1, (span_seconds * 1000 + kBuckets - 1) / kBuckets)),
      used_buckets_(std::clamp<int64_t>((span_seconds * 1000 + bucket_ms_ - 1) / bucket_ms_, 1, kBuckets)) {}

void SlidingWindow::add(int64_t time_ms, uint64_t first, uint64_t second) {
  int64_t index = floor_div(time_ms, bucket_ms_);
  if (newest_ != INT64_MIN && time_ms < newest_ms_) {
    int64_t clock_step = std::clamp<int64_t>(span_ms(), 60 * 1000, 600 * 1000);
    if (newest_ms_ - time_ms >= clock_step) {
      buckets_ = {};
      newest_ = newest_ms_ = INT64_MIN;
    } else {
      index = newest_;  // overcount a little rather than forget
    }
  }
  newest_ = std::max(newest_, index);
  newest_ms_ = std::max(newest_ms_, time_ms);
  Bucket& b = buckets_[size_t(((index % kBuckets) + kBuckets) % kBuckets)];
  if (b.index != index) b = Bucket{index, 0, 0};  // a period older than the newest: reused
  b.first = saturating_add(b.first, first);
  b.second = saturating_add(b.second, second);
}

WindowCounts SlidingWindow::totals(int64_t time_ms) const {
  int64_t now = std::max(floor_div(time_ms, bucket_ms_), newest_);
  WindowCounts c;
  for (const Bucket& b : buckets_)
    if (b.index > now - used_buckets_ && b.index <= now + 1) {
      c.first += b.first;
      c.second += b.second;
    }
  return c;
}

bool SlidingWindow::empty_at(int64_t time_ms) const {
  WindowCounts c = totals(time_ms);
  return c.first == 0 && c.second == 0;
}

}  // namespace sw::detect
