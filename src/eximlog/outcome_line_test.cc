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

// A msglog's attempts carry no flag in Exim 4.96; its other lines are no outcome.
TEST(OutcomeLine, MsglogAttemptsWithoutAFlag) {
  auto defer = split_msglog_outcome(
      "2026-12-07 13:28:48 alice@lab.example R=virtual_user T=dovecot_virtual_delivery defer (-4): too many links");
  ASSERT_TRUE(defer);
  EXPECT_EQ(defer->address, "alice@lab.example");
  EXPECT_TRUE(outcome_on_this_host(*defer));
  auto failed = split_msglog_outcome(
      "2026-12-07 13:28:48.250 -0500 v@live.test (p@shop.example) <Top@shop.example> F=<> R=lookuphost "
      "T=remote_smtp H=mx [192.0.2.1]: 550 5.1.1");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->address, "v@live.test");
  EXPECT_EQ(failed->original, "Top@shop.example");
  EXPECT_FALSE(outcome_on_this_host(*failed));
  auto flagged = split_msglog_outcome("2026-12-07 13:28:48 ** a@b R=r T=local_delivery: quota");
  ASSERT_TRUE(flagged);
  EXPECT_EQ(flagged->address, "a@b");
  for (const char* other : {"2026-12-07 13:28:48 Received from <> R=1xaYll-00029f-2z U=Debian-exim P=local S=1802",
                            "2026-12-07 13:28:48 *** Frozen (delivery error message)",
                            "2026-12-07 13:28:48 H=mx [192.0.2.1] SMTP error from remote mail server after RCPT",
                            "2026-12-07 13:28:48 no immediate delivery: queued by ACL", "2026-12-07", ""})
    EXPECT_FALSE(split_msglog_outcome(other)) << other;
}

}  // namespace
}  // namespace sw::eximlog
