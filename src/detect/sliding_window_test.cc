#include "detect/sliding_window.h"

#include <gtest/gtest.h>

namespace sw::detect {

constexpr int64_t s(int64_t seconds) { return seconds * 1000; }  // times are milliseconds

TEST(SlidingWindow, CountsWithinSpanAndForgetsOlder) {
  SlidingWindow w(10);  // 1-second buckets
  w.add(s(1000), 1, 3);
  w.add(s(1005), 2, 4);
  EXPECT_EQ(w.totals(s(1005)).first, 3u);
  EXPECT_EQ(w.totals(s(1005)).second, 7u);
  EXPECT_EQ(w.totals(s(1010)).first, 2u);  // 1000 has left (1000, 1010]
  EXPECT_EQ(w.totals(s(1015)).first, 0u);
  EXPECT_TRUE(w.empty_at(s(1020)));
}

TEST(SlidingWindow, ReusedBucketStartsFromZero) {
  SlidingWindow w(10);
  w.add(s(1000), 5, 5);
  w.add(s(1010), 1, 1);  // same ring slot, next period
  EXPECT_EQ(w.totals(s(1010)).first, 1u);
}

TEST(SlidingWindow, LargeSpanUsesCoarseBuckets) {
  SlidingWindow w(3600);
  EXPECT_EQ(w.span_ms(), s(3600));
  for (int i = 0; i < 100; ++i) w.add(s(10000 + i * 30), 1, 1);  // 50 minutes
  EXPECT_EQ(w.totals(s(10000 + 99 * 30)).first, 100u);
  EXPECT_LT(w.totals(s(10000 + 99 * 30 + 3600)).first, 100u);
}

TEST(SlidingWindow, ShortSpanCountsInTenthsOfItsSpan) {
  SlidingWindow w(2);  // 200 ms buckets
  EXPECT_EQ(w.span_ms(), 2000);
  w.add(s(1000), 4, 4);
  w.add(s(1001), 5, 5);
  EXPECT_EQ(w.totals(s(1001)).first, 9u);
  EXPECT_EQ(w.totals(s(1002)).first, 5u);  // 1000 has left (1000, 1002]
  w.add(s(1003), 1, 1);
  EXPECT_EQ(w.totals(s(1003)).first, 1u);
  EXPECT_TRUE(w.empty_at(s(1005)));
}

// "More than 10 in 2 s" at 10 messages a second from 10.5 s: the 11th message within 2 s is
// the one at 11.5 s. Counting in whole seconds saw only 11.0-11.9 and the current second, and
// tripped at 12.0 s, half a second (five messages) late; milliseconds trip within one bucket.
TEST(SlidingWindow, MillisecondsTripAShortWindowOnTime) {
  SlidingWindow w(2);
  int64_t tripped_at = -1;
  for (int64_t t = 10500; t < 13000 && tripped_at < 0; t += 100) {
    w.add(t, 1, 1);
    if (w.totals(t).first > 10) tripped_at = t;
  }
  ASSERT_GT(tripped_at, 0);
  EXPECT_LE(tripped_at, 11700) << "more than 200 ms (one bucket) late";
  EXPECT_GE(tripped_at, 11500) << "tripped before 11 messages were in 2 s";
}

TEST(SlidingWindow, LateLineIsCountedNotDropped) {
  SlidingWindow w(10);
  w.add(s(1010), 1, 0);
  w.add(s(1000), 1, 0);  // same slot, older period
  EXPECT_EQ(w.totals(s(1010)).first, 2u);
}

// Lines late by less than the window's span (a minute at least) join the newest bucket and are
// summed at their own time too: before, they went to buckets no total looked at, so a short
// window was blind for as long as they were late. Later than that, the clock went back: the
// window starts again rather than pile minutes into its newest bucket.
TEST(SlidingWindow, LateLinesCountAtOnce) {
  SlidingWindow w(2);
  w.add(s(5000), 1, 1);
  for (int i = 0; i < 10; ++i) w.add(s(5000 - 30), 1, 1);  // half a minute late
  EXPECT_EQ(w.totals(s(5000 - 30)).first, 11u);
  EXPECT_EQ(w.totals(s(5000)).first, 11u);
  EXPECT_TRUE(w.empty_at(s(5003)));
  w.add(s(5000 - 300), 1, 1);  // five minutes back: the clock
  EXPECT_EQ(w.totals(s(5000 - 300)).first, 1u);
  SlidingWindow hour(3600);
  hour.add(s(9000), 1, 1);
  hour.add(s(9000 - 300), 1, 1);  // an hour's window: five minutes late is late
  EXPECT_EQ(hour.totals(s(9000)).first, 2u);
  hour.add(s(9000 - 600), 1, 1);  // ten minutes: the clock, whatever the span
  EXPECT_EQ(hour.totals(s(9000 - 600)).first, 1u);
}

// The hour written twice when daylight saving time ends: the window starts again at the step
// back, and the repeated hour is counted from there.
TEST(SlidingWindow, AClockGoingBackAnHourStartsAgain) {
  SlidingWindow w(60);
  for (int i = 0; i < 30; ++i) w.add(s(7200 + 3540 + i), 1, 1);  // 02:59 summer time
  w.add(s(7200), 1, 1);                                          // 02:00 again
  EXPECT_EQ(w.totals(s(7200)).first, 1u);
  for (int i = 1; i < 20; ++i) w.add(s(7200 + i), 1, 1);
  EXPECT_EQ(w.totals(s(7219)).first, 20u);
  SlidingWindow near(3600);
  near.add(s(8000), 1, 1);
  near.add(s(8000 - 599), 1, 1);  // an hour's window, under ten minutes: late, not the clock
  EXPECT_EQ(near.totals(s(8000)).first, 2u);
}

}  // namespace sw::detect
