// Fixed-size items in chunks that never move, each named by a 32-bit index: a freed index is
// taken again by the next take(), so the pool keeps the size of its peak use. For records many
// long-lived objects point to (a stuck queue's messages), where a pointer would cost 8 bytes
// and a hash lookup a cache miss.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/chunked_vector.h"

namespace sw {

template <class T, size_t kChunkBits = 10>
class SlotPool {
 public:
  // A default-constructed item's index.
  uint32_t take() {
    if (free_.empty()) {
      items_.emplace_back();
      return uint32_t(items_.size() - 1);
    }
    uint32_t i = free_.back();
    free_.pop_back();
    return i;
  }
  // A copy of `item`'s index.
  uint32_t add(const T& item) {
    uint32_t i = take();
    items_[i] = item;
    return i;
  }
  // What the item held is freed now, not when its index is taken again.
  void give(uint32_t i) {
    items_[i] = T{};
    free_.push_back(i);
  }
  T& operator[](uint32_t i) { return items_[i]; }
  const T& operator[](uint32_t i) const { return items_[i]; }
  size_t in_use() const { return items_.size() - free_.size(); }
  // Items held, in use or free: the peak use.
  size_t held() const { return items_.size(); }

 private:
  ChunkedVector<T, kChunkBits> items_;
  std::vector<uint32_t> free_;
};

}  // namespace sw
