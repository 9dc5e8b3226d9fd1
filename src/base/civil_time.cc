#include "base/civil_time.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "base/text.h"

namespace sw {

int64_t days_from_civil(int y, unsigned m, unsigned d) {
  // Howard Hinnant's algorithm: exact for every Gregorian date.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

static bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

static int days_in_month(int y, int mo) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return mo == 2 && leap ? 29 : kDays[mo - 1];
}

// 2026-02-30 is no date: refused like 2026-11-00, not carried into March.
static std::optional<CivilSeconds> make(int y, int mo, int d, int h, int mi, int sec) {
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  return days_from_civil(y, unsigned(mo), unsigned(d)) * 86400 + h * 3600 + mi * 60 + sec;
}

std::optional<CivilSeconds> parse_civil(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':') return std::nullopt;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) ||
      !digits(s, 14, 2, mi) || !digits(s, 17, 2, sec))
    return std::nullopt;
  return make(y, mo, d, h, mi, sec);
}

std::optional<CivilSeconds> parse_user_time(std::string_view s) {
  s = trim(s);
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d))
    return std::nullopt;
  if (s.size() > 10) {
    if ((s[10] != ' ' && s[10] != 'T') || s.size() < 16 || s[13] != ':' || !digits(s, 11, 2, h) ||
        !digits(s, 14, 2, mi))
      return std::nullopt;
    if (s.size() > 16 && (s.size() != 19 || s[16] != ':' || !digits(s, 17, 2, sec))) return std::nullopt;
  }
  return make(y, mo, d, h, mi, sec);
}

std::string format_civil(CivilSeconds t) {
  // Years 0 to 9999: a time from a damaged or hostile input (a cache entry, a year 99999 in a
  // log) is shown at the nearest end rather than overflowing the day arithmetic below.
  constexpr CivilSeconds kYear0 = -62167219200, kYear9999End = 253402300799;
  t = std::clamp(t, kYear0, kYear9999End);
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int64_t secs = t - days * 86400;
  // Inverse of days_from_civil (Hinnant).
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
}

CivilSeconds civil_now(bool utc) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  if (utc) ::gmtime_r(&now, &tm);
  else ::localtime_r(&now, &tm);
  return days_from_civil(tm.tm_year + 1900, unsigned(tm.tm_mon + 1), unsigned(tm.tm_mday)) * 86400 + tm.tm_hour * 3600 +
         tm.tm_min * 60 + tm.tm_sec;
}

std::optional<int64_t> parse_duration(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  int64_t mult = 1;
  switch (s.back()) {
    case 's': mult = 1; break;
    case 'm': mult = 60; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    case 'w': mult = 7 * 86400; break;
    default: mult = 0;
  }
  if (mult != 0) s.remove_suffix(1);
  else mult = 1;
  auto n = parse_uint(s);
  if (!n || *n > (uint64_t(1) << 40)) return std::nullopt;
  return int64_t(*n) * mult;
}

std::string format_duration(int64_t s) {
  if (s < 0) s = 0;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m", s / 60);
  if (s < 86400)
    return s % 3600 / 60 ? fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60) : fmt::format("{}h", s / 3600);
  return s % 86400 / 3600 ? fmt::format("{}d{}h", s / 86400, s % 86400 / 3600) : fmt::format("{}d", s / 86400);
}

}  // namespace sw
