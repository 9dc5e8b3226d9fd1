// Append-only storage for many small strings that live as long as the arena: one allocation
// per megabyte instead of one per string, and neighbouring keys share cache lines and pages.
#pragma once
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace sw {

class StringArena {
 public:
  static constexpr size_t kChunkBytes = size_t(1) << 20;

  // A copy of `s` that stays valid until the arena is destroyed.
  std::string_view store(std::string_view s) { return store(s, false); }
  // A copy with ASCII letters lowercased.
  std::string_view store_lowered(std::string_view s) { return store(s, true); }
  bool empty() const { return chunks_.empty(); }

 private:
  std::string_view store(std::string_view s, bool lower) {
    std::string_view out = append(s);
    if (lower) {
      char* p = const_cast<char*>(out.data());
      for (size_t i = 0; i < out.size(); ++i)
        if (p[i] >= 'A' && p[i] <= 'Z') p[i] = char(p[i] - 'A' + 'a');
    }
    return out;
  }
  std::string_view append(std::string_view s) {
    if (s.empty()) return {};
    if (s.size() > kChunkBytes / 4) return copy_into(own_chunk(s.size()), s);  // rare: long keys
    if (s.size() > room_) {
      free_ = own_chunk(kChunkBytes);
      room_ = kChunkBytes;
    }
    std::string_view out = copy_into(free_, s);
    free_ += s.size();
    room_ -= s.size();
    return out;
  }
  char* own_chunk(size_t n) {
    chunks_.push_back(std::make_unique_for_overwrite<char[]>(n));
    return chunks_.back().get();
  }
  static std::string_view copy_into(char* dst, std::string_view s) {
    std::memcpy(dst, s.data(), s.size());
    return {dst, s.size()};
  }

  std::vector<std::unique_ptr<char[]>> chunks_;
  char* free_ = nullptr;
  size_t room_ = 0;
};

}  // namespace sw
