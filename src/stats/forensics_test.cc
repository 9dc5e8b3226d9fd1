// The engine on small, hand-built logs in the shapes Exim writes; each test plants one pattern
// and checks it is found (or, for legitimate traffic, that it is not).
#include "stats/forensics.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/display_width.h"
#include "base/json_text.h"
#include "base/text.h"
#include "base/utf8.h"
#include "eximlog/line_parser.h"
#include "stats/findings.h"
#include "stats/report.h"

namespace sw::stats {
namespace {

class LogBuilder {
 public:
  explicit LogBuilder(const char* start = "2026-11-01 00:00:00") : t_(*parse_civil(start)) {}
  void at(CivilSeconds t) { t_ = t; }
  void advance(int64_t s) { t_ += s; }
  CivilSeconds now() const { return t_; }
  void line(const std::string& text, uint32_t pid = 0) {
    std::string prefix = format_civil(t_) + (pid ? fmt::format(" [{}] ", pid) : " ");
    lines_.push_back(prefix + text);
  }
  std::string next_id() {
    static const char* digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t n = ++serial_;
    std::string mid;
    for (int i = 0; i < 6; ++i, n /= 62) mid.insert(mid.begin(), digits[n % 62]);
    return "1tAAAA-" + mid + "-AA";
  }
  // A local sendmail submission from a script directory, with its delivery.
  void script_mail(const std::string& user, const std::string& dir, int rcpts, uint32_t pid) {
    std::string id = next_id(), list;
    for (int i = 0; i < rcpts; ++i) list += fmt::format(" r{}_{}@far{}.test", serial_, i, i % 7);
    line("cwd=" + dir + " 3 args: /usr/sbin/sendmail -t -i", pid);
    line(fmt::format("{} <= {}@host.example U={} P=local S=900 T=\"Hello\" for{}", id, user, user, list), pid);
    uint32_t delivery_pid = pid ? pid + 1 : 0;
    line(id + " => r@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]", delivery_pid);
    line(id + " Completed", delivery_pid);
  }
  void auth_mail(const std::string& account, const std::string& ip, int rcpts) {
    std::string id = next_id(), list;
    for (int i = 0; i < rcpts; ++i) list += fmt::format(" v{}@x{}.test", i, i % 5);
    line(fmt::format("{} <= {} H=(pc) [{}]:4000 P=esmtpa A=dovecot_login:{} S=2000 T=\"Invoice\" for{}", id, account,
                     ip, account, list));
    line(id + " Completed");
  }
  // PHPMailer talking SMTP to 127.0.0.1 on cPanel: no cwd=, no U= on the arrival; cPanel's
  // line names the user behind the connection (with A= when it logged in) when it routes the
  // message, after the arrival; an ACL of the site's own may log it before.
  // Where cPanel names the user: routing the message (after its arrival), an ACL's line before
  // it, or only its connection (the message frozen at its arrival, never routed).
  enum class Order { kAfter, kBefore, kConnection };
  void localhost_smtp_mail(const std::string& user, int rcpts, const std::string& account = "",
                           Order order = Order::kAfter) {
    std::string id = next_id(), list;
    for (int i = 0; i < rcpts; ++i) list += fmt::format(" l{}_{}@far{}.test", serial_, i, i % 7);
    std::string identification =
        fmt::format("{} Sender identification U={} D=site.example S=info@site.example", id, user);
    unsigned port = 40000 + unsigned(serial_ % 20000);
    if (order == Order::kConnection)
      line(
          fmt::format("SMTP connection identification H=localhost A=127.0.0.1 P={} U={} ID=1001 S={} "
                      "B=identify_local_connection",
                      port, user, user));
    if (order == Order::kBefore) line(identification);
    std::string auth = account.empty() ? "" : " A=dovecot_login:" + account;
    line(
        fmt::format("{} <= info@site.example H=localhost (site.example) [127.0.0.1]:{} P=esmtp{}{} S=1500 "
                    "T=\"Win\" for{}",
                    id, port, account.empty() ? "" : "a", auth, list));
    if (order == Order::kConnection) return line(id + " frozen by ACL");
    if (order == Order::kAfter) line(identification);
    line(id + " => l@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]");
    line(id + " Completed");
  }
  const std::vector<std::string>& lines() const { return lines_; }
  static void feed(Forensics& f, const std::string& raw) {
    eximlog::LogLine parsed;
    eximlog::parse_line(raw, parsed);
    f.add(parsed, raw);
  }
  Forensics run(const Thresholds& t = {}) {
    Forensics f(t);
    for (const auto& l : lines_) feed(f, l);
    f.finish();
    return f;
  }

 private:
  CivilSeconds t_;
  uint64_t serial_ = 0;
  std::vector<std::string> lines_;
};

const Finding* find(const std::vector<Finding>& v, const std::string& kind) {
  for (const auto& f : v)
    if (f.kind == kind) return &f;
  return nullptr;
}

// Exim cuts a log line at 8 KB: a "for" list of 1,000 addresses names about 320 and ends in
// <trunc>. Each recipient is delivered or fails once, so those outcomes count the rest; its
// deferrals, repeated from queue run to queue run, do not.
TEST(Forensics, ATruncatedForListCountsTheRecipientsItsOutcomesName) {
  LogBuilder log;
  std::string id = log.next_id(), list;
  for (int i = 0; i < 320; ++i) list += fmt::format(" victim{:04d}@example-{}.com", i, i % 6);
  log.line(
      fmt::format("{} <= bulk@shop.example H=(pc) [203.0.113.40]:4321 P=esmtpsa A=dovecot_login:bulk@shop.example "
                  "S=2100 T=\"promo\" for{} <trunc>",
                  id, list));
  for (int i = 0; i < 1000; ++i)
    log.line(fmt::format("{} {} victim{:04d}@example-{}.com R=lookuphost T=remote_smtp {}", id,
                         i == 0    ? "=>"
                         : i < 990 ? "->"
                                   : "**",
                         i, i % 6, i < 990 ? "H=mx [192.0.2.10]" : "H=mx [192.0.2.10]: 550 no such user"));
  for (int run = 0; run < 3; ++run)
    log.line(id + " == late@example-9.com R=lookuphost T=remote_smtp defer (-44): timeout");
  log.line(id + " Completed");
  Forensics f = log.run();
  const ActorStats* account = f.table(ActorKind::AuthAccount).find("bulk@shop.example");
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->recipients, 1000u);
  EXPECT_EQ(account->max_recipients, 1000u);
  EXPECT_EQ(account->delivered, 990u);
  EXPECT_EQ(account->failed, 10u);
  EXPECT_EQ(f.messages().recipients, 1000u);
  // The same message whose list Exim did not cut keeps the count its list gives.
  LogBuilder whole;
  whole.line(
      fmt::format("{} <= bulk@shop.example H=(pc) [203.0.113.40]:4321 P=esmtpsa A=dovecot_login:bulk@shop.example "
                  "S=2100 T=\"promo\" for{}",
                  id, list));
  for (int i = 0; i < 400; ++i)
    whole.line(fmt::format("{} -> victim{:04d}@example-0.com R=r T=remote_smtp H=mx [192.0.2.10]", id, i));
  EXPECT_EQ(whole.run().table(ActorKind::AuthAccount).find("bulk@shop.example")->recipients, 320u);
}

TEST(Forensics, ScriptBurstIsFoundAndAttributedByPid) {
  LogBuilder b;
  for (int i = 0; i < 300; ++i) {
    b.script_mail("userx1", "/home/userx1/public_html/wp", 1 + i % 2, 1000 + uint32_t(i) * 2);
    b.advance(2);
  }
  Forensics f = b.run();
  const auto& scripts = f.table(ActorKind::Script);
  ASSERT_EQ(scripts.size(), 1u);
  EXPECT_EQ(scripts.all()[0].key, "/home/userx1/public_html/wp");
  EXPECT_EQ(scripts.all()[0].messages, 300u);
  EXPECT_EQ(scripts.all()[0].recipients, 450u);
  EXPECT_EQ(f.messages().cwd_attached, 300u);
  auto findings = find_abuse(f);
  const Finding* s = find(findings, "spamming_script");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->actor, "/home/userx1/public_html/wp");
  EXPECT_NE(s->summary.find("300 messages to 450 recipients"), std::string::npos) << s->summary;
  EXPECT_FALSE(s->evidence.empty());
  EXPECT_NE(s->evidence[0].find("cwd="), std::string::npos);
  EXPECT_EQ(find(findings, "spamming_local_user"), nullptr);  // explained by the script
}

