// Exim message ids: 16 characters (TTTTTT-PPPPPP-SS, Exim <= 4.96) or 23 (TTTTTT-PPPPPPPPPPP-SSSS,
// Exim >= 4.97). Both can appear in one log during an upgrade, so every consumer accepts both.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace sw::eximlog {

constexpr size_t kOldIdLength = 16;
constexpr size_t kNewIdLength = 23;

// True when s is exactly one well-formed id of either form.
bool is_message_id(std::string_view s);

// Length of the id at the start of s (16 or 23) when s starts with one followed by end or a
// space; 0 otherwise.
size_t message_id_prefix(std::string_view s);

// A fixed-size key for an id: its bytes, zero-padded (the two forms differ in length, so they
// cannot collide). Cheap to build and compare on the hot path.
struct MessageKey {
  uint64_t w[3] = {0, 0, 0};
  bool operator==(const MessageKey&) const = default;
};
MessageKey message_key(std::string_view id);  // id must satisfy is_message_id

struct MessageKeyHash {
  size_t operator()(const MessageKey& k) const {
    uint64_t h = (k.w[0] ^ (k.w[1] * 0x9E3779B97F4A7C15ull) ^ (k.w[2] * 0xC2B2AE3D27D4EB4Full));
    h *= 0xFF51AFD7ED558CCDull;
    return size_t(h ^ (h >> 32));
  }
};

// Reception time encoded in the id (base-62 seconds since the epoch), for either form;
// nullopt for a malformed id.
std::optional<int64_t> message_id_time(std::string_view id);

// Value of one base-62 digit (0-9A-Za-z), or -1.
int base62_value(char c);

// The split-spool subdirectory of an id: its least significant time digit.
inline char split_subdir_of(std::string_view id) { return id[5]; }

}  // namespace sw::eximlog
