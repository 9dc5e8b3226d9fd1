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
  for (size_t cut : {size_t(0), size_t(1), size_t(700), size_t(1500), size_t(2999), size_t(3000)}) {
    RecipientSample whole, first, second;
    for (size_t i = 0; i < stream.size(); ++i) {
      CivilSeconds t = CivilSeconds(i) * 97;  // an address named again 12 h on, or sooner
      whole.add(stream[i], t);
      (i < cut ? first : second).add(stream[i], t);
    }
    first.merge(second);
    ASSERT_EQ(first.entries().size(), whole.entries().size()) << cut;
    for (size_t i = 0; i < whole.entries().size(); ++i) {
      EXPECT_EQ(first.entries()[i].hash, whole.entries()[i].hash) << cut;
      EXPECT_EQ(first.entries()[i].first, whole.entries()[i].first) << cut;
      EXPECT_EQ(first.entries()[i].last, whole.entries()[i].last) << cut;
      EXPECT_EQ(first.entries()[i].runs, whole.entries()[i].runs) << cut;
    }
  }
}

TEST(RecipientSample, AListMailedNightAfterNightNotTwiceNorInOneRun) {
  RecipientSample list, twice, two_nights, fresh, one;
  for (int night = 0; night < 3; ++night)
    for (uint32_t r = 0; r < 150; ++r) list.add(r * 2654435761u, night * 86400 + r);
  for (int run = 0; run < 3; ++run)  // one list sent again and again within the hour: a loop
    for (uint32_t r = 0; r < 150; ++r) twice.add(r * 2654435761u, run * 1200 + r);
  for (int night = 0; night < 2; ++night)  // one harvested list sent twice, a day apart
    for (uint32_t r = 0; r < 150; ++r) two_nights.add(r * 2654435761u, night * 86400 + r);
  for (uint32_t r = 0; r < 300; ++r) fresh.add(r * 2654435761u, r);
  for (int i = 0; i < 500; ++i) one.add(42, i * 86400);  // a contact form: one address, too few to judge
  EXPECT_TRUE(list.mostly_mailed_again());
  EXPECT_FALSE(twice.mostly_mailed_again());
  EXPECT_FALSE(two_nights.mostly_mailed_again());
  EXPECT_FALSE(fresh.mostly_mailed_again());
  EXPECT_FALSE(one.mostly_mailed_again());
  EXPECT_EQ(list.entries().size(), RecipientSample::kSize);
  EXPECT_NEAR(list.distinct(), 150.0, 150.0 * 0.3);
  EXPECT_NEAR(fresh.distinct(), 300.0, 300.0 * 0.3);
  EXPECT_EQ(one.distinct(), 1.0);
  EXPECT_FALSE(RecipientSample().restore({{5, 1, 1, 0, 0}, {5, 1, 1, 0, 0}}));
  EXPECT_FALSE(RecipientSample().restore({{5, 1, 1, 10, 0}}));
  EXPECT_FALSE(RecipientSample().restore({{5, 0, 0, 0, 0}}));
  EXPECT_FALSE(RecipientSample().restore({{5, 3, 2, 0, 86400}})) << "named fewer times than in runs";
  EXPECT_TRUE(RecipientSample().restore({{5, 3, 3, 0, 86400}}));
}