// The largest gap of a cPanel server's log: a script sending over SMTP to 127.0.0.1 left no
// cwd= and no U=, only the client 127.0.0.1, which is every such script's.
class ScriptsTalkingSmtpToLocalhost : public ::testing::TestWithParam<LogBuilder::Order> {};

TEST_P(ScriptsTalkingSmtpToLocalhost, AreTheirCpanelUsers) {
  LogBuilder b;
  for (int i = 0; i < 250; ++i) {
    b.localhost_smtp_mail("victim", 2, "", GetParam());
    b.advance(3);
  }
  // Another user's contact form, a few a day; and a logged-in mailbox of a third, whose mail
  // is its account's (compromised or not), not the user's.
  for (int i = 0; i < 3; ++i) b.localhost_smtp_mail("quiet", 1, "", GetParam());
  for (int i = 0; i < 5; ++i) b.localhost_smtp_mail("third", 1, "sales@third.example", GetParam());
  Forensics f = b.run();
  // The sender and its domain are ours either way.
  EXPECT_EQ(f.table(ActorKind::Sender).find("info@site.example")->trusted_submissions, 258u);
  EXPECT_EQ(f.table(ActorKind::SenderDomain).find("site.example")->trusted_submissions, 258u);
  const ActorStats* victim = f.table(ActorKind::LocalUser).find("victim");
  ASSERT_NE(victim, nullptr);
  EXPECT_EQ(victim->messages, 250u);
  EXPECT_EQ(victim->recipients, 500u);
  EXPECT_EQ(victim->trusted_submissions, 250u);
  ASSERT_NE(f.table(ActorKind::LocalUser).find("quiet"), nullptr);
  EXPECT_EQ(f.table(ActorKind::LocalUser).find("quiet")->messages, 3u);
  EXPECT_EQ(f.table(ActorKind::LocalUser).find("third"), nullptr);
  EXPECT_EQ(f.table(ActorKind::AuthAccount).find("sales@third.example")->messages, 5u);
  auto findings = find_abuse(f);
  const Finding* user = find(findings, "spamming_local_user");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->actor, "victim");
  EXPECT_NE(user->summary.find("250 messages to 500 recipients"), std::string::npos) << user->summary;
  EXPECT_NE(user->summary.find("all of them over SMTP without logging in"), std::string::npos) << user->summary;
  ASSERT_FALSE(user->evidence.empty());
  // Its first line: the arrival, or cPanel's line naming the user when that came after.
  EXPECT_NE(user->evidence[0].find(GetParam() == LogBuilder::Order::kAfter ? "U=victim" : "[127.0.0.1]"),
            std::string::npos)
      << user->evidence[0];
  if (GetParam() == LogBuilder::Order::kConnection) {
    EXPECT_EQ(victim->frozen, 250u);
  }
}

INSTANTIATE_TEST_SUITE_P(Forensics, ScriptsTalkingSmtpToLocalhost,
                         ::testing::Values(LogBuilder::Order::kAfter, LogBuilder::Order::kBefore,
                                           LogBuilder::Order::kConnection),
                         [](const auto& info) {
                           switch (info.param) {
                             case LogBuilder::Order::kAfter: return "After";
                             case LogBuilder::Order::kBefore: return "Before";
                             case LogBuilder::Order::kConnection: return "ByConnectionAndNeverRouted";
                           }
                           return "";
                         });

// An identification whose message was then refused, or one for Exim's own user, names nobody.
TEST(Forensics, AnIdentificationAttachesOnlyToItsOwnMessage) {
  LogBuilder b;
  b.line("1tZZZZ-000001-ZZ Sender identification U=ghost D=site.example S=a@site.example");
  b.line("1tZZZZ-000002-ZZ Sender identification U=mailnull D=-system- S=");
  b.line("1tZZZZ-000002-ZZ <= <> H=localhost [127.0.0.1]:4000 P=esmtp S=100 for x@far.test");
  b.line("1tZZZZ-000003-ZZ <= a@site.example H=localhost [127.0.0.1]:4001 P=esmtp S=100 for y@far.test");
  // From elsewhere: cPanel ties an IP whose mailbox logged in lately to its user; no script of theirs.
  b.line("1tZZZZ-000004-ZZ Sender identification U=innocent D=site.example S=a@site.example");
  b.line("1tZZZZ-000004-ZZ <= a@site.example H=(bot) [198.51.100.77]:4001 P=esmtp S=100 for y@far.test");
  b.advance(700);
  // Too late for its arrival ten minutes on: it was dropped.
  b.line("1tZZZZ-000001-ZZ <= a@site.example H=localhost [127.0.0.1]:4002 P=esmtp S=100 for z@far.test");
  Forensics f = b.run();
  EXPECT_EQ(f.table(ActorKind::LocalUser).size(), 0u);
  EXPECT_EQ(f.messages().messages, 4u);
}

TEST(Forensics, SteadyShopIsNotFlaggedButItsHijackIs) {
  LogBuilder b;
  // A week of order confirmations, 3 an hour, from the shop's account and script.
  for (int h = 0; h < 24 * 7; ++h) {
    for (int i = 0; i < 3; ++i) {
      b.script_mail("shop", "/home/shop/public_html/checkout", 1, 5000 + uint32_t(h * 10 + i) * 2);
      b.auth_mail("orders@shop.example", "198.51.100.7", 1);
      b.advance(1200);
    }
  }
  Forensics quiet = b.run();
  EXPECT_TRUE(find_abuse(quiet).empty());
  // Now the account is used from elsewhere to mail 900 recipients in four messages.
  for (int i = 0; i < 4; ++i) b.auth_mail("orders@shop.example", "203.0.113.66", 225);
  auto findings = find_abuse(b.run());
  const Finding* acc = find(findings, "compromised_account");
  ASSERT_NE(acc, nullptr);
  EXPECT_EQ(acc->actor, "orders@shop.example");
  EXPECT_EQ(find(findings, "spamming_script"), nullptr);
}

// The night daylight saving time ends, in a log without zones: a script mailing 100 an hour
// from 01:00 writes 02:00 to 03:00 twice. Piled together, those two hours read as "200 in
// 1h, 67% of its mail": a burst that never was.
TEST(Forensics, TheRepeatedHourOfAClockChangeIsNotABurst) {
  LogBuilder b("2026-10-25 01:00:00");
  uint32_t pid = 3000;
  auto hour_of_mail = [&] {
    for (int i = 0; i < 100; ++i, pid += 2) {
      b.script_mail("news", "/home/news/public_html/cron", 1, pid);
      b.advance(36);
    }
  };
  hour_of_mail();
  hour_of_mail();
  b.at(*parse_civil("2026-10-25 02:00:00"));
  hour_of_mail();
  Forensics f = b.run();
  const auto& scripts = f.table(ActorKind::Script);
  ASSERT_EQ(scripts.size(), 1u);
  EXPECT_EQ(scripts.all()[0].recipients, 300u);
  EXPECT_EQ(scripts.all()[0].window()->peak_recipients(), 100u);
  EXPECT_EQ(find(find_abuse(f), "spamming_script"), nullptr);
}

