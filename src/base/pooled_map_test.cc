#include "base/pooled_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <unordered_map>

namespace sw {

struct MixHash {
  size_t operator()(uint64_t k) const {
    k *= 0x9E3779B97F4A7C15ull;
    return size_t(k ^ (k >> 29));
  }
};

TEST(PooledMap, BehavesLikeUnorderedMapUnderRandomChurn) {
  PooledMap<uint64_t, std::string, MixHash> m;
  std::unordered_map<uint64_t, std::string> ref;
  std::mt19937_64 rng(11);
  for (int step = 0; step < 200000; ++step) {
    uint64_t k = rng() % 5000;
    switch (rng() % 3) {
      case 0:
        m[k] = std::to_string(step);
        ref[k] = std::to_string(step);
        break;
      case 1: EXPECT_EQ(m.erase(k), ref.erase(k) == 1); break;
      default: {
        std::string* v = m.find(k);
        auto it = ref.find(k);
        ASSERT_EQ(v != nullptr, it != ref.end());
        if (v) {
          EXPECT_EQ(*v, it->second);
        }
      }
    }
  }
  EXPECT_EQ(m.size(), ref.size());
  std::map<uint64_t, std::string> seen;
  m.for_each([&](uint64_t k, const std::string& v) { EXPECT_TRUE(seen.emplace(k, v).second) << k; });
  std::map<uint64_t, std::string> expected(ref.begin(), ref.end());
  EXPECT_EQ(seen, expected);
}

// Keys whose hashes agree in every bit the slot keeps: only the pool's key tells them apart.
TEST(PooledMap, KeysWithTheSameCodeAreToldApartAndSurviveDeletionInTheMiddleOfARun) {
  struct Same {
    size_t operator()(uint64_t k) const { return 3 + (k << 32); }
  };
  PooledMap<uint64_t, int, Same> m;
  for (int i = 0; i < 10; ++i) m[uint64_t(i)] = i;
  EXPECT_TRUE(m.erase(4));
  EXPECT_FALSE(m.erase(4));
  for (int i = 0; i < 10; ++i) {
    if (i == 4) {
      EXPECT_EQ(m.find(4), nullptr);
    } else {
      ASSERT_NE(m.find(uint64_t(i)), nullptr) << i;
      EXPECT_EQ(*m.find(uint64_t(i)), i);
    }
  }
}

// A queue that drains as fast as it fills keeps its pool at the peak in flight, however many
// entries pass through, and an entry taken again starts from a default value.
TEST(PooledMap, ErasedEntriesAreReusedAndStartAfresh) {
  PooledMap<uint64_t, std::string, MixHash> m;
  for (uint64_t k = 0; k < 100000; ++k) {
    std::string& v = m[k];
    EXPECT_TRUE(v.empty()) << k;
    v = "message " + std::to_string(k);
    if (k >= 100) {
      EXPECT_TRUE(m.erase(k - 100));
    }
  }
  EXPECT_EQ(m.size(), 100u);
  EXPECT_LE(m.pooled(), 101u);
  EXPECT_EQ(*m.find(99999), "message 99999");
  EXPECT_EQ(m.find(99899), nullptr);
}

TEST(PooledMap, ReserveKeepsEveryEntryAndItsValue) {
  PooledMap<uint64_t, int, MixHash> m;
  for (int i = 0; i < 1000; ++i) m[uint64_t(i)] = i * 2;
  m.reserve(100000);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_NE(m.find(uint64_t(i)), nullptr);
    EXPECT_EQ(*m.find(uint64_t(i)), i * 2);
  }
  EXPECT_EQ(m.size(), 1000u);
}

}  // namespace sw
