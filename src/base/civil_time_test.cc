#include "base/civil_time.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace sw {

TEST(CivilTime, ParsesEximTimestamps) {
  auto t = parse_civil("2026-11-01 12:34:56");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, 1793536496);  // date -u -d '2026-11-01 12:34:56' +%s
  EXPECT_EQ(format_civil(*t), "2026-11-01 12:34:56");
  EXPECT_FALSE(parse_civil("2026-13-01 12:34:56"));
  EXPECT_FALSE(parse_civil("2026-11-01T12:34:56"));
  EXPECT_FALSE(parse_civil("2026-11-01 12:34"));
}

TEST(CivilTime, RoundTripsAcrossLeapYears) {
  for (int64_t t = -86400LL * 800; t < 86400LL * 40000; t += 86400LL * 37 + 3599)
    EXPECT_EQ(*parse_civil(format_civil(t)), t);
  EXPECT_EQ(format_civil(*parse_civil("2024-02-29 23:59:59") + 1), "2024-03-01 00:00:00");
}

// A time from a damaged cache entry or a hostile log is shown at the nearest end of years
// 0 to 9999, never by overflowing (UBSan checks the extremes).
TEST(CivilTime, FormatsExtremeTimesAtTheEndsOfTheCalendar) {
  EXPECT_EQ(format_civil(INT64_MIN), "0000-01-01 00:00:00");
  EXPECT_EQ(format_civil(INT64_MAX), "9999-12-31 23:59:59");
  EXPECT_EQ(format_civil(*parse_civil("9999-12-31 23:59:59")), "9999-12-31 23:59:59");
}

TEST(CivilTime, UserTimes) {
  EXPECT_EQ(parse_user_time("2026-11-01"), parse_civil("2026-11-01 00:00:00"));
  EXPECT_EQ(parse_user_time("2026-11-01T08:05"), parse_civil("2026-11-01 08:05:00"));
  EXPECT_EQ(parse_user_time("2026-11-01 08:05:09"), parse_civil("2026-11-01 08:05:09"));
  EXPECT_FALSE(parse_user_time("yesterday"));
  EXPECT_FALSE(parse_user_time("2026-11-01 8"));
}

TEST(CivilTime, DaysThatDoNotExistAreRefused) {
  EXPECT_FALSE(parse_user_time("2026-02-30"));
  EXPECT_FALSE(parse_user_time("2026-02-29"));  // 2026 is no leap year
  EXPECT_FALSE(parse_user_time("2026-04-31 10:00"));
  EXPECT_FALSE(parse_user_time("2026-11-00"));
  EXPECT_TRUE(parse_user_time("2028-02-29"));
  EXPECT_TRUE(parse_user_time("2000-02-29"));
  EXPECT_FALSE(parse_user_time("1900-02-29"));
  EXPECT_FALSE(parse_civil("2026-02-30 00:00:00"));
}

TEST(CivilTime, Durations) {
  EXPECT_EQ(parse_duration("90"), 90);
  EXPECT_EQ(parse_duration("15m"), 900);
  EXPECT_EQ(parse_duration("2h"), 7200);
  EXPECT_EQ(parse_duration("3d"), 259200);
  EXPECT_FALSE(parse_duration("h"));
  EXPECT_FALSE(parse_duration("-5m"));
  EXPECT_EQ(format_duration(660), "11m");
  EXPECT_EQ(format_duration(7500), "2h05m");
  EXPECT_EQ(format_duration(3 * 86400 + 4 * 3600), "3d4h");
}

}  // namespace sw