// An hourly job at :52 mailing 1,100 each run: its 02:52 run after the clock went back is
// written at the same time as the one before it, so its own times show no step; the log's
// clock does, and every window starts again there. Piled together, the two runs were 2,200 in
// one window, over the hard limit.
TEST(Forensics, AnHourlyJobAcrossTheClockChangeIsNotABurst) {
  LogBuilder b("2026-10-25 00:00:00");
  uint32_t pid = 100;
  auto hour = [&](const char* start) {
    b.at(*parse_civil(start));
    for (int m = 0; m < 60; m += 5, pid += 2) {  // the shop's mail, every five minutes
      b.auth_mail("orders@shop.example", "198.51.100.7", 1);
      if (m == 50) {
        b.advance(120);  // :52
        b.script_mail("news", "/home/news/public_html/cron", 1100, pid);
        b.advance(-120);
      }
      b.advance(300);
    }
  };
  for (const char* h : {"2026-10-25 00:00:00", "2026-10-25 01:00:00", "2026-10-25 02:00:00", "2026-10-25 02:00:00",
                        "2026-10-25 03:00:00"})
    hour(h);
  Forensics f = b.run();
  const ActorStats* job = f.table(ActorKind::Script).find("/home/news/public_html/cron");
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->recipients, 5500u);
  EXPECT_EQ(job->window()->peak_recipients(), 1100u);
  EXPECT_EQ(find(find_abuse(f), "spamming_script"), nullptr);
  EXPECT_EQ(f.clock_steps().count, 1u);
  // The same step at noon in June is no clock change: two clocks in one log, say. The
  // windows go on (each still starts again when its own times step back).
  EXPECT_FALSE(looks_like_clock_change(*parse_civil("2026-06-10 12:59:00"), *parse_civil("2026-06-10 12:00:00")));
  EXPECT_TRUE(looks_like_clock_change(*parse_civil("2026-03-29 02:59:58"), *parse_civil("2026-03-29 02:00:01")));
  EXPECT_FALSE(looks_like_clock_change(*parse_civil("2026-10-25 05:00:00"), *parse_civil("2026-10-25 02:00:00")));
}

TEST(Forensics, CwdWithoutPidGoesToTheNearestLocalArrival) {
  LogBuilder b;
  for (int i = 0; i < 60; ++i) {
    b.script_mail("u2", "/home/u2/public_html/a", 1, 0);
    b.advance(1);
  }
  b.line("cwd=/var/spool/exim4 4 args: exim -Mc 1tAAAA-000001-AA");  // Exim's own, ignored
  Forensics f = b.run();
  EXPECT_FALSE(f.saw_pid());
  EXPECT_EQ(f.messages().cwd_lines, 60u);
  EXPECT_EQ(f.messages().cwd_attached, 60u);
  EXPECT_EQ(f.table(ActorKind::Script).all().at(0).messages, 60u);
}

TEST(Forensics, AccountFromManyIpsAfterFailedLogins) {
  LogBuilder b;
  for (int i = 0; i < 10; ++i)
    b.line(
        "dovecot_login authenticator failed for (x) [127.0.0.66]:5000: 535 Incorrect authentication "
        "data (set_id=sales@acme-shop.example)");
  for (int i = 0; i < 4; ++i) b.auth_mail("sales@acme-shop.example", "127.0.0.66", 225);
  auto findings = find_abuse(b.run());
  const Finding* acc = find(findings, "compromised_account");
  ASSERT_NE(acc, nullptr);
  EXPECT_EQ(acc->messages, 4u);
  EXPECT_EQ(acc->recipients, 900u);
  EXPECT_NE(acc->summary.find("after 10 failed logins"), std::string::npos) << acc->summary;
  EXPECT_NE(acc->summary.find("from 127.0.0.66"), std::string::npos) << acc->summary;
  EXPECT_EQ(find(findings, "auth_bruteforce"), nullptr);  // 10 is below the per-IP floor
}

TEST(Forensics, DictionaryAttackAndBruteforceFromOneIp) {
  LogBuilder b;
  for (int i = 0; i < 312; ++i)
    b.line(fmt::format("H=(x) [127.0.0.99]:4000 F=<a@spam.test> rejected RCPT <u{}@acme.example>: Unknown user", i));
  for (int i = 0; i < 30; ++i)
    b.line("H=(x) [127.0.0.98]:4000 F=<a@spam.test> rejected RCPT <x@far.test>: relay not permitted");
  // Reasons about the client or the sender, not the recipient: no dictionary attack, however many.
  for (std::string why : {"JunkMail rejected - h [127.0.0.97]:40079 is in an RBL: Client host blocked using "
                          "zen.spamhaus.org",
                          "Sender verify failed", "Rejected: 127.0.0.97 is listed at bl.example",
                          "rejected because 127.0.0.97 is in a black list at bl.spamcop.net",
                          "Blocked - see https://www.spamcop.net/bl.shtml?127.0.0.97", "Sender domain not found",
                          "Client host rejected: cannot find your reverse hostname, unknown", "Host is banned",
                          "The country of your IP address is banned"})
    for (int i = 0; i < 60; ++i)
      b.line(fmt::format("H=(x) [127.0.0.97]:4000 F=<a@list.test> rejected RCPT <u{}@acme.example>: {}", i, why));
  for (int i = 0; i < 50; ++i)
    b.line("dovecot_plain authenticator failed for (x) [127.0.0.77]:1: 535 Incorrect authentication data");
  auto findings = find_abuse(b.run());
  const Finding* d = find(findings, "dictionary_attack");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->actor, "127.0.0.99");
  EXPECT_EQ(d->events, 312u);
  for (const Finding& x : findings) EXPECT_NE(x.actor, "127.0.0.97") << x.summary;
  // A reason that says the recipient is unknown counts, whatever words and names a callout
  // echoes beside it.
  LogBuilder callouts;
  for (int i = 0; i < 60; ++i)
    callouts.line(fmt::format(
        "H=(x) [127.0.0.96]:4000 F=<a@spam.test> rejected RCPT <rblack{}@acme.example>: Unrouteable address", i));
  for (int i = 0; i < 60; ++i)
    callouts.line(
        fmt::format("H=(x) [127.0.0.96]:4000 F=<a@spam.test> rejected RCPT <spfeiffer{0}@acme.example>: "
                    "response to \"RCPT TO:<spfeiffer{0}@acme.example>\" from exch-relay.acme.example "
                    "[10.0.0.5] was: 550 5.1.1 User unknown in relay recipient table",
                    i));
  auto callout_findings = find_abuse(callouts.run());
  const Finding* guessed = find(callout_findings, "dictionary_attack");
  ASSERT_NE(guessed, nullptr);
  EXPECT_EQ(guessed->events, 120u);
  const Finding* bf = find(findings, "auth_bruteforce");
  ASSERT_NE(bf, nullptr);
  EXPECT_EQ(bf->actor, "127.0.0.77");
  for (const auto& f : findings) EXPECT_NE(f.actor, "127.0.0.98");  // relay probing is not guessing
}

// A list server posting, week after week, to the three subscribers since deleted here is
// rejected as often as a guesser, on the same three addresses: not a dictionary attack, and
// its IP must not be offered for blocking. Different addresses are counted up to 64.
TEST(Forensics, RejectionsOfAFewDeletedAddressesAreNotADictionaryAttack) {
  LogBuilder b;
  for (int post = 0; post < 40; ++post)
    for (const char* gone : {"old.member", "Old.Member", "left", "moved"})  // one address in two cases
      b.line(
          fmt::format("H=lists.example [192.0.2.40]:4000 F=<list-bounces@lists.example> rejected RCPT "
                      "<{}@acme.example>: Unknown user",
                      gone));
  for (int i = 0; i < 200; ++i)
    b.line(
        fmt::format("H=(x) [127.0.0.99]:4000 F=<a@spam.test> rejected RCPT <u{}@acme.example>: Unknown user", i % 60));
  Forensics f = b.run();
  auto findings = find_abuse(f);
  for (const Finding& x : findings) EXPECT_NE(x.actor, "192.0.2.40") << x.summary;
  const ActorStats* list = f.table(ActorKind::ClientIp).find("192.0.2.40");
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->rejected_rcpts, 160u);
  EXPECT_EQ(list->distinct_rejected(), 3u);
  const Finding* d = find(findings, "dictionary_attack");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->actor, "127.0.0.99");
  EXPECT_NE(d->summary.find("tried 200 unknown local recipients (60 different)"), std::string::npos) << d->summary;
  // Past 64 the count stops, and says so; a lower floor finds the list server too.
  LogBuilder many;
  for (int i = 0; i < 100; ++i)
    many.line(fmt::format("H=(x) [127.0.0.95]:4000 F=<a@spam.test> rejected RCPT <n{}@acme.example>: Unknown user", i));
  auto many_findings = find_abuse(many.run());
  const Finding* capped = find(many_findings, "dictionary_attack");
  ASSERT_NE(capped, nullptr);
  EXPECT_NE(capped->summary.find("(64 or more different)"), std::string::npos) << capped->summary;
  Thresholds low;
  low.dictionary_min_distinct = 3;
  bool list_found = false;
  for (const Finding& x : find_abuse(b.run(low))) list_found |= x.actor == "192.0.2.40";
  EXPECT_TRUE(list_found);
}

