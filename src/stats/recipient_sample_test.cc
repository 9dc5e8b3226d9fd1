#include "stats/recipient_sample.h"

#include <gtest/gtest.h>

#include <random>

namespace sw::stats {
namespace {

// Split anywhere, the parts' samples merge into the whole's: slices of a log and rotated files
// give the report one pass gives.
TEST(RecipientSample, PartsMergeIntoTheWhole) {
  std::mt19937 random(7);
  std::vector<uint32_t> stream;
  for (int i = 0; i < 3000; ++i) stream.push_back(random() % 400);  // repeats, in any order
  for (size_t cut : {size_t(0), size_t(1), size_t(700), size_t(2999), size_t(3000)}) {
    RecipientSample whole, first, second;
    for (size_t i = 0; i < stream.size(); ++i) {
      whole.add(stream[i]);
      (i < cut ? first : second).add(stream[i]);
    }
    first.merge(second);
    ASSERT_EQ(first.entries().size(), whole.entries().size()) << cut;
    for (size_t i = 0; i < whole.entries().size(); ++i) {
      EXPECT_EQ(first.entries()[i].hash, whole.entries()[i].hash) << cut;
      EXPECT_EQ(first.entries()[i].count, whole.entries()[i].count) << cut;
    }
  }
}

TEST(RecipientSample, AListMailedAgainAndNewAddresses) {
  RecipientSample list, fresh, one;
  for (int night = 0; night < 2; ++night)
    for (uint32_t r = 0; r < 150; ++r) list.add(r * 2654435761u);
  for (uint32_t r = 0; r < 300; ++r) fresh.add(r * 2654435761u);
  for (int i = 0; i < 500; ++i) one.add(42);  // a contact form: one address, too few to judge
  EXPECT_TRUE(list.mostly_mailed_again());
  EXPECT_FALSE(fresh.mostly_mailed_again());
  EXPECT_FALSE(one.mostly_mailed_again());
  EXPECT_EQ(list.entries().size(), RecipientSample::kSize);
  EXPECT_NEAR(list.distinct(), 150.0, 150.0 * 0.3);
  EXPECT_NEAR(fresh.distinct(), 300.0, 300.0 * 0.3);
  EXPECT_EQ(one.distinct(), 1.0);
  EXPECT_FALSE(RecipientSample().restore({{5, 1}, {5, 1}}));
  EXPECT_FALSE(RecipientSample().restore({{5, 0}}));
}

}  // namespace
}  // namespace sw::stats
