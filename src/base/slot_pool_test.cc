#include "base/slot_pool.h"

#include <gtest/gtest.h>

#include <string>

namespace sw {

TEST(SlotPool, AGivenSlotIsTakenAgainEmptyAndItemsNeverMove) {
  SlotPool<std::string, 2> pool;  // chunks of four: growth crosses chunks
  uint32_t a = pool.take(), b = pool.take();
  pool[a] = "first";
  pool[b] = "second";
  const std::string* where = &pool[b];
  for (int i = 0; i < 20; ++i) pool[pool.take()] = std::to_string(i);
  EXPECT_EQ(&pool[b], where);
  EXPECT_EQ(pool[b], "second");
  pool.give(a);
  EXPECT_EQ(pool.in_use(), 21u);
  uint32_t again = pool.take();
  EXPECT_EQ(again, a);
  EXPECT_TRUE(pool[again].empty());
  EXPECT_EQ(pool.held(), 22u);
  EXPECT_EQ(pool.in_use(), 22u);
  pool.give(b);
  uint32_t copy = pool.add("copied");
  EXPECT_EQ(copy, b);
  EXPECT_EQ(pool[copy], "copied");
}

}  // namespace sw
