#include "detect/related_user.h"

#include <gtest/gtest.h>

namespace sw::detect {
namespace {

SubmitterTally tally(std::initializer_list<std::pair<const char*, int>> counts) {
  SubmitterTally t;
  for (const auto& [login, n] : counts)
    for (int i = 0; i < n; ++i) t.add(login);
  return t;
}

TEST(RelatedUser, SubmissionsThatAgreeNameTheirUser) {
  EXPECT_EQ(decide_related_user("/var/www/html", tally({{"www-data", 11}})).user, "www-data");
  EXPECT_EQ(decide_related_user("/home/userx1/public_html", tally({{"userx1", 1}})).user, "userx1");
}

TEST(RelatedUser, AFewStrayPairingsAmongManyStillNameTheUser) {
  RelatedUser r = decide_related_user("/var/www/html", tally({{"www-data", 98}, {"news", 2}}));
  EXPECT_EQ(r.user, "www-data");
  EXPECT_EQ(r.note, "");
  // The same share below the minimum count, or a smaller share, is no agreement.
  EXPECT_EQ(decide_related_user("/var/www/html", tally({{"www-data", 49}, {"news", 1}})).user, "");
  EXPECT_EQ(decide_related_user("/var/www/html", tally({{"www-data", 97}, {"news", 3}})).user, "");
}

TEST(RelatedUser, DisagreementHoldsNoUserAndSaysWhy) {
  RelatedUser r = decide_related_user("/srv/app", tally({{"news", 3}, {"userx1", 40}}));
  EXPECT_EQ(r.user, "");
  EXPECT_EQ(r.note,
            "submissions name userx1 (40) and news (3): no user held with it; hold user:userx1 if it is the culprit");
  r = decide_related_user("/srv/app", tally({{"a", 5}, {"b", 4}, {"c", 3}, {"d", 2}, {"e", 1}}));
  EXPECT_EQ(r.note,
            "submissions name a (5), b (4), c (3) and others (3): no user held with it; hold user:a if it is "
            "the culprit");
}

TEST(RelatedUser, TheHomeOwnerCountsAndOthersDoNot) {
  // Pairings naming someone else than the owner of /home/userx1 are wrong guesses.
  RelatedUser r = decide_related_user("/home/userx1/public_html/wp", tally({{"news", 30}, {"userx1", 12}}));
  EXPECT_EQ(r.user, "userx1");
  EXPECT_EQ(r.note, "");
  r = decide_related_user("/home/userx1/public_html/wp", tally({{"news", 3}}));
  EXPECT_EQ(r.user, "");
  EXPECT_EQ(r.note,
            "submissions name news (3), but the directory lies in userx1's home: no user held with it; "
            "hold user:userx1 if it is the culprit");
}

TEST(RelatedUser, NoSubmissionsNoUser) {
  RelatedUser r = decide_related_user("/home/userx1/public_html", SubmitterTally{});
  EXPECT_EQ(r.user, "");
  EXPECT_EQ(r.note, "its submissions name no local user");
}

TEST(RelatedUser, TallyIsBounded) {
  SubmitterTally t;
  for (int i = 0; i < 100; ++i) t.add("user" + std::to_string(i));
  EXPECT_EQ(t.logins().size(), SubmitterTally::kMaxLogins);
  EXPECT_EQ(t.others(), 100 - SubmitterTally::kMaxLogins);
}

}  // namespace
}  // namespace sw::detect