// An office behind one NAT address: its staff log in, send, and now and then mistype a
// colleague's address or write to one who left. Those rejections carry the session's A=;
// they are no dictionary attack, and the account's story lists them.
TEST(Forensics, AuthenticatedSessionsRejectionsAreNotADictionaryAttack) {
  LogBuilder b;
  for (int i = 0; i < 65; ++i)
    b.line(
        fmt::format("H=(office) [192.0.2.80]:4000 X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no "
                    "A=dovecot_login:staff{0}@acme.example F=<staff{0}@acme.example> rejected RCPT "
                    "<gone{1}@acme.example>: Unknown user",
                    i % 7, i % 12));
  for (int i = 0; i < 80; ++i)
    b.line(fmt::format("H=(x) [127.0.0.99]:4000 F=<a@spam.test> rejected RCPT <u{}@acme.example>: Unknown user", i));
  auto findings = find_abuse(b.run());
  for (const Finding& x : findings) EXPECT_EQ(x.actor.find("192.0.2.80"), std::string::npos) << x.summary;
  const Finding* d = find(findings, "dictionary_attack");
  ASSERT_NE(d, nullptr);  // the same lines without A= still count
  EXPECT_EQ(d->actor, "127.0.0.99");
}

// A host given an IPv6 /64 can take a new address for every guess, each under the per-IP
// floor: its addresses are one client. An address alone in its /64 stays itself.
TEST(Forensics, IPv6AddressesOfOneSlash64AreOneClient) {
  LogBuilder b;
  for (int i = 0; i < 80; ++i)
    b.line(
        fmt::format("H=(x) [2001:db8:1:2::{:x}]:4000 F=<a@spam.test> rejected RCPT <g{}@acme.example>: "
                    "Unknown user",
                    0x100 + i % 8, i));
  for (int i = 0; i < 60; ++i)
    b.line(fmt::format("H=(x) [2001:db8:9::5]:4000 F=<a@spam.test> rejected RCPT <h{}@acme.example>: Unknown user", i));
  for (const char* ip : {"2001:db8:3:1::7", "2001:db8:3:2::7"})  // two /64s: 30 each, under the floor
    for (int i = 0; i < 30; ++i)
      b.line(fmt::format("H=(x) [{}]:4000 F=<a@spam.test> rejected RCPT <k{}@acme.example>: Unknown user", ip, i));
  for (int i = 0; i < 25; ++i)
    b.line(
        fmt::format("dovecot_login authenticator failed for (x) [2001:db8:7:7:{:x}::1]:1: 535 Incorrect "
                    "authentication data (set_id=u{}@acme.example)",
                    i % 5, i));
  auto findings = find_abuse(b.run());
  std::map<std::string, const Finding*> by_actor;
  for (const Finding& x : findings) by_actor[x.actor] = &x;
  ASSERT_TRUE(by_actor.count("2001:db8:1:2::/64"));
  const Finding& net = *by_actor["2001:db8:1:2::/64"];
  EXPECT_EQ(net.kind, "dictionary_attack");
  EXPECT_EQ(net.events, 80u);
  EXPECT_EQ(net.client_ip_count, 8u);
  ASSERT_EQ(net.client_ips.size(), 8u);
  EXPECT_EQ(net.client_ips[0], "2001:db8:1:2::100 (10)");
  EXPECT_FALSE(net.evidence.empty());
  EXPECT_NE(net.summary.find("2001:db8:1:2::/64 (8 addresses) tried 80 unknown local recipients (64 or more"),
            std::string::npos)
      << net.summary;
  ASSERT_TRUE(by_actor.count("2001:db8:9::5"));
  EXPECT_EQ(by_actor["2001:db8:9::5"]->events, 60u);
  EXPECT_FALSE(by_actor.count("2001:db8:3:1::/64") || by_actor.count("2001:db8:3:1::7"));
  ASSERT_TRUE(by_actor.count("2001:db8:7:7::/64"));
  const Finding& guesser = *by_actor["2001:db8:7:7::/64"];
  EXPECT_EQ(guesser.kind, "auth_bruteforce");
  EXPECT_EQ(guesser.events, 25u);
  EXPECT_NE(guesser.summary.find("(5 addresses) failed 25 SMTP logins for several accounts"), std::string::npos)
      << guesser.summary;
  // Its addresses are in the /64 only, not also on their own (floors low enough to show them).
  Thresholds low;
  low.dictionary_min_rejects = 5;
  low.dictionary_min_distinct = 5;
  for (const Finding& x : find_abuse(b.run(low)))
    EXPECT_TRUE(x.actor.find("2001:db8:1:2::") == std::string::npos || x.actor == "2001:db8:1:2::/64") << x.summary;
}

// A provider's outbound /64 delivering real mail, meeting a few deleted mailboxes from each
// address; an office /64 whose staff mistype a password now and then and send all day: busy
// networks, not one attacker, so their addresses are not taken together.
TEST(Forensics, ABusySlash64IsNotOneAttacker) {
  LogBuilder b;
  for (int a = 0; a < 30; ++a) {
    std::string ip = fmt::format("2a00:1450:4864:20::{:x}", 0x200 + a);
    for (int i = 0; i < 3; ++i)
      b.line(
          fmt::format("H=mail-x.google.example [{}]:25 F=<n@gmail.example> rejected RCPT <gone{}@acme.example>: "
                      "No Such User Here",
                      ip, a * 3 + i));
    for (int i = 0; i < 5; ++i) {
      std::string id = b.next_id();
      b.line(
          fmt::format("{} <= n{}@gmail.example H=mail-x.google.example [{}]:25 P=esmtps S=3000 for "
                      "staff@acme.example",
                      id, i, ip));
    }
  }
  for (int a = 0; a < 25; ++a) {
    std::string ip = fmt::format("2001:db8:77:1::{:x}", 0x10 + a);
    b.line(
        fmt::format("dovecot_login authenticator failed for (pc) [{}]:1: 535 Incorrect authentication data "
                    "(set_id=u{}@acme.example)",
                    ip, a));
    b.line(
        fmt::format("dovecot_login authenticator failed for (pc) [{}]:1: 535 Incorrect authentication data "
                    "(set_id=u{}@acme.example)",
                    ip, a));
    for (int i = 0; i < 3; ++i)
      b.line(
          fmt::format("{} <= u{}@acme.example H=(pc) [{}]:4000 P=esmtpa A=dovecot_login:u{}@acme.example S=900 "
                      "for x{}@far.test",
                      b.next_id(), a, ip, a, i));
  }
  auto findings = find_abuse(b.run());
  for (const Finding& x : findings) ADD_FAILURE() << x.summary;
}

