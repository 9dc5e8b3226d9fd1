// Exim message ids: 16 characters (TTTTTT-PPPPPP-SS, Exim <= 4.96) or 23 (TTTTTT-PPPPPPPPPPP-SSSS,
// Exim >= 4.97). Both can appear in one log during an upgrade, so every consumer accepts both.
#pragma once
#include <cstdint>
#include <string_view>

namespace sw::eximlog {

constexpr size_t kOldIdLength = 16;
constexpr size_t kNewIdLength = 23;

// True when s is exactly one well-formed id of either form.
bool is_message_id(std::string_view s);

// Length of the id at the start of s (16 or 23) when s starts with one followed by end or a
// space; 0 otherwise.
size_t message_id_prefix(std::string_view s);

// A compact, collision-free key for an id (62^21 < 2^126, so both forms fit with a form bit).
struct MessageKey {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const MessageKey&) const = default;
};
MessageKey message_key(std::string_view id);  // id must satisfy is_message_id

struct MessageKeyHash {
  size_t operator()(const MessageKey& k) const {
    uint64_t h = k.lo * 0x9E3779B97F4A7C15ull ^ (k.hi + 0x632BE59BD9B4E019ull);
    return size_t(h ^ (h >> 29));
  }
};

// Reception time encoded in the id (base-62 seconds since the epoch), for either form.
int64_t message_id_time(std::string_view id);

}  // namespace sw::eximlog
