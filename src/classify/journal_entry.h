// One learned message as a fleet's journal holds it (model_journal.h): its label, learn or
// forget, and the hashes of its features, which is all Model::teach needs; never the message.
// Pure: encoded and decoded here, read from Redis and written to it elsewhere.
#pragma once
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::classify {

struct JournalEntry {
  bool spam = false;
  bool forget = false;           // undoes the learn of the same message, whatever its label (`spam` unused)
  std::vector<uint64_t> hashes;  // sorted, unique
};

// A message yields at most TokenizerLimits::max_tokens features; an entry holds at most this.
constexpr std::size_t kMaxEntryHashes = 1u << 16;

// "swj1", a flags byte (1: spam, 2: forget), the count (4 bytes) and the hashes (8 bytes
// each), little-endian.
std::string encode_entry(const JournalEntry& entry);
// false with *error for bytes that are not one whole entry: another magic or version, flags
// not known, a length that does not match the count, more than kMaxEntryHashes, hashes out of
// order or repeated.
bool decode_entry(std::string_view bytes, JournalEntry* out, std::string* error);

// A Redis stream entry's id, "MS-SEQ": the journal's order and a model's position in it.
struct StreamId {
  uint64_t ms = 0, seq = 0;
  auto operator<=>(const StreamId&) const = default;
  std::string text() const { return std::to_string(ms) + "-" + std::to_string(seq); }
  static std::optional<StreamId> parse(std::string_view text);
};

}  // namespace sw::classify
