#include "base/localpart.h"

#include <gtest/gtest.h>

namespace sw {

TEST(LocalPart, FlagsMachineGeneratedStrings) {
  for (const char* random : {"xkqjzpwv", "a8f3k2j9x", "QWRTZPLK", "k3j4h5g6", "mvbxcnrtq.sale", "zzkxwvbtqr"})
    EXPECT_TRUE(looks_random_localpart(random)) << random;
}

TEST(LocalPart, LeavesHumansRolesAndBounceEncodingsAlone) {
  for (const char* human :
       {"john.smith", "info", "noreply", "sales2024", "mary-anne", "strength", "schwarzkopf", "postmaster", "abc",
        "bounces+12ab34cd56", "prvs=1234abcd5=user", "SRS0=ab12=cd=example.com=user", "newsletter", "j.doe1985"})
    EXPECT_FALSE(looks_random_localpart(human)) << human;
}

}  // namespace sw
