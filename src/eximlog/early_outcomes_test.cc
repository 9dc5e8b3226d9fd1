#include "eximlog/early_outcomes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eximlog/line_parser.h"

namespace sw::eximlog {
namespace {

MessageKey id(const char* text) { return message_key(text); }
CivilSeconds at(const char* hms) { return *parse_civil(std::string("2026-12-07 ") + hms); }

std::vector<std::string> taken(EarlyOutcomes& held, const char* text) {
  std::vector<std::string> out;
  held.take(id(text), [&](const EarlyOutcomes::Entry& e) { out.push_back(e.raw); });
  return out;
}

TEST(EarlyOutcomes, OnlyACutthroughDeliveryComesBeforeItsArrival) {
  auto kind = [](const std::string& raw) {
    LogLine l;
    parse_line(raw, l);
    return is_early_outcome(l);
  };
  EXPECT_TRUE(kind("2026-12-07 03:37:33 1xaPXh-0007gP-0h >> a@b.example R=lookuphost T=remote_smtp H=mx [192.0.2.1]"));
  EXPECT_FALSE(kind("2026-12-07 03:37:33 1xaPXh-0007gP-0h => a@b.example R=lookuphost T=remote_smtp H=mx [192.0.2.1]"));
  EXPECT_FALSE(kind("2026-12-07 03:37:33 1xaPXh-0007gP-0h == a@b.example R=lookuphost T=remote_smtp defer (-44)"));
}

TEST(EarlyOutcomes, TheArrivalTakesItsOwnLinesInOrderOnce) {
  EarlyOutcomes held;
  held.hold(id("1xaPXh-0007gP-0h"), at("03:37:33"), ">> one");
  held.hold(id("1xaPXh-0007gR-0k"), at("03:37:33"), ">> other");
  held.hold(id("1xaPXh-0007gP-0h"), at("03:37:33"), ">> two");
  EXPECT_EQ(taken(held, "1xaPXh-0007gP-0h"), (std::vector<std::string>{">> one", ">> two"}));
  EXPECT_TRUE(taken(held, "1xaPXh-0007gP-0h").empty());
  EXPECT_EQ(held.size(), 1u);
  held.hold(id("1xaPXh-0007gR-0k"), at("03:37:34"), ">> other, again");
  std::vector<std::string> first;
  EXPECT_EQ(held.take(
                id("1xaPXh-0007gR-0k"), [&](const EarlyOutcomes::Entry& e) { first.push_back(e.raw); }, 1),
            1u);
  EXPECT_EQ(first, std::vector<std::string>{">> other"});  // the oldest
  EXPECT_EQ(taken(held, "1xaPXh-0007gR-0k"), std::vector<std::string>{">> other, again"});
}

TEST(EarlyOutcomes, LinesNoArrivalClaimedAreDroppedAfterAMinuteOrPastTheCap) {
  EarlyOutcomes held;
  held.hold(id("1xaPXh-0007gP-0h"), at("03:37:00"), ">> old");
  EXPECT_EQ(held.hold(id("1xaPXh-0007gR-0k"), at("03:38:00"), ">> a minute on"), 0u);
  EXPECT_EQ(held.hold(id("1xaPXh-0007gS-0k"), at("03:38:01"), ">> later"), 1u);  // the old one
  EXPECT_TRUE(taken(held, "1xaPXh-0007gP-0h").empty());
  EXPECT_EQ(held.expire(at("02:38:01")), 2u);  // a clock an hour back: the rest are no longer near
  for (size_t i = 0; i < EarlyOutcomes::kMax; ++i) held.hold(id("1xaPXh-0007gP-0h"), at("03:40:00"), ">> many");
  EXPECT_EQ(held.hold(id("1xaPXh-0007gR-0k"), at("03:40:00"), ">> one more"), 1u);
  EXPECT_EQ(held.size(), EarlyOutcomes::kMax);
  EXPECT_EQ(taken(held, "1xaPXh-0007gR-0k").size(), 1u);
}

// A hostile log's megabyte lines are not copied: a line past kMaxLineBytes is an orphan at
// once, and the lines held never add up past kMaxBytes.
TEST(EarlyOutcomes, HeldCopiesAreBoundedInBytes) {
  EarlyOutcomes held;
  EXPECT_EQ(held.hold(id("1xaPXh-0007gP-0h"), at("03:40:00"), std::string(EarlyOutcomes::kMaxLineBytes + 1, 'x')), 1u);
  EXPECT_TRUE(held.empty());
  std::string line(EarlyOutcomes::kMaxLineBytes, 'x');
  size_t fit = EarlyOutcomes::kMaxBytes / line.size();
  for (size_t i = 0; i < fit; ++i) EXPECT_EQ(held.hold(id("1xaPXh-0007gP-0h"), at("03:40:00"), line), 0u);
  EXPECT_EQ(held.hold(id("1xaPXh-0007gR-0k"), at("03:40:00"), line), 1u);  // the oldest goes
  EXPECT_EQ(held.size(), fit);
  EXPECT_EQ(held.take(id("1xaPXh-0007gP-0h"), [](const EarlyOutcomes::Entry&) {}), fit - 1);
  EXPECT_FALSE(
      held.restore(id("1xaPXh-0007gS-0k"), at("03:40:00"), std::string(EarlyOutcomes::kMaxLineBytes + 1, 'x'), 0));
}

}  // namespace
}  // namespace sw::eximlog