TEST(Forensics, BackscatterAndRandomSenders) {
  LogBuilder b;
  const char* lps[] = {"xk7qzv2p", "q9wj3kfz", "zpx8v2mq", "jh4kq9zt", "w8xq2vkp"};
  for (int i = 0; i < 40; ++i) {
    std::string id = b.next_id();
    b.line(id + " <= <> R=1tAAAA-ZZZZZZ-AA U=Debian-exim P=local S=1500 for j.doe@victim-corp.test");
    b.line(id + " ** j.doe@victim-corp.test R=dnslookup T=remote_smtp H=mx [192.0.2.9]: 550 no such user");
    b.line(id + " Frozen (delivery error message)");
  }
  // The dentist's own mail makes smile-dental.example a domain we send as.
  b.line(b.next_id() +
         " <= office@smile-dental.example H=(pc) [192.0.2.4]:4000 P=esmtpa A=dovecot_login:office@smile-dental.example "
         "S=900 for y@far.test");
  for (int i = 0; i < 150; ++i) {
    std::string id = b.next_id();
    b.line(fmt::format("{} <= {}{}@smile-dental.example H=(bot) [198.51.100.{}]:25 P=esmtp S=3000 for x@far.test", id,
                       lps[i % 5], i, i % 200));
    b.line(id + " Completed");
  }
  // Amazon SES's senders are machine-made too, at a domain nobody here sends as: theirs. A
  // content filter hands each back over 127.0.0.1, which makes the domain no more ours.
  for (int i = 0; i < 150; ++i) {
    std::string sender =
        fmt::format("0100018c{:08x}-5e2b{}a1-9d0c-4f6e-b1a2-3c4d5e6f7a8b-000000@amazonses.com", i * 7919u, i % 10);
    std::string id = b.next_id();
    b.line(fmt::format("{} <= {} H=a8-{}.smtp-out.amazonses.com [54.240.8.{}]:25 P=esmtp S=9000 for anna@shop.example",
                       id, sender, i, i % 200));
    b.line(id + " Completed");
    id = b.next_id();
    b.line(fmt::format("{} <= {} H=localhost [127.0.0.1]:41000 P=esmtp S=9400 for anna@shop.example", id, sender));
    b.line(id + " Completed");
  }
  auto findings = find_abuse(b.run());
  const Finding* bs = find(findings, "backscatter");
  ASSERT_NE(bs, nullptr);
  EXPECT_EQ(bs->actor, "j.doe@victim-corp.test");
  EXPECT_EQ(bs->events, 40u);
  EXPECT_NE(bs->summary.find("40 frozen"), std::string::npos) << bs->summary;
  int random_senders = 0;
  for (const Finding& x : findings) {
    if (x.kind != "random_sender_localparts") continue;
    ++random_senders;
    EXPECT_EQ(x.actor, "smile-dental.example");
  }
  EXPECT_EQ(random_senders, 1);
}

// Without +received_recipients the bounce's recipient is first seen on its failure line: the
// finding still quotes that line as evidence.
TEST(Forensics, BackscatterWithoutForListsHasEvidence) {
  LogBuilder b;
  for (int i = 0; i < 40; ++i) {
    std::string id = b.next_id();
    b.line(id + " <= <> R=1tAAAA-ZZZZZZ-AA U=Debian-exim P=local S=1500");
    b.line(id + " ** j.doe@victim-corp.test R=dnslookup T=remote_smtp H=mx [192.0.2.9]: 550 no such user");
    b.line(id + " Frozen (delivery error message)");
  }
  auto findings = find_abuse(b.run());
  const Finding* bs = find(findings, "backscatter");
  ASSERT_NE(bs, nullptr);
  EXPECT_EQ(bs->actor, "j.doe@victim-corp.test");
  ASSERT_FALSE(bs->evidence.empty());
  EXPECT_NE(bs->evidence[0].find("** j.doe@victim-corp.test"), std::string::npos) << bs->evidence[0];
  EXPECT_EQ(bs->evidence[0].rfind("2026-11-01 ", 0), 0u) << "the whole log line: " << bs->evidence[0];
}

// A hijacked form sends as `-f somestrangerperson@live.com`: the mail its recipients refused
// bounces to that address, which refuses the bounces too, and they freeze here. Exim's cleanup
// of them is the admins' `exiqgrep -r`, which the script's own selection would not take.
TEST(Forensics, FrozenBouncesToASenderOfOursAreBackscatterAllTheSame) {
  LogBuilder b;
  for (int i = 0; i < 60; ++i) {
    std::string id = b.next_id(), bounce = b.next_id();
    b.line("cwd=/home/user1/public_html/wp-content/uploads 3 args: /usr/sbin/sendmail -t -i", 5000 + i);
    b.line(id + " <= somestrangerperson@live.com U=user1 P=local S=3000 for r@far.test", 5000 + i);
    b.line(id + " ** r@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]: 550 5.1.1 User unknown");
    b.line(bounce + " <= <> R=" + id + " U=mailnull P=local S=5300 for somestrangerperson@live.com");
    b.line(id + " Completed");
    b.line(bounce + " ** somestrangerperson@live.com F=<> R=dnslookup T=remote_smtp H=mx1.hotmail.com " +
           "[52.101.8.33]: 550 5.5.0 mailbox unavailable");
    b.line(bounce + " Frozen (delivery error message)");
    b.advance(20);
  }
  const Finding* bs = nullptr;
  auto findings = find_abuse(b.run());
  for (const Finding& x : findings)
    if (x.kind == "backscatter") bs = &x;
  ASSERT_NE(bs, nullptr);
  EXPECT_EQ(bs->actor, "somestrangerperson@live.com");
  EXPECT_EQ(bs->events, 60u);
  EXPECT_TRUE(bs->all_made_here()) << "so the cleanup is printed";
  EXPECT_NE(bs->summary.find("60 frozen; the sender of 60 messages from here"), std::string::npos) << bs->summary;
}

TEST(Forensics, BouncesToOurOwnSenderAreNotBackscatter) {
  LogBuilder b;
  for (int i = 0; i < 30; ++i) {
    b.script_mail("userx1", "/home/userx1/public_html", 1, 0);
    std::string id = b.next_id();
    b.line(id + " <= <> R=1tAAAA-ZZZZZZ-AA U=Debian-exim P=local S=1500 for userx1@host.example");
  }
  Forensics f = b.run();
  EXPECT_EQ(find(find_abuse(f), "backscatter"), nullptr);
  EXPECT_EQ(f.messages().bounces, 30u);
  EXPECT_EQ(f.messages().local, 30u) << "the script's, not the bounces Exim made of them";
}

// Spam sent elsewhere in our user's name bounces back to the user from other servers: a
// backscatter finding that says so, with no queue cleanup (it would take the user's real
// bounces too). Beside bounces Exim made here, the summary counts the others'.
TEST(Forensics, BouncesFromOtherServersToOurUserSayWhereTheyCameFrom) {
  LogBuilder b;
  for (int i = 0; i < 30; ++i) {
    std::string id = b.next_id();
    b.line(
        fmt::format("{} <= <> H=mx{}.far.test [192.0.2.{}]:25 P=esmtp S=3000 T=\"Undeliverable\" for "
                    "info@acme.example",
                    id, i, i));
    b.line(id + " => info <info@acme.example> R=localuser T=local_delivery");
    b.line(id + " Completed");
  }
  LogBuilder mixed = b;
  Forensics f = b.run();
  auto findings = find_abuse(f);
  const Finding* bs = find(findings, "backscatter");
  ASSERT_NE(bs, nullptr);
  EXPECT_EQ(bs->bounces_from_elsewhere, 30u);
  EXPECT_FALSE(bs->all_made_here());
  EXPECT_NE(bs->summary.find("30 bounces to info@acme.example: 30 delivered, 0 failed, 0 deferred; 0 frozen; all from "
                             "other servers"),
            std::string::npos)
      << bs->summary;
  LogReport report;
  report.forensics = &f;
  report.findings = findings;
  EXPECT_EQ(report_text(report, {}).find("exiqgrep"), std::string::npos) << report_text(report, {});
  EXPECT_FALSE(report_json(report, {})["findings"][0].contains("cleanup"));
  // Ten more that Exim made here, of spam it accepted: counted apart, and still no cleanup,
  // which would take the others' bounces to our user with ours.
  for (int i = 0; i < 10; ++i)
    mixed.line(mixed.next_id() + " <= <> R=1tAAAA-ZZZZZZ-AA U=Debian-exim P=local S=1500 for info@acme.example");
  // Bounces relayed by a customer's authenticated server, or handed back by a content filter
  // on this host, are not from elsewhere.
  for (int i = 0; i < 10; ++i)
    mixed.line(mixed.next_id() +
               " <= <> H=(relay) [198.51.100.9]:587 P=esmtpa A=dovecot_login:relay@customer.example S=900 for "
               "info@acme.example");
  for (int i = 0; i < 10; ++i)
    mixed.line(mixed.next_id() + " <= <> H=localhost [127.0.0.1]:10025 P=esmtp S=900 for info@acme.example");
  auto mixed_findings = find_abuse(mixed.run());
  const Finding* both = find(mixed_findings, "backscatter");
  ASSERT_NE(both, nullptr);
  EXPECT_EQ(both->events, 60u);
  EXPECT_FALSE(both->all_made_here());
  EXPECT_NE(both->summary.find("; 30 of them from other servers"), std::string::npos) << both->summary;
}

