// Counts by a key that outside input chooses (a client's address, a user agent, a path), in
// bounded memory.
//
// At most `capacity` keys are kept. When a new key comes and the table is full, it takes the
// place of the least counted key (of those, the last kept) and starts from that key's count
// (Metwally, Agrawal and El Abbadi's space-saving algorithm). So a key counted more than
// total/capacity times is always kept, in whatever order the keys came, and a kept key's count
// is high by at most its `over` (exact when over is 0). Dropping every key past the first
// `capacity` instead would let a client that first sends requests from 10,000 addresses push
// a later attacker out; no bounded table keeps a key that has less than its share, though.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace sw {

class TopCounts {
 public:
  explicit TopCounts(size_t capacity = 10000);
  TopCounts(const TopCounts&) = delete;  // the order set points into the table
  TopCounts& operator=(const TopCounts&) = delete;
  TopCounts(TopCounts&&) = default;
  TopCounts& operator=(TopCounts&&) = default;

  // Counts `n` more for key; returns the key it took the place of when the table was full.
  std::optional<std::string> add(std::string_view key, uint64_t n = 1);

  struct Row {
    std::string_view key;
    uint64_t count = 0;  // an upper bound; exact when over is 0
    uint64_t over = 0;   // how much of count may belong to the keys it replaced
  };
  // The kept keys, most counted first (ties: the key first kept first); `limit` 0: all. The
  // views last until the next add().
  std::vector<Row> top(size_t limit = 0) const;
  // 0 when the key is not kept.
  uint64_t count(std::string_view key) const;
  size_t size() const { return slots_.size(); }
  // True once a key has been replaced: size() is then fewer than the keys seen.
  bool replaced_any() const { return replaced_ > 0; }

 private:
  struct Slot {
    uint64_t count = 0, over = 0, seq = 0;
  };
  // count, the newest first among equal counts (~seq), key
  using Order = std::tuple<uint64_t, uint64_t, const std::string*>;
  size_t capacity_;
  uint64_t next_seq_ = 0, replaced_ = 0;
  std::map<std::string, Slot, std::less<>> slots_;
  std::set<Order> by_count_;  // the least counted first
};

}  // namespace sw
