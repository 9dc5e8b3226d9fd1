#include "stats/peak_window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

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

// Daylight saving time ending in a log without zones: 02:00 to 03:00 is written twice. The
// repeated hour starts the window again rather than piling onto the first one.
TEST(PeakWindow, AClockGoingBackAnHourStartsTheWindowAgain) {
  PeakWindow w(3600);
  CivilSeconds two = 7200, three = 10800;
  for (CivilSeconds t = 3600; t < three; t += 36) w.add(t, 1);  // 01:00 to 03:00, 100 an hour
  for (CivilSeconds t = two; t < three; t += 36) w.add(t, 1);   // 02:00 to 03:00 again
  EXPECT_EQ(w.peak_recipients(), 100u);
  EXPECT_EQ(w.events_held(), 100u);
  EXPECT_EQ(w.peak_first(), 3600);  // the first of the equal windows
  w.add(three + 1800, 1);           // on after the change: the repeated hour is the window's
  EXPECT_EQ(w.events_held(), 50u);
}

TEST(PeakWindow, LinesMinutesOutOfOrderStillJoinTheWindow) {
  PeakWindow w(3600);
  w.add(1000, 1);
  w.add(1000 - 599, 1);  // under ten minutes back: the same window, at its newest time
  EXPECT_EQ(w.peak_messages(), 2u);
  w.add(1000 - 600, 1);  // ten minutes back: the clock, the window starts again
  EXPECT_EQ(w.events_held(), 1u);
  EXPECT_EQ(w.peak_messages(), 2u);
}

}  // namespace sw::stats

namespace sw::stats {
namespace {

// The densest window by brute force: every event as a window's last one.
struct Peak {
  uint64_t messages = 0, recipients = 0;
};
Peak brute_force(const std::vector<std::pair<CivilSeconds, uint32_t>>& events, int64_t span) {
  Peak best;
  for (size_t last = 0; last < events.size(); ++last) {
    Peak cur;
    for (size_t i = 0; i <= last; ++i)
      if (events[i].first > events[last].first - span) {
        cur.messages += 1;
        cur.recipients += events[i].second;
      }
    if (cur.recipients > best.recipients || (cur.recipients == best.recipients && cur.messages > best.messages))
      best = cur;
  }
  return best;
}

// Quiet stretches, bursts that outgrow the inline room and wrap the ring, and the quiet again
// that shrinks it: the peak always matches brute force, and memory follows the window.
TEST(PeakWindow, MatchesBruteForceThroughBurstsAndQuiet) {
  std::vector<std::pair<CivilSeconds, uint32_t>> events;
  CivilSeconds t = 1000;
  uint32_t seed = 7;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
  for (int phase = 0; phase < 7; ++phase) {  // quiet, burst, ..., quiet
    bool burst = phase % 2 == 1;
    int n = burst ? 200 + phase * 50 : 40;
    for (int i = 0; i < n; ++i) {
      t += burst ? int64_t(next() % 4) : int64_t(300 + next() % 900);
      events.push_back({t, 1 + next() % 5});
    }
  }
  PeakWindow w(600);
  size_t max_capacity = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    w.add(events[i].first, events[i].second);
    max_capacity = std::max(max_capacity, w.capacity());
    if (i % 97 == 0 || i + 1 == events.size()) {
      std::vector<std::pair<CivilSeconds, uint32_t>> prefix(events.begin(), events.begin() + long(i) + 1);
      Peak p = brute_force(prefix, 600);
      ASSERT_EQ(w.peak_recipients(), p.recipients) << "after event " << i;
      ASSERT_EQ(w.peak_messages(), p.messages) << "after event " << i;
    }
  }
  EXPECT_GE(max_capacity, 128u) << "the bursts should have outgrown the inline room";
  EXPECT_LE(w.events_held(), 2u) << "the log ends quiet";
  EXPECT_LE(w.capacity(), 16u) << "the ring gives memory back after a burst";
}

TEST(PeakWindow, OneEventPerWindowNeverLeavesTheInlineRoom) {
  PeakWindow w(60);
  for (int i = 0; i < 1000; ++i) w.add(i * 61, 1);
  EXPECT_EQ(w.capacity(), 2u);
  EXPECT_EQ(w.peak_messages(), 1u);
}

}  // namespace
}  // namespace sw::stats