// An account's sample admits a quarter of the hashes: it still merges into the whole's, has
// nothing to keep for an actor that mailed no admitted address, and scales its count.
TEST(RecipientSample, AQuarterSampleMergesAndEstimatesTheWhole) {
  constexpr uint32_t kQuarter = RecipientSample::kEveryHash / 4;
  std::mt19937 random(11);
  std::vector<uint32_t> list;
  for (int i = 0; i < 120; ++i) list.push_back(uint32_t(random()));
  RecipientSample whole(kQuarter), first(kQuarter), second(kQuarter);
  size_t admitted = 0;
  for (uint32_t h : list) admitted += h <= kQuarter;
  for (int night = 0; night < 3; ++night)
    for (size_t i = 0; i < list.size(); ++i) {
      whole.add(list[i], night * 86400 + CivilSeconds(i));
      (night < 2 ? first : second).add(list[i], night * 86400 + CivilSeconds(i));
    }
  first.merge(second);
  ASSERT_EQ(whole.entries().size(), admitted);
  ASSERT_EQ(first.entries().size(), admitted);
  for (size_t i = 0; i < admitted; ++i) {
    EXPECT_LE(whole.entries()[i].hash, kQuarter);
    EXPECT_EQ(first.entries()[i].hash, whole.entries()[i].hash);
    EXPECT_EQ(first.entries()[i].runs, 3u);
  }
  EXPECT_DOUBLE_EQ(whole.distinct(), 4.0 * double(admitted));
  EXPECT_TRUE(whole.mostly_mailed_again());
  RecipientSample empty;  // a part that kept nothing, made without the ceiling: the whole has it
  empty.merge(whole);
  EXPECT_EQ(empty.ceiling(), kQuarter);
  EXPECT_DOUBLE_EQ(empty.distinct(), whole.distinct());
  RecipientSample none(kQuarter);
  none.add(kQuarter + 1u, 0);
  EXPECT_TRUE(none.entries().empty());
  EXPECT_FALSE(RecipientSample(kQuarter).restore({{kQuarter + 1u, 1, 1, 0, 0}}))
      << "above the ceiling: not this sample";
  EXPECT_TRUE(RecipientSample(kQuarter).restore({{kQuarter, 1, 1, 0, 0}}));
}

// Three runs within one day are one harvested list sent three times, not a list mailed night
// after night.
TEST(RecipientSample, ThreeRunsWithinADayAreNoListMailedAgain) {
  RecipientSample day, nights;
  for (int run = 0; run < 3; ++run)
    for (uint32_t r = 0; r < 100; ++r) {
      day.add(r * 2654435761u, run * 12 * 3600 + r);
      nights.add(r * 2654435761u, run * 86400 + r);
    }
  EXPECT_EQ(day.entries()[0].runs, 3u);
  EXPECT_FALSE(day.mostly_mailed_again());
  EXPECT_TRUE(nights.mostly_mailed_again());
}

// Beside its busiest window, mail to new addresses is weighed by how much of it came at once:
// a mail bomb naming twenty addresses twenty times each within minutes is 400 recipients; the
// same addresses mailed once a day apart are spread out.
TEST(RecipientSample, MailToNewAddressesAtOnceIsWeighedByItsMessages) {
  RecipientSample bombed, spread;
  for (int night = 0; night < 7; ++night)
    for (uint32_t r = 0; r < 40; ++r) {
      bombed.add(r * 2654435761u, night * 86400 + r);
      spread.add(r * 2654435761u, night * 86400 + r);
    }
  for (int round = 0; round < 20; ++round)
    for (uint32_t v = 0; v < 20; ++v) bombed.add(0x9e3779b9u ^ (v * 40503u), 2 * 86400 + 50000 + round * 20 + v);
  for (uint32_t v = 0; v < 20; ++v) spread.add(0x9e3779b9u ^ (v * 40503u), 2 * 86400 + 50000 + v * 7200);
  auto b = bombed.around_peak(0, 40, 3600);
  auto s = spread.around_peak(0, 40, 3600);
  EXPECT_DOUBLE_EQ(b.fresh_peak, 400.0) << "every address kept: nothing scaled";
  EXPECT_DOUBLE_EQ(s.fresh_peak, 1.0);
  EXPECT_TRUE(b.mailed_again) << "the window itself named the list";
  EXPECT_DOUBLE_EQ(b.list, 40.0);
  EXPECT_DOUBLE_EQ(b.repeated, 20.0 * 16) << "20 messages to each, 4 of them a run's own";
  EXPECT_DOUBLE_EQ(s.repeated, 0.0);
  // A probe the day before spreads a victim's mail over more than a span; its messages are
  // still counted, and so are those at the list's own addresses.
  RecipientSample probed = spread;
  probed.add(0x9e3779b9u, 7 * 86400);  // a victim mailed two days before: a probe
  for (int i = 0; i < 300; ++i) probed.add(0x9e3779b9u, 7 * 86400 + 50000 + i);
  for (int i = 0; i < 100; ++i) probed.add(5 * 2654435761u, 7 * 86400 + 60000 + i);  // a subscriber
  ASSERT_EQ(probed.entries().size(), 60u);
  auto p = probed.around_peak(0, 40, 3600);
  EXPECT_DOUBLE_EQ(p.repeated, (302.0 - 4 * 3) + (107.0 - 4 * 8)) << "a run's own four kept out";
}

}  // namespace
}  // namespace sw::stats
