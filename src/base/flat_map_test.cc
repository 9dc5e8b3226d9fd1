#include "base/flat_map.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

namespace sw {

struct IdentityHash {
  size_t operator()(uint64_t k) const { return size_t(k * 0x9E3779B97F4A7C15ull >> 7); }
};

TEST(FlatMap, BehavesLikeUnorderedMapUnderRandomChurn) {
  FlatMap<uint64_t, int, IdentityHash> m;
  std::unordered_map<uint64_t, int> ref;
  std::mt19937_64 rng(7);
  for (int step = 0; step < 200000; ++step) {
    uint64_t k = rng() % 5000;
    switch (rng() % 3) {
      case 0:
        m[k] = step;
        ref[k] = step;
        break;
      case 1: EXPECT_EQ(m.erase(k), ref.erase(k) == 1); break;
      default: {
        int* v = m.find(k);
        auto it = ref.find(k);
        ASSERT_EQ(v != nullptr, it != ref.end());
        if (v) {
          EXPECT_EQ(*v, it->second);
        }
      }
    }
  }
  EXPECT_EQ(m.size(), ref.size());
}

TEST(FlatMap, CollidingKeysSurviveDeletionInTheMiddleOfARun) {
  struct Same {
    size_t operator()(uint64_t) const { return 3; }
  };
  FlatMap<uint64_t, int, Same> m;
  for (int i = 0; i < 10; ++i) m[uint64_t(i)] = i;
  m.erase(4);
  for (int i = 0; i < 10; ++i) {
    if (i == 4) {
      EXPECT_EQ(m.find(4), nullptr);
    } else {
      ASSERT_NE(m.find(uint64_t(i)), nullptr) << i;
    }
  }
}

}  // namespace sw
