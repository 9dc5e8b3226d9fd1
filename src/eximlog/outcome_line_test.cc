// Delivery outcome lines as Exim writes them, and addresses chosen to look like tags.
#include "eximlog/outcome_line.h"

#include <gtest/gtest.h>

namespace sw::eximlog {
namespace {

constexpr const char* kId = "2026-11-22 15:38:18 1xV9dx-0001XQ-0j";

std::string line(const std::string& rest) { return std::string(kId) + " " + rest; }

TEST(OutcomeLine, AMailboxHereIsATransportOfThisHostWithoutAHost) {
  EXPECT_TRUE(outcome_on_this_host(line("** a@b R=virtual_user T=dovecot_virtual_delivery: Mailbox quota exceeded")));
  EXPECT_TRUE(outcome_on_this_host(line("== a@b R=local_user T=local_delivery defer (-22): quota")));
  EXPECT_TRUE(outcome_on_this_host(line("=> postmaster <postmaster@shop.example> R=system_aliases T=local_delivery")));
  EXPECT_FALSE(outcome_on_this_host(line("** a@b R=dnslookup T=remote_smtp H=mx.b [192.0.2.1]: 550 no such user")));
  EXPECT_FALSE(
      outcome_on_this_host(line("== a@b R=x T=smarthost defer (-53): retry time not reached H=relay [1.2.3.4]")));
  EXPECT_FALSE(outcome_on_this_host(line("** a@b R=x T=remote_smtp: retry timeout exceeded")));
  EXPECT_FALSE(outcome_on_this_host(line("** a@b: Unrouteable address")));
  EXPECT_FALSE(outcome_on_this_host(line("<= <> R=1xV9dx-0001XN-0W U=Debian-exim P=local S=1500")));
}

// A forged sender's quoted local part may read like tags; what it holds is no transport.
TEST(OutcomeLine, AQuotedLocalPartIsTheAddressNotItsTags) {
  std::string quoted = line("** \"x T=lmtp\"@evil.test R=dnslookup T=remote_smtp: retry timeout exceeded");
  EXPECT_FALSE(outcome_on_this_host(quoted));
  auto parts = split_outcome(quoted);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->address, "\"x T=lmtp\"@evil.test");
  EXPECT_TRUE(outcome_is_for(*parts, "\"X T=lmtp\"@Evil.test"));
  std::string original =
      line("=> /var/mail/x (a@b, \"c) d\"@e) <\"y> T=lmtp\"@shop.example> R=r T=remote_smtp H=h [1.2.3.4]");
  parts = split_outcome(original);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->original, "\"y> T=lmtp\"@shop.example");
  EXPECT_FALSE(outcome_on_this_host(original));
  EXPECT_TRUE(outcome_is_for(*parts, "\"y> T=lmtp\"@SHOP.example"));
  EXPECT_FALSE(outcome_is_for(*parts, "a@b"));
}

TEST(OutcomeLine, LinesWithoutAFlagHaveNoParts) {
  EXPECT_FALSE(split_outcome(line("Completed")));
  EXPECT_FALSE(split_outcome(""));
  EXPECT_FALSE(outcome_on_this_host(line("** ")));
  auto cut = split_outcome(line("** \"never closed T=local_delivery"));
  ASSERT_TRUE(cut);
  EXPECT_TRUE(cut->tags.empty());
}

}  // namespace
}  // namespace sw::eximlog