TEST(Forensics, RecipientsFromDeliveriesWhenThereIsNoForList) {
  LogBuilder b;
  std::string id = b.next_id();
  b.line(id + " <= a@acme.example H=(pc) [192.0.2.5]:1 P=esmtpa A=dovecot_plain:a@acme.example S=10");
  b.line(id + " => x@far.test R=dnslookup T=remote_smtp H=mx [192.0.2.1]");
  b.line(id + " -> y@far.test R=dnslookup T=remote_smtp H=mx [192.0.2.1]*");
  b.line(id + " == z@slow.test R=dnslookup T=remote_smtp defer (-44): retry time not reached");
  b.line(id + " == z@slow.test R=dnslookup T=remote_smtp defer (-44): retry time not reached");
  Forensics f = b.run();
  const auto& acc = f.table(ActorKind::AuthAccount).all().at(0);
  EXPECT_EQ(acc.recipients, 3u);  // z counted once despite two defers
  EXPECT_EQ(acc.delivered, 2u);
  EXPECT_EQ(acc.deferred, 2u);
  EXPECT_EQ(f.messages().still_queued, 1u);
}

// Debian's Exim logs no "for" list: a message's recipients are the addresses of its delivery
// lines, each counted once however often a queue run retries it, past the two kept with the
// message too, and across a summary saved and loaded between two queue runs.
TEST(Forensics, EveryAddressRetriedWithoutAForListIsOneRecipient) {
  LogBuilder b;
  std::string id = b.next_id();
  b.line(id + " <= a@acme.example H=(pc) [192.0.2.5]:1 P=esmtpa A=dovecot_plain:a@acme.example S=10");
  for (int run = 0; run < 3; ++run) {
    b.advance(3600);
    for (int r = 0; r < 7; ++r)
      b.line(fmt::format("{} == r{}@slow{}.test R=dnslookup T=remote_smtp defer (-44): retry later", id, r, r));
  }
  b.advance(3600);
  for (int r = 0; r < 7; ++r)
    b.line(fmt::format("{} => r{}@slow{}.test R=dnslookup T=remote_smtp H=mx [192.0.2.1]", id, r, r));
  b.line(id + " Completed");
  std::vector<std::string> lines = b.lines();
  auto expect_counts = [](const Forensics& f) {
    const auto& acc = f.table(ActorKind::AuthAccount).all().at(0);
    EXPECT_EQ(acc.recipients, 7u);
    EXPECT_EQ(acc.deferred, 21u);
    EXPECT_EQ(acc.delivered, 7u);
    EXPECT_EQ(f.messages().recipients, 7u);
    EXPECT_EQ(f.messages().completed, 1u);
  };
  Forensics whole(Thresholds{});
  for (const auto& raw : lines) LogBuilder::feed(whole, raw);
  whole.finish();
  expect_counts(whole);

  // Saved after the second queue run: five of the seven addresses are past the inline two.
  size_t cut = 1 + 2 * 7;
  Forensics first(Thresholds{});
  for (size_t i = 0; i < cut; ++i) LogBuilder::feed(first, lines[i]);
  StateWriter w;
  first.save_state(w);
  w.finish();
  Forensics resumed(Thresholds{});
  StateReader r(w.bytes());
  resumed.load_state(r);
  for (size_t i = cut; i < lines.size(); ++i) LogBuilder::feed(resumed, lines[i]);
  resumed.finish();
  expect_counts(resumed);
}

// A second engine split off a loaded state (senders on their own engine thread) takes the
// addresses of mail in flight with it: retried, they are no new recipients there either.
TEST(Forensics, AnEngineSplitOffKeepsTheAddressesOfMailInFlight) {
  LogBuilder b;
  std::string id = b.next_id();
  b.line(id + " <= a@acme.example H=(pc) [192.0.2.5]:1 P=esmtpa A=dovecot_plain:a@acme.example S=10");
  for (int r = 0; r < 5; ++r)
    b.line(fmt::format("{} == r{}@slow.test R=dnslookup T=remote_smtp defer (-44): retry later", id, r));
  b.advance(3600);
  for (int r = 0; r < 5; ++r)
    b.line(fmt::format("{} => r{}@slow.test R=dnslookup T=remote_smtp H=mx [192.0.2.1]", id, r));
  b.line(id + " Completed");
  std::vector<std::string> lines = b.lines();
  Forensics main_engine(Thresholds{});
  for (size_t i = 0; i < 6; ++i) LogBuilder::feed(main_engine, lines[i]);
  std::unique_ptr<Forensics> side = main_engine.split_off(Forensics::kSenderKinds);
  for (size_t i = 6; i < lines.size(); ++i) LogBuilder::feed(main_engine, lines[i]), LogBuilder::feed(*side, lines[i]);
  main_engine.finish();
  side->finish();
  EXPECT_EQ(main_engine.table(ActorKind::AuthAccount).all().at(0).recipients, 5u);
  EXPECT_EQ(side->table(ActorKind::Sender).all().at(0).recipients, 5u);
  EXPECT_EQ(side->table(ActorKind::Sender).all().at(0).delivered, 5u);
}

// With cutthrough delivery Exim logs ">>" when the next hop took the data, before "<=": the
// delivery is the message's all the same, and without a "for" list its address a recipient.
TEST(Forensics, CutthroughDeliveriesLoggedBeforeTheirArrivalCount) {
  LogBuilder b;
  std::string listed = b.next_id(), unlisted = b.next_id(), other = b.next_id();
  const std::string tags = " H=(pc) [192.0.2.5]:1 P=esmtpa A=dovecot_plain:a@acme.example S=10";
  b.line(listed + " >> x@far.test F=<a@acme.example> R=dnslookup T=remote_smtp H=mx [192.0.2.1] C=\"250 OK\"");
  b.line(unlisted + " >> p@far.test F=<a@acme.example> R=dnslookup T=remote_smtp H=mx [192.0.2.1] C=\"250 OK\"");
  b.line(listed + " >> y@far.test F=<a@acme.example> R=dnslookup T=remote_smtp H=mx [192.0.2.1] C=\"250 OK\"");
  b.line(listed + " <= a@acme.example" + tags + " for x@far.test y@far.test");
  b.line(listed + " Completed");
  b.line(unlisted + " >> q@far.test F=<a@acme.example> R=dnslookup T=remote_smtp H=mx [192.0.2.1] C=\"250 OK\"");
  b.line(unlisted + " <= a@acme.example" + tags);
  b.line(unlisted + " Completed");
  // A cutthrough line whose arrival never came (the log was cut) is an orphan, not anyone's.
  b.line(other + " >> z@far.test F=<a@acme.example> R=dnslookup T=remote_smtp H=mx [192.0.2.1] C=\"250 OK\"");
  b.advance(61);
  b.line(other + " <= a@acme.example" + tags + " for z@far.test");
  Forensics f = b.run();
  const auto& acc = f.table(ActorKind::AuthAccount).all().at(0);
  EXPECT_EQ(acc.messages, 3u);
  EXPECT_EQ(acc.delivered, 4u);   // x, y, p, q: not z, held a minute and more before
  EXPECT_EQ(acc.recipients, 5u);  // x, y; p, q from their lines; z
  EXPECT_EQ(f.messages().completed, 2u);
  EXPECT_EQ(f.messages().orphan_lines, 1u);
}

