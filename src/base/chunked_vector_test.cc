#include "base/chunked_vector.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace sw {
namespace {

TEST(ChunkedVector, ElementsStayPutAcrossChunks) {
  ChunkedVector<std::string, 2> v;  // chunks of 4
  std::string& first = v.emplace_back();
  first = "a";
  for (int i = 1; i < 10; ++i) v.emplace_back() = std::to_string(i);
  EXPECT_EQ(&first, &v[0]);
  EXPECT_EQ(v.size(), 10u);
  EXPECT_EQ(v[9], "9");
  EXPECT_EQ(v.at(4), "4");
  EXPECT_THROW(v.at(10), std::out_of_range);
  std::string joined;
  for (const auto& s : v) joined += s;
  EXPECT_EQ(joined, "a123456789");
}

struct Counted {
  static inline int live = 0;
  alignas(64) int value = 7;  // over-aligned, like the actor counters
  Counted() { ++live; }
  ~Counted() { --live; }
};

// Chunks are raw storage until each element is constructed: every element constructed is
// destroyed once, a moved-from vector owns nothing, and alignment holds in every chunk.
TEST(ChunkedVector, ConstructsAndDestroysEachElementOnce) {
  {
    ChunkedVector<Counted, 2> v;
    for (int i = 0; i < 9; ++i) {
      Counted& c = v.emplace_back();
      EXPECT_EQ(c.value, 7);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(&c) % 64, 0u);
    }
    EXPECT_EQ(Counted::live, 9);
    ChunkedVector<Counted, 2> moved(std::move(v));
    EXPECT_EQ(moved.size(), 9u);
    EXPECT_EQ(v.size(), 0u);  // NOLINT: moved from, and empty
    ChunkedVector<Counted, 2> assigned;
    assigned.emplace_back();
    EXPECT_EQ(Counted::live, 10);
    assigned = std::move(moved);
    EXPECT_EQ(Counted::live, 9);
  }
  EXPECT_EQ(Counted::live, 0);
}

}  // namespace
}  // namespace sw
