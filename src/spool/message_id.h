// Exim message ids (exim-formats.md 1.3): the 16-char form (<= 4.96) and the 23-char form
// (>= 4.97) may sit side by side in one spool, so every check accepts both.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace sw::spool {

inline constexpr size_t kOldIdLength = 16;  // TTTTTT-PPPPPP-SS
inline constexpr size_t kNewIdLength = 23;  // TTTTTT-PPPPPPPPPPP-SSSS

// True when `id` has one of the two layouts and only base-62 digits.
bool valid_message_id(std::string_view id);

// The split-spool subdirectory character: the least significant time digit.
inline char split_subdir_of(std::string_view id) { return id[5]; }

// Reception time encoded in the first six base-62 digits; nullopt for a malformed id.
std::optional<int64_t> message_id_time(std::string_view id);

// Value of one base-62 digit (0-9A-Za-z), or -1.
int base62_value(char c);

}  // namespace sw::spool