// A summary saved between a cutthrough line and its arrival (a rotated log cut there) holds
// the line for the next file's arrival; a loaded state whose held line is not one is refused.
TEST(Forensics, ACutthroughLineHeldAcrossASavedStateIsCountedOnce) {
  LogBuilder b;
  std::string id = b.next_id();
  b.line(id + " >> x@far.test F=<a@acme.example> R=dnslookup T=remote_smtp H=mx [192.0.2.1] C=\"250 OK\"");
  b.line(id + " <= a@acme.example H=(pc) [192.0.2.5]:1 P=esmtpa A=dovecot_plain:a@acme.example S=10 for x@far.test");
  b.line(id + " Completed");
  std::vector<std::string> lines = b.lines();
  auto feed = LogBuilder::feed;
  Forensics first(Thresholds{});
  feed(first, lines[0]);
  StateWriter w;
  first.save_state(w);
  w.finish();
  std::string bytes = w.bytes();
  Forensics resumed(Thresholds{});
  StateReader r(bytes);
  resumed.load_state(r);
  feed(resumed, lines[1]);
  feed(resumed, lines[2]);
  resumed.finish();
  EXPECT_EQ(resumed.table(ActorKind::AuthAccount).all().at(0).delivered, 1u);
  EXPECT_EQ(resumed.messages().orphan_lines, 0u);

  std::string forged = bytes;
  size_t at = forged.find(">> x@far.test");
  ASSERT_NE(at, std::string::npos);
  forged.replace(at, 2, "=>");  // held, but not a line Exim writes before the arrival
  Forensics refused(Thresholds{});
  StateReader fr(forged);
  EXPECT_THROW(refused.load_state(fr), StateError);
}

TEST(Forensics, OutcomesReachEveryActorOfTheMessageOnceCompleted) {
  LogBuilder b;
  std::string id = b.next_id();
  b.line(id +
         " <= Shop@Acme.example H=(pc) [192.0.2.5]:1 P=esmtpa A=dovecot_plain:Shop@Acme.example S=10"
         " T=\"Order 17\" for x@far.test y@far.test z@gone.test");
  b.line(id + " => x@far.test R=dnslookup T=remote_smtp H=mx [192.0.2.1]");
  b.line(id + " == y@far.test R=dnslookup T=remote_smtp defer (-44): retry time not reached");
  b.line(id + " ** z@gone.test R=dnslookup T=remote_smtp: 550 no such user");
  b.line(id + " => y@far.test R=dnslookup T=remote_smtp H=mx [192.0.2.1]");
  b.line(id + " Completed");
  Forensics f = b.run();
  EXPECT_EQ(f.messages().completed, 1u);
  EXPECT_EQ(f.messages().still_queued, 0u);
  for (ActorKind k :
       {ActorKind::AuthAccount, ActorKind::ClientIp, ActorKind::Sender, ActorKind::SenderDomain, ActorKind::Subject}) {
    ASSERT_EQ(f.table(k).size(), 1u) << actor_kind_key(k);
    const auto& a = f.table(k).all().at(0);
    EXPECT_EQ(a.delivered, 2u) << actor_kind_key(k);
    EXPECT_EQ(a.deferred, 1u) << actor_kind_key(k);
    EXPECT_EQ(a.failed, 1u) << actor_kind_key(k);
    EXPECT_EQ(a.recipients, 3u) << actor_kind_key(k);
  }
  // Case-blind actors are keyed lowercased; subjects with their digits folded.
  EXPECT_EQ(f.table(ActorKind::Sender).all().at(0).key, "shop@acme.example");
  EXPECT_EQ(f.table(ActorKind::AuthAccount).all().at(0).key, "shop@acme.example");
  EXPECT_NE(f.table(ActorKind::Sender).find("shop@acme.example"), nullptr);
  EXPECT_EQ(f.table(ActorKind::Subject).all().at(0).key, "Order #");
}

TEST(Forensics, TimeRangeAndGarbage) {
  LogBuilder b;
  b.auth_mail("a@b.example", "192.0.2.1", 1);
  b.advance(86400);
  b.auth_mail("c@d.example", "192.0.2.2", 1);
  Forensics f0 = b.run();
  EXPECT_EQ(f0.messages().messages, 2u);
  Forensics f(Thresholds{});
  f.set_time_range(*parse_civil("2026-11-01 12:00:00"), INT64_MAX);
  eximlog::LogLine l;
  std::string garbage = "\x7f\x45LF\x01binary";
  eximlog::parse_line(garbage, l);
  f.add(l, garbage);
  EXPECT_EQ(f.lines().unparsed, 1u);
  EXPECT_EQ(f.lines().unparsed_samples.at(0).find('\x7f'), std::string::npos);
}

TEST(Report, JsonHasTheDocumentedShape) {
  LogBuilder b;
  for (int i = 0; i < 5; ++i) b.auth_mail("z@b.example", "192.0.2.1", 2);
  for (int i = 0; i < 9; ++i) b.auth_mail("y@b.example", "192.0.2.2", 1);
  Forensics f = b.run();
  LogReport r;
  r.forensics = &f;
  r.findings = find_abuse(f);
  auto j = report_json(r, ReportOptions{});
  for (const char* k : {"lines", "unparsed_lines", "messages", "first", "last", "actors", "findings"})
    EXPECT_TRUE(j.contains(k)) << k;
  for (const char* k : {"script", "local_user", "auth_account", "client_ip", "sender", "sender_domain", "subject"})
    EXPECT_TRUE(j["actors"].contains(k)) << k;
  auto accounts = j["actors"]["auth_account"];
  ASSERT_EQ(accounts.size(), 2u);
  EXPECT_EQ(accounts[0]["actor"], "y@b.example");  // sorted by messages
  EXPECT_EQ(accounts[0]["messages"], 9);
  EXPECT_EQ(accounts[1]["recipients"], 10);
  EXPECT_EQ(accounts[1]["client_ips"][0], "192.0.2.1");
  EXPECT_EQ(j["actor_counts"]["auth_account"], 2);
  EXPECT_EQ(j["actor_counts"]["client_ip"], 2);
  EXPECT_EQ(j["actor_counts"]["script"], 0);
  EXPECT_EQ(j["times"], "local");
  // A log with zones (log_timezone) is read in UTC: the report says so where it gives the period.
  ReportOptions zoned;
  zoned.utc = true;
  EXPECT_EQ(report_json(r, zoned)["times"], "utc");
  std::string utc_text = report_text(r, zoned);
  EXPECT_NE(utc_text.find(" UTC | read in"), std::string::npos) << utc_text;
  EXPECT_NE(utc_text.find("--since and --until are UTC too"), std::string::npos) << utc_text;
  std::string text = report_text(r, ReportOptions{});
  EXPECT_EQ(text.find("UTC"), std::string::npos) << text;
  for (size_t pos = 0, nl; pos < text.size(); pos = nl + 1) {
    nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    EXPECT_LE(nl - pos, 100u) << text.substr(pos, nl - pos);
  }
}

// Exim writes header bytes as they came when print_topbitchars is set: a Latin-1 subject
// and sender must not break the JSON (nlohmann throws on bytes that are not UTF-8) nor reach
// a terminal raw.
TEST(Report, BytesThatAreNotUtf8GiveValidJsonAndPrintableText) {
  LogBuilder b;
  b.line(
      "1vYQHI-0003Yc-Mw <= b\xfcro@b.example H=(pc) [192.0.2.7]:4000 P=esmtpa A=dovecot_login:b\xfcro@b.example "
      "S=900 T=\"Bestellbest\xe4tigung \x9b"
      "K\" for x@y.example");
  std::string cyrillic = "x";  // then two bytes a letter: an even cut lands inside one
  for (int i = 0; i < 80; ++i) cyrillic += "\xd0\x96";
  b.line("1vYQHI-0003Yd-Mw <= a@b.example H=(pc) [192.0.2.8]:4000 P=esmtp S=900 T=\"" + cyrillic +
         "\" for x@y.example");
  Forensics f = b.run();
  ASSERT_EQ(f.messages().messages, 2u);
  LogReport r;
  r.forensics = &f;
  r.findings = find_abuse(f);
  std::string text = json_text(report_json(r, ReportOptions{}));
  auto j = nlohmann::json::parse(text);
  std::set<std::string> subjects, senders;
  for (const auto& a : j["actors"]["subject"]) subjects.insert(a["actor"]);
  for (const auto& a : j["actors"]["sender"]) senders.insert(a["actor"]);
  EXPECT_TRUE(
      subjects.count("Bestellbest\xef\xbf\xbdtigung \xef\xbf\xbd"
                     "K"));
  EXPECT_TRUE(subjects.count(cyrillic));
  EXPECT_TRUE(senders.count("b\xef\xbf\xbdro@b.example"));
  std::string human = report_text(r, ReportOptions{});
  EXPECT_EQ(human.find('\x9b'), std::string::npos);
  EXPECT_TRUE(valid_utf8(human));
  EXPECT_NE(human.find("Bestellbest?tigung ?K"), std::string::npos) << human;
}

