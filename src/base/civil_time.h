// Exim writes local civil time without a zone (unless log_timezone is set). We keep such
// timestamps as "civil seconds": seconds since 1970-01-01 00:00:00 of the same wall clock,
// which orders and subtracts correctly and needs no time-zone database.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sw {

using CivilSeconds = int64_t;

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
int64_t days_from_civil(int y, unsigned m, unsigned d);

// "YYYY-MM-DD HH:MM:SS" exactly (19 bytes, checked); nullopt when malformed.
std::optional<CivilSeconds> parse_civil(std::string_view s);

// The times a log can give (years 0000 to 9999, a day either side for its zones): the
// difference of two never overflows. A saved state's times outside are damage.
constexpr CivilSeconds kEarliestCivil = -62167219200 - 86400;  // 0000-01-01 00:00:00, less a day
constexpr CivilSeconds kLatestCivil = 253402300799 + 86400;    // 9999-12-31 23:59:59, and a day
constexpr bool is_civil_time(CivilSeconds t) { return t >= kEarliestCivil && t <= kLatestCivil; }

// Accepts "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]", "YYYY-MM-DDTHH:MM[:SS]" (for --since/--until).
std::optional<CivilSeconds> parse_user_time(std::string_view s);

std::string format_civil(CivilSeconds t);  // "YYYY-MM-DD HH:MM:SS"

// This moment on a wall clock: the local one, or UTC.
CivilSeconds civil_now(bool utc);

// "90s", "15m", "2h", "3d", "1w" or a bare number of seconds.
std::optional<int64_t> parse_duration(std::string_view s);
std::string format_duration(int64_t seconds);  // "11m", "2h05m", "3d4h"

}  // namespace sw
