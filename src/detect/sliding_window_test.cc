#include "detect/sliding_window.h"

#include <gtest/gtest.h>

namespace sw::detect {

TEST(SlidingWindow, CountsWithinSpanAndForgetsOlder) {
  SlidingWindow w(10);  // 1-second buckets
  w.add(1000, 1, 3);
  w.add(1005, 2, 4);
  EXPECT_EQ(w.totals(1005).first, 3u);
  EXPECT_EQ(w.totals(1005).second, 7u);
  EXPECT_EQ(w.totals(1010).first, 2u);  // 1000 has left (1000, 1010]
  EXPECT_EQ(w.totals(1015).first, 0u);
  EXPECT_TRUE(w.empty_at(1020));
}

TEST(SlidingWindow, ReusedBucketStartsFromZero) {
  SlidingWindow w(10);
  w.add(1000, 5, 5);
  w.add(1010, 1, 1);  // same ring slot, next period
  EXPECT_EQ(w.totals(1010).first, 1u);
}

TEST(SlidingWindow, LargeSpanUsesCoarseBuckets) {
  SlidingWindow w(3600);
  EXPECT_EQ(w.span(), 3600);
  for (int i = 0; i < 100; ++i) w.add(10000 + i * 30, 1, 1);  // 50 minutes
  EXPECT_EQ(w.totals(10000 + 99 * 30).first, 100u);
  EXPECT_LT(w.totals(10000 + 99 * 30 + 3600).first, 100u);
}

TEST(SlidingWindow, ShortSpanCountsOnlyItsOwnSeconds) {
  SlidingWindow w(2);  // two one-second buckets, not ten
  EXPECT_EQ(w.span(), 2);
  w.add(1000, 4, 4);
  w.add(1001, 5, 5);
  EXPECT_EQ(w.totals(1001).first, 9u);
  EXPECT_EQ(w.totals(1002).first, 5u);  // 1000 has left (1000, 1002]
  w.add(1003, 1, 1);
  EXPECT_EQ(w.totals(1003).first, 1u);
  EXPECT_TRUE(w.empty_at(1005));
}

TEST(SlidingWindow, LateLineIsCountedNotDropped) {
  SlidingWindow w(10);
  w.add(1010, 1, 0);
  w.add(1000, 1, 0);  // same slot, older period
  EXPECT_EQ(w.totals(1010).first, 2u);
}

}  // namespace sw::detect
