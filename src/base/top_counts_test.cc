// Bounded counts by key (base/top_counts.h): exact while the keys fit; past that, a frequent
// key is kept whatever came before it, and no count is ever low.
#include "base/top_counts.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace sw {
namespace {

TEST(TopCounts, ExactWhileTheKeysFit) {
  TopCounts t(3);
  t.add("b");
  t.add("a", 2);
  t.add("c");
  t.add("b");
  auto rows = t.top();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].key, "b");  // 2, kept before a
  EXPECT_EQ(rows[1].key, "a");
  EXPECT_EQ(rows[2].key, "c");
  for (const auto& r : rows) EXPECT_EQ(r.over, 0u) << r.key;
  EXPECT_EQ(t.count("a"), 2u);
  EXPECT_EQ(t.count("zz"), 0u);
  EXPECT_FALSE(t.replaced_any());
  EXPECT_EQ(t.top(1).size(), 1u);
}

TEST(TopCounts, AKeyThatComesAfterAFloodOfOthersIsStillCounted) {
  TopCounts t(100);
  for (int i = 0; i < 10000; ++i) t.add("decoy-" + std::to_string(i));  // each once, first
  for (int i = 0; i < 300; ++i) t.add("attacker");
  EXPECT_TRUE(t.replaced_any());
  EXPECT_EQ(t.size(), 100u);
  auto top = t.top(1);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].key, "attacker");
  EXPECT_GE(top[0].count, 300u);
  EXPECT_LE(top[0].count - top[0].over, 300u);  // count - over never overstates
}

TEST(TopCounts, ReportsTheKeyItReplaced) {
  TopCounts t(2);
  EXPECT_FALSE(t.add("a", 5));
  EXPECT_FALSE(t.add("b", 1));
  auto replaced = t.add("c");
  ASSERT_TRUE(replaced);
  EXPECT_EQ(*replaced, "b");  // the least counted
  EXPECT_EQ(t.count("b"), 0u);
  EXPECT_EQ(t.count("c"), 2u);  // b's 1, plus its own
  EXPECT_EQ(t.top()[1].over, 1u);
}

// Among the least counted, the last kept goes first: a stream of new keys replaces its own
// before the keys kept earlier with as many.
TEST(TopCounts, OfEquallyCountedKeysTheLastKeptIsReplaced) {
  TopCounts t(2);
  t.add("early", 2);
  t.add("b");
  t.add("c");  // replaces b: c has 2, as early has
  auto replaced = t.add("d");
  ASSERT_TRUE(replaced);
  EXPECT_EQ(*replaced, "c");
  EXPECT_EQ(t.count("early"), 2u);
}

// The guarantees on a random stream against exact counts: every count is an upper bound that
// overstates by at most its `over`, and every key counted more than total/capacity is kept.
TEST(TopCounts, BoundsHoldOnARandomStream) {
  std::mt19937 rng(7);
  std::map<std::string, uint64_t> exact;
  TopCounts t(50);
  uint64_t total = 0;
  for (int i = 0; i < 20000; ++i) {
    // A few heavy keys among many light ones.
    std::string key = rng() % 4 == 0 ? "heavy-" + std::to_string(rng() % 5) : "light-" + std::to_string(rng() % 5000);
    t.add(key);
    ++exact[key];
    ++total;
  }
  for (const auto& r : t.top()) {
    uint64_t truth = exact.at(std::string(r.key));
    EXPECT_GE(r.count, truth) << r.key;
    EXPECT_LE(r.count - r.over, truth) << r.key;
  }
  for (const auto& [key, n] : exact) {
    if (n > total / 50) {
      EXPECT_GT(t.count(key), 0u) << key << " counted " << n;
    }
  }
  for (int h = 0; h < 5; ++h) EXPECT_GT(t.count("heavy-" + std::to_string(h)), 0u);
}

}  // namespace
}  // namespace sw
