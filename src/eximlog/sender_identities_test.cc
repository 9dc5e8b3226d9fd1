#include "eximlog/sender_identities.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "eximlog/line_parser.h"

namespace sw::eximlog {
namespace {

LogLine parsed(const std::string& raw) {
  static std::vector<std::string> kept;  // the parse views into its line
  kept.push_back(raw);
  LogLine l;
  parse_line(kept.back(), l);
  return l;
}

std::string identification(int n, const std::string& user, const std::string& at = "10:00:00") {
  return fmt::format("2026-11-01 {} 1tAAAA-{:06d}-AA Sender identification U={} D=d.example S=a@d.example", at, n,
                     user);
}

std::string arrival(int n, const std::string& tags = "H=localhost [127.0.0.1]:4000 P=esmtp",
                    const std::string& at = "10:00:01") {
  return fmt::format("2026-11-01 {} 1tAAAA-{:06d}-AA <= a@d.example {} S=100 for r@far.test", at, n, tags);
}

TEST(SenderIdentities, NameTheUserOfTheirOwnMessageOnce) {
  SenderIdentities ids;
  ids.note(parsed(identification(1, "u1")));
  ids.note(parsed(identification(2, "u2")));
  EXPECT_EQ(ids.take(parsed(arrival(3))), "");  // another message
  EXPECT_EQ(ids.take(parsed(arrival(2))), "u2");
  EXPECT_EQ(ids.take(parsed(arrival(2))), "");  // used
  EXPECT_EQ(ids.take(parsed(arrival(1))), "u1");
  EXPECT_TRUE(ids.entries().empty());
}

// cPanel's own order: it names the user when it routes the message, after the arrival.
TEST(SenderIdentities, AnIdentificationAfterItsArrivalClaimsIt) {
  using Noted = SenderIdentities::Noted;
  SenderIdentities ids;
  EXPECT_EQ(ids.take(parsed(arrival(1)), "line 1"), "");
  EXPECT_EQ(ids.take(parsed(arrival(2))), "");
  EXPECT_EQ(ids.arrivals().size(), 2u);
  SenderIdentities::Entry kept;
  EXPECT_EQ(ids.note(parsed(identification(1, "u1", "10:00:02")), &kept), Noted::kClaims);
  EXPECT_EQ(kept.user, "line 1");
  EXPECT_EQ(kept.size, 100u);
  EXPECT_EQ(ids.arrivals().size(), 1u);
  // Once: a second line for it is an identification like any, waiting (for nothing).
  EXPECT_EQ(ids.note(parsed(identification(1, "u1", "10:00:03"))), Noted::kWaits);
  // Exim's own users name nobody, and the arrival still waits for a line that names someone
  // (as a line before its arrival that names nobody is passed over).
  EXPECT_EQ(ids.note(parsed(identification(2, "mailnull", "10:00:02"))), Noted::kNobody);
  EXPECT_EQ(ids.note(parsed(identification(2, "-system-", "10:00:02"))), Noted::kNobody);
  EXPECT_EQ(ids.note(parsed(identification(2, "u2", "10:00:02"))), Noted::kClaims);
  EXPECT_TRUE(ids.arrivals().empty());
}

std::string connection(const std::string& user, int port, const std::string& at = "10:00:00",
                       const std::string& ip = "127.0.0.1", const std::string& by = "identify_local_connection") {
  return fmt::format("2026-11-01 {} SMTP connection identification H=localhost A={} P={} U={} ID=1001 S={} B={}", at,
                     ip, port, user, user, by);
}

// cPanel names a local connection when it opens: its arrivals are the user's at once, though
// they are never routed (frozen at their arrival) or routed past the routing line's wait.
TEST(SenderIdentities, AConnectionNamesItsArrivalsAndTheirRoutingLinesCountNothing) {
  using Noted = SenderIdentities::Noted;
  SenderIdentities ids;
  EXPECT_EQ(ids.note(parsed(connection("u1", 4000))), Noted::kConnection);
  EXPECT_EQ(ids.note(parsed(connection("u9", 4100, "10:00:00", "127.0.0.1", "authenticated_local_user"))),
            Noted::kNobody);
  EXPECT_EQ(ids.connection_user(parsed(arrival(1))), "u1");
  EXPECT_EQ(ids.take(parsed(arrival(1))), "u1");
  EXPECT_EQ(ids.take(parsed(arrival(2, "H=localhost [127.0.0.1]:4000 P=esmtp", "10:04:59"))),
            "u1");                                                                      // the session's next
  EXPECT_EQ(ids.take(parsed(arrival(3, "H=localhost [127.0.0.1]:4001 P=esmtp"))), "");  // another port
  EXPECT_EQ(ids.take(parsed(arrival(4, "H=localhost [::1]:4000 P=esmtp"))), "");        // another address
  EXPECT_EQ(ids.take(parsed(arrival(5, "H=localhost [127.0.0.1]:4100 P=esmtp"))), "");  // not a local connection's line
  EXPECT_EQ(ids.take(parsed(arrival(6, "H=localhost [127.0.0.1] P=esmtp"))), "");       // no port logged
  // A mailbox logged in over it is its account's.
  EXPECT_EQ(ids.take(parsed(arrival(7, "H=localhost [127.0.0.1]:4000 P=esmtpa A=dovecot_login:box@d.example"))), "");
  // Past the wait, the arrival waits for its routing line instead.
  bool kept = false;
  EXPECT_EQ(ids.take(parsed(arrival(8, "H=localhost [127.0.0.1]:4000 P=esmtp", "10:05:01")), {}, &kept), "");
  EXPECT_TRUE(kept);
  // The routing lines of the named arrivals name them again: nothing more to count.
  EXPECT_EQ(ids.note(parsed(identification(1, "u1", "10:00:02"))), Noted::kNobody);
  EXPECT_EQ(ids.note(parsed(identification(2, "u1", "10:05:02"))), Noted::kNobody);
  EXPECT_EQ(ids.note(parsed(identification(3, "u3", "10:00:02"))), Noted::kClaims);
  EXPECT_EQ(ids.note(parsed(identification(8, "u1", "10:05:02"))), Noted::kClaims);
  EXPECT_TRUE(ids.entries().empty());
  // The port used again: the new connection's user, or none when cPanel names nobody.
  ids.note(parsed(connection("u2", 4000, "10:06:00")));
  EXPECT_EQ(ids.take(parsed(arrival(9, "H=localhost [127.0.0.1]:4000 P=esmtp", "10:06:01"))), "u2");
  ids.note(parsed(connection("-system-", 4000, "10:07:00")));
  EXPECT_EQ(ids.take(parsed(arrival(10, "H=localhost [127.0.0.1]:4000 P=esmtp", "10:07:01"))), "");
  EXPECT_EQ(ids.connections().size(), 1u);
  // Kept until a newer one comes past their wait.
  ids.note(parsed(connection("u3", 4001, "10:12:01")));
  ASSERT_EQ(ids.connections().size(), 1u);
  EXPECT_EQ(ids.connections().front().user, "u3");
}

TEST(SenderIdentities, OnlyArrivalsThatMayBeIdentifiedWaitAndNotForLong) {
  using Noted = SenderIdentities::Noted;
  SenderIdentities ids;
  ids.take(parsed(arrival(1, "H=(pc) [198.51.100.1]:4000 P=esmtpa A=dovecot_login:box@d.example")));
  ids.take(parsed(arrival(2, "U=u1 P=local")));
  ids.take(parsed(arrival(3, "H=(bot) [198.51.100.7]:4000 P=esmtp")));
  ids.take(
      parsed(fmt::format("2026-11-01 10:00:01 1tAAAA-{:06d}-AA <= <> H=localhost [127.0.0.1]:4000 P=esmtp S=1 "
                         "for r@far.test",
                         4)));
  EXPECT_TRUE(ids.arrivals().empty());
  for (int n : {1, 2, 3, 4}) EXPECT_EQ(ids.note(parsed(identification(n, "u1", "10:00:02"))), Noted::kWaits);
  ids.take(parsed(arrival(5)));
  EXPECT_EQ(ids.note(parsed(identification(5, "u1", "10:05:02"))), Noted::kWaits);  // 301 s on
  for (int i = 0; i < int(SenderIdentities::kMax) + 10; ++i) ids.take(parsed(arrival(100 + i)));
  EXPECT_EQ(ids.arrivals().size(), SenderIdentities::kMax);
  EXPECT_EQ(ids.note(parsed(identification(100, "u2"))), Noted::kWaits);  // the oldest went first
  EXPECT_EQ(ids.note(parsed(identification(100 + int(SenderIdentities::kMax) + 9, "u2"))), Noted::kClaims);
}

// A script connecting to the server's public name comes in on the address it comes from.
TEST(SenderIdentities, MailFromThisHostsOwnAddressOrTheLoopbackOnly) {
  SenderIdentities ids;
  ids.note(parsed(identification(1, "u1")));
  EXPECT_EQ(ids.take(parsed(arrival(1, "H=(site) [203.0.113.5]:4000 I=[203.0.113.5]:25 P=esmtp"))), "u1");
  ids.note(parsed(identification(2, "u1")));
  EXPECT_EQ(ids.take(parsed(arrival(2, "H=(bot) [198.51.100.7]:4000 I=[203.0.113.5]:25 P=esmtp"))), "");
  ids.note(parsed(identification(3, "u1")));
  EXPECT_EQ(ids.take(parsed(arrival(3, "H=localhost [::1]:4000 I=[::1]:25 P=esmtp"))), "u1");
}

TEST(SenderIdentities, AnArrivalThatNamesItsSenderTakesNone) {
  SenderIdentities ids;
  ids.note(parsed(identification(1, "u1")));
  EXPECT_EQ(ids.take(parsed(arrival(1, "H=(pc) [198.51.100.1]:4000 P=esmtpa A=dovecot_login:box@d.example"))), "");
  EXPECT_TRUE(ids.empty());  // and it is gone
  ids.note(parsed(identification(2, "u1")));
  EXPECT_EQ(ids.take(parsed(arrival(2, "U=u1 P=local"))), "");
}

TEST(SenderIdentities, EximsOwnUsersAndLateOrExcessEntriesNameNobody) {
  SenderIdentities ids;
  ids.note(parsed(identification(1, "mailnull")));
  ids.note(parsed(identification(2, "-system-")));
  EXPECT_TRUE(ids.empty());
  // cPanel's list deliveries: this host's mail, though no user's (names_a_user says which).
  ids.note(parsed(identification(4, "mailman")));
  EXPECT_EQ(ids.take(parsed(arrival(4))), "mailman");
  EXPECT_FALSE(names_a_user("mailman"));
  ids.note(parsed(identification(3, "u1")));
  EXPECT_EQ(ids.take(parsed(arrival(3, "H=localhost [127.0.0.1]:4000 P=esmtp", "10:10:01"))), "");  // 601 s on
  for (int i = 0; i < int(SenderIdentities::kMax) + 10; ++i) ids.note(parsed(identification(100 + i, "u2")));
  EXPECT_EQ(ids.entries().size(), SenderIdentities::kMax);
  EXPECT_EQ(ids.take(parsed(arrival(100))), "");  // the oldest went first
  EXPECT_EQ(ids.take(parsed(arrival(100 + int(SenderIdentities::kMax) + 9))), "u2");
}

}  // namespace
}  // namespace sw::eximlog