// Each finding whose actor can still have mail queued says how to select it: the report's
// next step is `spamwarden queue`, and the key must select that actor and no other.
TEST(Report, FindingsNameTheQueueSelectionOfTheirActor) {
  LogBuilder b;
  for (int i = 0; i < 300; ++i) {
    b.script_mail("user*1", "/home/userx1/public_html/[old] site", 1, 1000 + uint32_t(i) * 2);
    b.advance(2);
  }
  Forensics f = b.run();
  LogReport r;
  r.forensics = &f;
  r.findings = find_abuse(f);
  const Finding* script = find(r.findings, "spamming_script");
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->local_user, "user*1") << "the login that ran the script";
  // A script whose submitter is unknown: selected by its directory alone.
  Finding orphan = *script;
  orphan.local_user.clear();
  r.findings.push_back(orphan);
  auto j = report_json(r, ReportOptions{});
  std::vector<nlohmann::json> selections;
  for (const auto& x : j["findings"])
    if (x["kind"] == "spamming_script") selections.push_back(x["queue_selection"]);
  ASSERT_EQ(selections.size(), 2u) << j["findings"].dump();
  // The directory as it is: --script takes an existing directory literally (its files and
  // owner select the mail), and the login narrows it to who ran it.
  EXPECT_EQ(selections[0], nlohmann::json({"--login", "user[*]1", "--script", "/home/userx1/public_html/[old] site"}));
  EXPECT_TRUE(glob_match(selections[0][1].get<std::string>(), "user*1"));
  EXPECT_FALSE(glob_match(selections[0][1].get<std::string>(), "userx1")) << "the star is the login's own";
  EXPECT_EQ(selections[1], nlohmann::json({"--script", "/home/userx1/public_html/[old] site"}));
  std::string text = report_text(r, ReportOptions{});
  EXPECT_NE(text.find("its queued mail: spamwarden queue list --login 'user[*]1' \\\n"
                      "        --script '/home/userx1/public_html/[old] site'\n"),
            std::string::npos)
      << text;
}

// A shop's directory cron runs as its owner, and a hijacked form in it the web server runs as
// `nobody`: a queue selection by either login would miss the other's mail, so the finding
// selects by the directory alone and names both logins.
TEST(Report, AScriptRunByTwoLoginsIsSelectedByItsDirectoryAlone) {
  const std::string dir = "/home/shop/public_html";
  LogBuilder b;
  for (int i = 0; i < 300; ++i) {
    b.script_mail("nobody", dir, 2, 3000 + uint32_t(i) * 2);
    b.advance(2);
  }
  b.advance(3600);
  b.script_mail("shop", dir, 1, 9000);  // the nightly cron job, after the burst: the latest login
  Forensics f = b.run();
  LogReport r;
  r.forensics = &f;
  r.findings = find_abuse(f);
  const Finding* script = find(r.findings, "spamming_script");
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->local_user, "");
  EXPECT_EQ(script->local_users, (std::vector<std::string>{"nobody", "shop"}));
  EXPECT_NE(script->summary.find(", run by the logins nobody and shop"), std::string::npos) << script->summary;
  EXPECT_EQ(find(r.findings, "spamming_local_user"), nullptr) << "nobody's burst is the script's, said once";
  auto j = report_json(r, ReportOptions{});
  const nlohmann::json* json = nullptr;
  for (const auto& x : j["findings"])
    if (x["kind"] == "spamming_script") json = &x;
  ASSERT_NE(json, nullptr);
  EXPECT_EQ((*json)["queue_selection"], nlohmann::json({"--script", dir}));
  EXPECT_EQ((*json)["local_users"], nlohmann::json({"nobody", "shop"}));
  EXPECT_FALSE(json->contains("local_user"));
  EXPECT_FALSE(json->contains("more_local_users"));
}

// Past the few logins kept, the finding says there were others.
TEST(Report, AScriptRunByManyLoginsSaysThereWereOthers) {
  LogBuilder b;
  for (int i = 0; i < 300; ++i) {
    b.script_mail(fmt::format("user{}", 6 - i % 6), "/var/www/shared", 2, 3000 + uint32_t(i) * 2);
    b.advance(2);
  }
  Forensics f = b.run();
  std::vector<Finding> findings = find_abuse(f);
  const Finding* script = find(findings, "spamming_script");
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->local_users, (std::vector<std::string>{"user1", "user2", "user3", "user4"}));
  EXPECT_TRUE(script->more_local_users);
  EXPECT_NE(script->summary.find(", run by the logins user1, user2, user3, user4 and others"), std::string::npos)
      << script->summary;
}

// Subjects, senders and script directories come in every script: a Chinese or emoji key
// takes two columns a character, and the report must still fit 100 of them.
TEST(Report, WideCharactersStayWithinAHundredColumns) {
  std::string zh, grin;
  for (int i = 0; i < 45; ++i) zh += "\xe4\xb8\xad";        // 中: 90 columns
  for (int i = 0; i < 40; ++i) grin += "\xf0\x9f\x98\x80";  // 😀: 80 columns
  LogBuilder b;
  for (int i = 0; i < 300; ++i) {
    b.script_mail("userx1", "/home/userx1/public_html/" + zh, 1, 1000 + uint32_t(i) * 2);
    b.advance(2);
  }
  b.line("1vYQHI-0003Yc-Mw <= " + grin + "@b.example H=(pc) [192.0.2.7]:4000 P=esmtp S=900 T=\"" + zh +
         "\" for x@y.example");
  Forensics f = b.run();
  LogReport r;
  r.forensics = &f;
  r.findings = find_abuse(f);
  ASSERT_NE(find(r.findings, "spamming_script"), nullptr);
  std::string text = report_text(r, ReportOptions{});
  size_t wide_lines = 0;
  for (size_t pos = 0, nl; pos < text.size(); pos = nl + 1) {
    nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    if (line.find("\xe4\xb8\xad") != std::string_view::npos) ++wide_lines;
    if (display_width(line) > 100) {  // a command's word wider than a line: whole, to be pasted
      EXPECT_TRUE(line.starts_with("        --") && line.find("/" + zh) != std::string_view::npos) << line;
      continue;
    }
    EXPECT_LE(display_width(line), 100u) << line;
  }
  EXPECT_GE(wide_lines, 4u) << "summary, evidence and tables show the key, cut to fit (not commands)\n" << text;
}

// A botnet guessing passwords from many IPs, each spraying several accounts: the text shows
// the worst five and the scale of the rest, the JSON all of them.
TEST(Report, FindingsBeyondFiveOfAKindAreSummedUp) {
  LogBuilder b;
  for (int ip = 1; ip <= 8; ++ip)
    for (int i = 0; i < 20 + ip; ++i) {
      b.line(
          fmt::format("dovecot_login authenticator failed for (pc) [198.51.100.{}]:4000: 535 Incorrect "
                      "authentication data (set_id=info{}@b.example)",
                      ip, i % 3));
      b.advance(1);
    }
  Forensics f = b.run();
  LogReport r;
  r.forensics = &f;
  r.findings = find_abuse(f);
  ASSERT_EQ(r.findings.size(), 8u);
  std::string text = report_text(r, ReportOptions{});
  EXPECT_EQ(text.find("198.51.100.3 failed"), std::string::npos) << "the three mildest are not shown\n" << text;
  EXPECT_NE(text.find("198.51.100.4 failed 24 SMTP logins"), std::string::npos) << text;
  // 21 + 22 + ... + 28 failures in all.
  EXPECT_NE(text.find("... and 3 more auth_bruteforce findings (8 findings, 196 failed logins in all"),
            std::string::npos)
      << text;
  EXPECT_EQ(report_json(r, ReportOptions{})["findings"].size(), 8u);
}

}  // namespace
}  // namespace sw::stats
