#include "stats/peak_window.h"

#include <gtest/gtest.h>

namespace sw::stats {

TEST(PeakWindow, FindsTheDensestWindow) {
  PeakWindow w(600);
  for (int i = 0; i < 10; ++i) w.add(i * 3600, 1);         // steady: one an hour
  for (int i = 0; i < 50; ++i) w.add(100000 + i * 10, 2);  // burst: 50 in ~8 minutes
  w.add(200000, 1);
  EXPECT_EQ(w.peak_messages(), 50u);
  EXPECT_EQ(w.peak_recipients(), 100u);
  EXPECT_EQ(w.peak_first(), 100000);
  EXPECT_EQ(w.peak_last(), 100000 + 49 * 10);
}

TEST(PeakWindow, EventsLeaveTheWindowExactlyAtItsSpan) {
  PeakWindow w(60);
  w.add(0, 1);
  w.add(59, 1);
  EXPECT_EQ(w.peak_messages(), 2u);
  w.add(60, 1);  // the event at 0 is now out
  w.add(61, 1);
  EXPECT_EQ(w.peak_messages(), 3u);
}

TEST(PeakWindow, TimeGoingBackwardsDoesNotBreakIt) {
  PeakWindow w(60);
  w.add(100, 1);
  w.add(50, 1);  // clamped to 100
  EXPECT_EQ(w.peak_messages(), 2u);
  w.add_recipients(5);
  EXPECT_EQ(w.peak_recipients(), 7u);
}

}  // namespace sw::stats
