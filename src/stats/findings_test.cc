// Findings on a busy server: a botnet's many IPs are one campaign, and bounces that freeze or
// fail count by their number, not only by their share of all bounces.
#include "stats/findings.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eximlog/line_parser.h"
#include "stats/report.h"

namespace sw::stats {
namespace {

class Log {
 public:
  Log() = default;
  // The same lines so far, to go on differently; not its engine.
  Log(const Log& o) : t_(o.t_), serial_(o.serial_), lines_(o.lines_) {}
  void line(const std::string& text) { lines_.push_back(format_civil(t_) + " " + text), t_ += 1; }
  void skip(CivilSeconds seconds) { t_ += seconds; }
  std::string next_id() { return fmt::format("1tAAAA-{:06d}-AA", ++serial_); }
  const Forensics& run(const Thresholds& t = {}, CivilSeconds since = INT64_MIN, CivilSeconds until = INT64_MAX) {
    engine_ = std::make_unique<Forensics>(t);
    engine_->set_time_range(since, until);
    for (const auto& l : lines_) {
      eximlog::LogLine parsed;
      eximlog::parse_line(l, parsed);
      engine_->add(parsed, l);
    }
    engine_->finish();
    return *engine_;
  }

 private:
  CivilSeconds t_ = *parse_civil("2026-11-01 00:00:00");
  int serial_ = 0;
  std::vector<std::string> lines_;
  std::unique_ptr<Forensics> engine_;
};

std::vector<const Finding*> of_kind(const std::vector<Finding>& v, const std::string& kind) {
  std::vector<const Finding*> out;
  for (const auto& f : v)
    if (f.kind == kind) out.push_back(&f);
  return out;
}

void dictionary(Log& log, const std::string& ip, int tries) {
  for (int i = 0; i < tries; ++i)
    log.line(fmt::format("H=(x) [{}]:4000 F=<a@spam.test> rejected RCPT <u{}@acme.example>: Unknown user", ip, i));
}

TEST(Findings, NinetyIpsGuessingRecipientsAreOneCampaign) {
  Log log;
  for (int ip = 1; ip <= 90; ++ip) dictionary(log, fmt::format("198.51.100.{}", ip), 50 + ip);
  auto findings = find_abuse(log.run());
  EXPECT_TRUE(of_kind(findings, "dictionary_attack").empty()) << "no IP dominates: no single-IP finding";
  auto campaigns = of_kind(findings, "dictionary_campaign");
  ASSERT_EQ(campaigns.size(), 1u);
  const Finding& c = *campaigns[0];
  EXPECT_EQ(c.client_ip_count, 90u);
  EXPECT_EQ(c.events, 90u * 50 + 90 * 91 / 2);
  ASSERT_EQ(c.client_ips.size(), 10u);
  EXPECT_EQ(c.client_ips[0], "198.51.100.90 (140)");
  EXPECT_NE(c.summary.find("90 client IPs"), std::string::npos) << c.summary;
  EXPECT_FALSE(c.evidence.empty());
  LogReport r;
  r.forensics = &log.run();
  r.findings = findings;
  auto json = report_json(r, ReportOptions{});
  ASSERT_EQ(json["findings"].size(), 1u);
  EXPECT_EQ(json["findings"][0]["client_ip_count"], 90);
}

TEST(Findings, AnIpThatDominatesTheCampaignKeepsItsOwnFinding) {
  Log log;
  for (int ip = 1; ip <= 12; ++ip) dictionary(log, fmt::format("198.51.100.{}", ip), 60);
  dictionary(log, "203.0.113.5", 2000);
  for (int ip = 1; ip <= 12; ++ip)
    for (int i = 0; i < 25; ++i)
      log.line(
          fmt::format("dovecot_login authenticator failed for (pc) [192.0.2.{}]:4000: 535 Incorrect "
                      "authentication data (set_id=info@b.example)",
                      ip));
  auto findings = find_abuse(log.run());
  auto single = of_kind(findings, "dictionary_attack");
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0]->actor, "203.0.113.5");
  ASSERT_EQ(of_kind(findings, "dictionary_campaign").size(), 1u);
  EXPECT_EQ(of_kind(findings, "dictionary_campaign")[0]->client_ip_count, 13u);
  // The 12 IPs' failed logins all named one account: one attack on it, not a campaign of IPs.
  auto logins = of_kind(findings, "account_guessing");
  ASSERT_EQ(logins.size(), 1u);
  EXPECT_EQ(logins[0]->events, 300u);
  EXPECT_EQ(logins[0]->actor, "info@b.example");
  EXPECT_TRUE(of_kind(findings, "auth_bruteforce").empty());
  EXPECT_TRUE(of_kind(findings, "auth_bruteforce_campaign").empty());
}

void failed_logins(Log& log, const std::string& ip, const std::string& account, int tries) {
  for (int i = 0; i < tries; ++i)
    log.line(
        fmt::format("dovecot_login authenticator failed for (pc) [{}]:4000: 535 Incorrect authentication data "
                    "(set_id={})",
                    ip, account));
}

// A phone with an old password, on wifi and mobile data, is not a botnet: two IPs on one
// account stay findings of their own; from three, the attack finding says a device looks alike.
TEST(Findings, TwoIpsOnOneAccountAreNoAttackOnItThreeMayBeADevice) {
  Log two;
  failed_logins(two, "198.51.100.1", "anna@shop.example", 40);
  failed_logins(two, "203.0.113.50", "anna@shop.example", 30);
  auto findings = find_abuse(two.run());
  EXPECT_TRUE(of_kind(findings, "account_guessing").empty());
  ASSERT_EQ(of_kind(findings, "auth_bruteforce").size(), 2u);
  EXPECT_EQ(of_kind(findings, "auth_bruteforce")[0]->login_target, "anna@shop.example");
  Log three;
  for (int round = 0; round < 9; ++round) {  // a retry an hour from each
    for (int ip = 1; ip <= 3; ++ip) failed_logins(three, fmt::format("198.51.100.{}", ip), "anna@shop.example", 1);
    three.skip(3600);
  }
  auto from_three = find_abuse(three.run());
  auto guessing = of_kind(from_three, "account_guessing");
  ASSERT_EQ(guessing.size(), 1u);
  EXPECT_NE(guessing[0]->summary.find("or a device still trying an old password"), std::string::npos)
      << guessing[0]->summary;
}

// A hijacked account's guessing spread over 14 IPs, most under the per-IP floor, is one
// finding on the account with all 14; a sprayer of many accounts stays a finding of its own and
// says so; bots that tried a name once each are background, not an attack.
TEST(Findings, IpsGuessingOneAccountAreOneAttackOnIt) {
  Log log;
  for (int ip = 1; ip <= 14; ++ip) failed_logins(log, fmt::format("198.51.100.{}", ip), "Sales@Shop.example", 5 + ip);
  for (int i = 0; i < 30; ++i) failed_logins(log, "203.0.113.7", fmt::format("user{}@shop.example", i), 1);
  failed_logins(log, "203.0.113.8", "info@shop.example", 25);
  for (int ip = 1; ip <= 60; ++ip) failed_logins(log, fmt::format("192.0.2.{}", ip), "admin", 1);
  auto findings = find_abuse(log.run());
  auto guessing = of_kind(findings, "account_guessing");
  ASSERT_EQ(guessing.size(), 1u);
  const Finding& g = *guessing[0];
  EXPECT_EQ(g.actor, "sales@shop.example");
  EXPECT_EQ(g.client_ip_count, 14u);
  EXPECT_EQ(g.events, 14u * 5 + 14 * 15 / 2);
  ASSERT_EQ(g.client_ips.size(), 10u);
  EXPECT_EQ(g.client_ips[0], "198.51.100.14 (19)");
  EXPECT_NE(g.summary.find("from 14 client IPs that tried no other account"), std::string::npos) << g.summary;
  auto single = of_kind(findings, "auth_bruteforce");
  ASSERT_EQ(single.size(), 2u);
  for (const Finding* f : single) {
    if (f->actor == "203.0.113.7") {
      EXPECT_TRUE(f->login_target.empty());
      EXPECT_NE(f->summary.find("failed 30 SMTP logins for several accounts"), std::string::npos) << f->summary;
    } else {
      EXPECT_EQ(f->actor, "203.0.113.8");  // one IP on one account: its own finding, naming it
      EXPECT_EQ(f->login_target, "info@shop.example");
      EXPECT_NE(f->summary.find("failed 25 SMTP logins as info@shop.example"), std::string::npos) << f->summary;
    }
  }
  LogReport r;
  r.forensics = &log.run();
  r.findings = findings;
  auto json = report_json(r, ReportOptions{});
  bool seen = false;
  for (const auto& x : json["findings"])
    if (x["kind"] == "account_guessing") {
      seen = true;
      EXPECT_EQ(x["login_target"], "sales@shop.example");
      EXPECT_EQ(x["client_ip_count"], 14);
      EXPECT_FALSE(x.contains("queue_selection"));
    }
  EXPECT_TRUE(seen);
  std::string text = report_text(r, ReportOptions{});
  EXPECT_NE(text.find("every guesser: spamwarden logs --actor auth:sales@shop.example --json\n"), std::string::npos)
      << text;
  r.inputs = {"/var/log/exim_mainlog", "/var/log/exim_mainlog-20261201.gz"};  // the same logs, to paste
  text = report_text(r, ReportOptions{});
  EXPECT_NE(text.find("every guesser: spamwarden logs --actor auth:sales@shop.example --json /var/log/exim_mainlog \\\n"
                      "        /var/log/exim_mainlog-20261201.gz\n"),
            std::string::npos)
      << text;
  // A report of part of the logs (--since 2h) points at the story of the same part, in
  // absolute times: "2h" would mean another part by the time it is pasted.
  r.forensics = &log.run({}, *parse_civil("2026-11-01 00:00:00"), *parse_civil("2026-11-02 00:00:00"));
  r.findings = find_abuse(*r.forensics);
  text = report_text(r, ReportOptions{});
  EXPECT_NE(text.find("every guesser: spamwarden logs --actor auth:sales@shop.example --json \\\n"
                      "        --since '2026-11-01 00:00:00' --until '2026-11-02 00:00:00' /var/log/exim_mainlog"),
            std::string::npos)
      << text;
}

// Review of account_guessing (failing): a failure that named no account ("501 Authentication
// cancelled", "535 ..." without set_id) is not a guess at the account another failure named.
TEST(Findings, FailuresWithoutSetIdAreNotGuessesAtTheAccount) {
  Log log;
  failed_logins(log, "198.51.100.10", "x@shop.example", 1);
  for (int i = 0; i < 40; ++i)
    log.line("dovecot_login authenticator failed for (pc) [198.51.100.10]:4000: 535 Incorrect authentication data");
  for (int ip = 1; ip <= 3; ++ip) {
    failed_logins(log, fmt::format("198.51.100.{}", 20 + ip), "y@shop.example", 1);
    for (int i = 0; i < 10; ++i)
      log.line(
          fmt::format("dovecot_login authenticator failed for (pc) [198.51.100.{}]:4000: 501 Authentication "
                      "cancelled",
                      20 + ip));
  }
  auto findings = find_abuse(log.run());
  // 3 failures named y@: not 20, no attack on it (observed: "33 failed logins as y@shop.example").
  EXPECT_TRUE(of_kind(findings, "account_guessing").empty());
  // 1 of 41 failures named x@ (observed: "failed 41 SMTP logins as x@shop.example").
  bool seen = false;
  for (const Finding* f : of_kind(findings, "auth_bruteforce")) {
    if (f->actor != "198.51.100.10") continue;
    seen = true;
    EXPECT_EQ(f->summary.find(" as x@shop.example"), std::string::npos) << f->summary;
    EXPECT_EQ(f->summary.find("several"), std::string::npos) << f->summary;  // none named, not several
  }
  EXPECT_TRUE(seen);
}

// Review of account_guessing (failing): its period is the failed logins', not the IPs' later mail.
TEST(Findings, AccountGuessingPeriodIsItsFailedLogins) {
  Log log;
  for (int ip = 1; ip <= 3; ++ip) failed_logins(log, fmt::format("198.51.100.{}", ip), "anna@shop.example", 8);
  log.skip(9 * 86400);  // the password fixed, the phone sends from the same IPs days later

  for (int ip = 1; ip <= 3; ++ip)
    log.line(
        fmt::format("{} <= anna@shop.example H=(pc) [198.51.100.{}]:5001 P=esmtpa "
                    "A=dovecot_login:anna@shop.example S=2000 T=\"Invoice\" for a@one.test",
                    log.next_id(), ip));
  auto findings = find_abuse(log.run());
  auto guessing = of_kind(findings, "account_guessing");
  ASSERT_EQ(guessing.size(), 1u);
  EXPECT_EQ(guessing[0]->summary.find("2026-11-10"), std::string::npos) << guessing[0]->summary;
}

// A botnet given a list of mailboxes, three IPs per mailbox: one campaign finding with the
// accounts' and IPs' counts and the most guessed accounts, not one finding per account; an
// account with a quarter of the failures keeps its own. Under ten accounts, one each.
TEST(Findings, ManyAccountsGuessedAreOneCampaign) {
  for (int accounts : {9, 12}) {
    Log log;
    for (int a = 0; a < accounts; ++a)
      for (int ip = 1; ip <= 3; ++ip)
        failed_logins(log, fmt::format("198.51.{}.{}", a, ip), fmt::format("user{}@shop.example", a), a == 0 ? 40 : 8);
    auto findings = find_abuse(log.run());
    auto each = of_kind(findings, "account_guessing");
    auto campaign = of_kind(findings, "account_guessing_campaign");
    EXPECT_TRUE(of_kind(findings, "auth_bruteforce_campaign").empty()) << accounts;
    if (accounts < 10) {
      EXPECT_EQ(each.size(), size_t(accounts));
      EXPECT_TRUE(campaign.empty());
      continue;
    }
    ASSERT_EQ(campaign.size(), 1u);
    uint64_t total = 3 * 40 + (accounts - 1) * 3 * 8;
    EXPECT_EQ(campaign[0]->client_ip_count, uint64_t(accounts * 3));
    EXPECT_EQ(campaign[0]->events, total);
    EXPECT_NE(campaign[0]->summary.find(fmt::format("at {} accounts from {} client IPs", accounts, accounts * 3)),
              std::string::npos)
        << campaign[0]->summary;
    EXPECT_NE(campaign[0]->summary.find("most tried: user0@shop.example (120)"), std::string::npos)
        << campaign[0]->summary;
    EXPECT_EQ(campaign[0]->client_ips.size(), 10u);
    ASSERT_EQ(each.size(), 1u) << "the account with a quarter of the failures";
    EXPECT_EQ(each[0]->actor, "user0@shop.example");
  }
}

// A dictionary attack's period is that of its rejected recipients, not of the IP's mail: a
// server that sent mail for days and then guessed recipients for an hour.
TEST(Findings, DictionaryAttackPeriodIsItsRejections) {
  Log log;
  log.line(
      fmt::format("{} <= news@partner.example H=(mx) [192.0.2.60]:25 P=esmtp S=900 for a@acme.example", log.next_id()));
  log.skip(3 * 86400);
  for (int i = 0; i < 60; ++i)
    log.line(fmt::format("H=(x) [192.0.2.60]:4000 F=<a@spam.test> rejected RCPT <u{}@acme.example>: Unknown user", i));
  log.skip(2 * 86400);
  log.line(
      fmt::format("{} <= news@partner.example H=(mx) [192.0.2.60]:25 P=esmtp S=900 for b@acme.example", log.next_id()));
  auto findings = find_abuse(log.run());
  auto attacks = of_kind(findings, "dictionary_attack");
  ASSERT_EQ(attacks.size(), 1u);
  EXPECT_NE(attacks[0]->summary.find("between 2026-11-04 00:00:01 and 00:01"), std::string::npos)
      << attacks[0]->summary;
}

// Review of account_guessing (failing): Exim's 435 line puts the defer message after set_id
// ("435 Unable to authenticate at present (set_id=ID): MESSAGE"); a ')' in it is not the account's.
TEST(Findings, SetIdBeforeADeferMessageWithParentheses) {
  Log log;
  for (int ip = 1; ip <= 3; ++ip)
    for (int i = 0; i < 8; ++i)
      log.line(
          fmt::format("dovecot_login authenticator failed for (pc) [198.51.100.{}]:4000: 435 Unable to "
                      "authenticate at present (set_id=anna@shop.example): lookup failed (errno 111)",
                      ip));
  // A 435 is the server's own failure (its auth backend down), not a guess: no finding at all.
  EXPECT_TRUE(find_abuse(log.run()).empty());
  eximlog::LogLine parsed;
  eximlog::parse_line(
      "2026-11-01 00:00:00 dovecot_login authenticator failed for (pc) [198.51.100.1]:4000: 435 Unable to "
      "authenticate at present (set_id=anna@shop.example): lookup failed (errno 111)",
      parsed);
  EXPECT_EQ(parsed.auth_id, "anna@shop.example");
  eximlog::parse_line(
      "2026-11-01 00:00:00 dovecot_login authenticator failed for (pc) [198.51.100.1]:4000: 535 Incorrect "
      "authentication data (set_id=john (old))",
      parsed);
  EXPECT_EQ(parsed.auth_id, "john (old)");
}

// A phone with an old password retries slowly for days; the planted hijack's guessers made
// hundreds of tries in minutes: only the first is said to look like a device.
TEST(Findings, OnlySlowGuessingLooksLikeADevice) {
  Log slow, fast;
  for (int round = 0; round < 24; ++round) {
    for (int ip = 1; ip <= 3; ++ip) failed_logins(slow, fmt::format("198.51.100.{}", ip), "anna@shop.example", 1);
    slow.skip(3600);
  }
  for (int ip = 1; ip <= 4; ++ip) failed_logins(fast, fmt::format("198.51.100.{}", ip), "sales@shop.example", 30);
  auto slow_findings = find_abuse(slow.run());
  auto fast_findings = find_abuse(fast.run());
  auto s = of_kind(slow_findings, "account_guessing"), f = of_kind(fast_findings, "account_guessing");
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(s[0]->summary.find("or a device still trying an old password"), std::string::npos) << s[0]->summary;
  EXPECT_EQ(f[0]->summary.find("or a device"), std::string::npos) << f[0]->summary;
}

// The same slow guessing, and then the account sends from a dozen IPs: it was no phone with an
// old password, and the finding does not suggest one.
TEST(Findings, GuessingOfAnAccountThatWasTakenIsNoDevice) {
  Log log;
  for (int round = 0; round < 24; ++round) {
    for (int ip = 1; ip <= 3; ++ip) failed_logins(log, fmt::format("198.51.100.{}", ip), "anna@shop.example", 1);
    log.skip(3600);
  }
  for (int ip = 1; ip <= 12; ++ip) {
    std::string id = log.next_id(), rcpts;
    for (int r = 0; r < 10; ++r) rcpts += fmt::format(" r{}@far{}.test", r, ip);
    log.line(
        fmt::format("{} <= anna@shop.example H=(x) [203.0.113.{}]:4000 P=esmtpa A=dovecot_plain:anna@shop.example "
                    "S=1000 for{}",
                    id, ip, rcpts));
  }
  auto findings = find_abuse(log.run());
  ASSERT_EQ(of_kind(findings, "compromised_account").size(), 1u);
  auto guessing = of_kind(findings, "account_guessing");
  ASSERT_EQ(guessing.size(), 1u);
  EXPECT_EQ(guessing[0]->summary.find("or a device"), std::string::npos) << guessing[0]->summary;
}

// An account that mails 25 a day from the office, and a phone of its owner's with the old
// password retrying every 20 minutes for four days from three networks (the office's among
// them): the account is still reported (slow guessing by a few IPs looks the same), and the
// summary says the failures came at a device's pace. IPs spraying a list of mailboxes at the
// same pace are no device.
TEST(Findings, FailuresAtADevicesPaceAreSaidNotExcused) {
  auto run = [](bool spray) {
    Log log;
    for (int day = 0; day < 5; ++day) {
      for (int hour = 0; hour < 24; ++hour) {
        if (hour >= 8 && hour < 13)
          for (int m = 0; m < 5; ++m)
            log.line(
                fmt::format("{} <= anna@shop.example H=(pc) [192.0.2.80]:4000 P=esmtpa "
                            "A=dovecot_plain:anna@shop.example S=1000 for c{}@client{}.test",
                            log.next_id(), m, hour));
        if (day > 0 || hour >= 9)
          for (int tick = 0; tick < 3; ++tick) {
            std::string ip = tick == 0 ? "192.0.2.80" : tick == 1 ? "198.51.100.7" : "203.0.113.5";
            failed_logins(log, ip, "anna@shop.example", 1);
            if (spray) failed_logins(log, ip, "info@shop.example", 1);
          }
        log.skip(3600 - 40);
      }
    }
    auto findings = find_abuse(log.run());
    auto taken = of_kind(findings, "compromised_account");
    return taken.size() == 1 ? taken[0]->summary : std::string("(none)");
  };
  EXPECT_NE(run(false).find("at a device's pace"), std::string::npos) << run(false);
  std::string sprayed = run(true);
  EXPECT_NE(sprayed.find("failed logins"), std::string::npos) << sprayed;
  EXPECT_EQ(sprayed.find("device"), std::string::npos) << sprayed;
}

// The same device's IPs beside a spray whose IPs each tried this account and others, one of
// which then mails as the account: the failures are not all the device's, so no device's pace
// is said. Without that IP's mail the account kept mailing from its own PC alone: the spray
// did not get in, and is the guessing's finding, not a compromised account.
TEST(Findings, ASprayBesideADevicesFailuresIsNoDevicesPace) {
  for (bool got_in : {true, false}) {
    Log log;
    for (int hour = 0; hour < 24; ++hour) {
      // One message an hour to five: 24 messages, 120 recipients, beside 54 failed logins.
      log.line(
          fmt::format("{0} <= anna@shop.example H=(pc) [192.0.2.80]:4000 P=esmtpa "
                      "A=dovecot_plain:anna@shop.example S=1000 for a@c{1}.test b@c{1}.test c@c{1}.test "
                      "d@c{1}.test e@c{1}.test",
                      log.next_id(), hour));
      failed_logins(log, "198.51.100.7", "anna@shop.example", 1);
      if (hour == 3)
        for (int ip = 1; ip <= 30; ++ip) {
          failed_logins(log, fmt::format("203.0.113.{}", ip), "anna@shop.example", 1);
          failed_logins(log, fmt::format("203.0.113.{}", ip), "info@shop.example", 1);
        }
      if (hour == 4 && got_in)
        log.line(
            fmt::format("{} <= anna@shop.example H=(x) [203.0.113.9]:4000 P=esmtpa "
                        "A=dovecot_plain:anna@shop.example S=1000 for z@c4.test",
                        log.next_id()));
      log.skip(3600 - 40);
    }
    auto findings = find_abuse(log.run());
    auto taken = of_kind(findings, "compromised_account");
    if (!got_in) {
      EXPECT_TRUE(taken.empty()) << taken[0]->summary;
      // What is left is the guessing: the device's IP, over the per-IP floor, names anna.
      ASSERT_EQ(findings.size(), 1u);
      EXPECT_EQ(findings[0].kind, "auth_bruteforce");
      EXPECT_NE(findings[0].summary.find("as anna@shop.example"), std::string::npos) << findings[0].summary;
      continue;
    }
    ASSERT_EQ(taken.size(), 1u);
    EXPECT_NE(taken[0]->summary.find("failed logins"), std::string::npos) << taken[0]->summary;
    EXPECT_EQ(taken[0]->summary.find("device"), std::string::npos) << taken[0]->summary;
  }
}

// An office behind one NAT address: 25 staff mail from it all day and mistype their passwords
// a few times each, 50 failures in all, over the per-IP floor. No guessing: no finding. A
// guesser there that got into two accounts after 50 failures is still one.
TEST(Findings, AnOfficesTyposAreNoPasswordGuessing) {
  auto run = [](int staff, int failures_each) {
    Log log;
    for (int s = 0; s < staff; ++s) {
      std::string account = fmt::format("staff{}@law.example", s);
      failed_logins(log, "192.0.2.200", account, failures_each);
      for (int m = 0; m < 10; ++m)
        log.line(fmt::format("{} <= {} H=(pc{}) [192.0.2.200]:4000 P=esmtpa A=dovecot_login:{} S=900 for c{}@far.test",
                             log.next_id(), account, s, account, m));
      log.skip(600);
    }
    return of_kind(find_abuse(log.run()), "auth_bruteforce").size();
  };
  EXPECT_EQ(run(25, 2), 0u);
  EXPECT_EQ(run(2, 25), 1u);
  // An attacker's address that mails from ten mailboxes of its own and guesses at thirty others:
  // its failures are not those accounts' own, and it is no office.
  Log log;
  for (int victim = 0; victim < 30; ++victim)
    failed_logins(log, "198.51.100.66", fmt::format("victim{}@law.example", victim), 1);
  for (int own = 0; own < 10; ++own)
    for (int m = 0; m < 4; ++m)
      log.line(
          fmt::format("{} <= own{}@spam.example H=(x) [198.51.100.66]:4000 P=esmtpa "
                      "A=dovecot_login:own{}@spam.example S=900 for c{}@far.test",
                      log.next_id(), own, own, m));
  EXPECT_EQ(of_kind(find_abuse(log.run()), "auth_bruteforce").size(), 1u);
}

// A day's log that begins with a night's spray: every address the account mails from that
// morning is new to the log, its owner's too. Mail from its one office address, which failed
// no login, is no way in; the same mail from one of the spray's addresses is.
TEST(Findings, ANightsSprayBeforeTheDaysMailIsNoWayIn) {
  for (bool from_a_sprayer : {false, true}) {
    Log log;
    for (int ip = 1; ip <= 12; ++ip)
      for (int account = 0; account < 15; ++account)
        failed_logins(log, fmt::format("203.0.113.{}", ip), fmt::format("u{}@shop.example", account), 2);
    log.skip(8 * 3600);
    std::string from = from_a_sprayer ? "203.0.113.5" : "192.0.2.80";
    for (int m = 0; m < 45; ++m) {
      log.line(
          fmt::format("{} <= u3@shop.example H=(pc) [{}]:4000 P=esmtpa A=dovecot_plain:u3@shop.example "
                      "S=1000 for a@c{}.test b@c{}.test c@c{}.test",
                      log.next_id(), from, m, m, m));
      log.skip(600);
    }
    auto taken = of_kind(find_abuse(log.run()), "compromised_account");
    EXPECT_EQ(taken.size(), from_a_sprayer ? 1u : 0u) << (taken.empty() ? "" : taken[0]->summary);
  }
}

// Guessing aimed at one account (twelve IPs that tried no other), after its owner mailed from the
// office, then mail from an address new to it: checking and sending are often apart, so that is
// a way in. The same mail after a spray that tried fifteen accounts is the owner's new phone.
TEST(Findings, AimedGuessingThenMailFromANewAddressIsAWayIn) {
  for (bool aimed : {true, false}) {
    Log log;
    for (int m = 0; m < 3; ++m)
      log.line(
          fmt::format("{} <= u3@shop.example H=(pc) [192.0.2.80]:4000 P=esmtpa A=dovecot_plain:u3@shop.example "
                      "S=1000 for o{}@c.test",
                      log.next_id(), m));
    log.skip(3600);
    for (int ip = 1; ip <= 12; ++ip) {
      failed_logins(log, fmt::format("203.0.113.{}", ip), "u3@shop.example", 3);
      for (int other = 0; other < 15 && !aimed; ++other)
        failed_logins(log, fmt::format("203.0.113.{}", ip), fmt::format("v{}@shop.example", other), 2);
    }
    log.skip(3600);
    for (int m = 0; m < 45; ++m) {
      log.line(
          fmt::format("{} <= u3@shop.example H=(x) [198.51.100.77]:4000 P=esmtpa A=dovecot_plain:u3@shop.example "
                      "S=1000 for a@c{}.test b@c{}.test c@c{}.test",
                      log.next_id(), m, m, m));
      log.skip(600);
    }
    auto taken = of_kind(find_abuse(log.run()), "compromised_account");
    EXPECT_EQ(taken.size(), aimed ? 1u : 0u) << (taken.empty() ? "" : taken[0]->summary);
  }
}

// Someone with the account's password trying our unknown recipients while logged in
// (harvesting addresses): the account's finding, not the client IP's dictionary attack.
TEST(Findings, UnknownRecipientsTriedWhileLoggedInAreTheAccounts) {
  Log log;
  for (int i = 0; i < 400; ++i)
    log.line(
        fmt::format("H=(x) [203.0.113.77]:4000 A=dovecot_login:sales@shop.example F=<sales@shop.example> "
                    "rejected RCPT <n{}@shop.example>: Unknown user",
                    i));
  auto findings = find_abuse(log.run());
  EXPECT_TRUE(of_kind(findings, "dictionary_attack").empty());
  auto taken = of_kind(findings, "compromised_account");
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0]->actor, "sales@shop.example");
  EXPECT_NE(taken[0]->summary.find("tried 400 unknown local recipients (64 or more different) while logged in"),
            std::string::npos)
      << taken[0]->summary;
}

// Huge messages an hour apart are no newsletter: each window holds one, but the account's mail
// without its largest message is far over the floor.
TEST(Findings, HugeMessagesAnHourApartAreABurst) {
  Log log;
  for (int day = 0; day < 7; ++day) {  // a week of a few ordinary messages a day
    for (int m = 0; m < 8; ++m)
      log.line(
          fmt::format("{} <= boss@shop.example H=(pc) [192.0.2.80]:4000 P=esmtpa "
                      "A=dovecot_plain:boss@shop.example S=900 for c{}@client.test",
                      log.next_id(), m));
    log.skip(86400);
  }
  for (int m = 0; m < 5; ++m) {
    std::string rcpts;
    for (int r = 0; r < 1990; ++r) rcpts += fmt::format(" b{}_{}@far{}.test", m, r, r % 13);
    log.line(
        fmt::format("{} <= boss@shop.example H=(x) [203.0.113.9]:4000 P=esmtpa A=dovecot_plain:boss@shop.example "
                    "S=9000 for{}",
                    log.next_id(), rcpts));
    log.skip(3700);
  }
  EXPECT_EQ(of_kind(find_abuse(log.run()), "compromised_account").size(), 1u);
}

// Mail sent before the failures began was not sent "after" them.
TEST(Findings, FailedLoginsAfterTheMailAreNotItsWayIn) {
  Log log;
  for (int ip = 1; ip <= 12; ++ip)
    log.line(
        fmt::format("{} <= bob@shop.example H=(x) [203.0.113.{}]:4000 P=esmtpa A=dovecot_plain:bob@shop.example "
                    "S=1000 for a{}@far.test b{}@far.test c{}@far.test d{}@far.test e{}@far.test f{}@far.test "
                    "g{}@far.test h{}@far.test i{}@far.test",
                    log.next_id(), ip, ip, ip, ip, ip, ip, ip, ip, ip, ip));
  failed_logins(log, "198.51.100.9", "bob@shop.example", 60);
  auto findings = find_abuse(log.run());
  auto taken = of_kind(findings, "compromised_account");
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_NE(taken[0]->summary.find(" and 60 failed logins"), std::string::npos) << taken[0]->summary;
}

// A newsletter to 300 subscribers and two small messages fill a window with no burst of mail
// in it; four messages of 225 (a stolen account, SteadyShopIsNotFlaggedButItsHijackIs) are one.
TEST(Findings, OneNewsletterIsNoBurst) {
  Log log;
  for (int size : {300, 1, 1}) {
    std::string rcpts;
    for (int r = 0; r < size; ++r) rcpts += fmt::format(" s{}_{}@sub{}.test", size, r, r % 9);
    log.line(
        fmt::format("{} <= news@shop.example H=(x) [192.0.2.11]:4000 P=esmtpa A=dovecot_plain:news@shop.example "
                    "S=20000 for{}",
                    log.next_id(), rcpts));
  }
  EXPECT_TRUE(of_kind(find_abuse(log.run()), "compromised_account").empty());
  for (int m = 0; m < 2; ++m) {  // two more like it: no longer one message
    std::string rcpts;
    for (int r = 0; r < 60; ++r) rcpts += fmt::format(" t{}_{}@sub{}.test", m, r, r % 9);
    log.line(
        fmt::format("{} <= news@shop.example H=(x) [192.0.2.11]:4000 P=esmtpa A=dovecot_plain:news@shop.example "
                    "S=20000 for{}",
                    log.next_id(), rcpts));
  }
  EXPECT_EQ(of_kind(find_abuse(log.run()), "compromised_account").size(), 1u);
}

// The same digest sent by a script talking SMTP to 127.0.0.1, which only cPanel's line names:
// after the arrival (cPanel's order) as before it, the user's sample knows the list.
TEST(Findings, ANightlyDigestOverLocalSmtpIsNoBurstInEitherOrder) {
  for (bool named_after : {true, false}) {
    Log log;
    for (int day = 0; day < 7; ++day) {
      for (int i = 0; i < 150; ++i) {
        std::string id = log.next_id();
        std::string named = id + " Sender identification U=news D=news.example S=digest@news.example";
        if (!named_after) log.line(named);
        log.line(
            fmt::format("{} <= digest@news.example H=localhost [127.0.0.1]:{} P=esmtp S=900 for "
                        "subscriber{}@far{}.test",
                        id, 40000 + i, i, i % 7));
        if (named_after) log.line(named);
      }
      log.skip(86400 - 300);
    }
    const Forensics& f = log.run();
    ASSERT_NE(f.table(ActorKind::LocalUser).find("news"), nullptr);
    EXPECT_EQ(f.table(ActorKind::LocalUser).find("news")->messages, 1050u);
    auto findings = find_abuse(f);
    EXPECT_TRUE(of_kind(findings, "spamming_local_user").empty())
        << named_after << ": " << of_kind(findings, "spamming_local_user")[0]->summary;
    auto lists = lists_mailed_again(f, findings);
    ASSERT_FALSE(lists.empty()) << named_after;
    EXPECT_EQ(lists[0].runs, 7u) << named_after;
  }
}

// A cron job mailing a digest to its 150 subscribers every night for a week: the same list
// each time, no burst. The same script hijacked on the eighth night, mailing 400 new
// addresses, is one.
TEST(Findings, ANightlyDigestToTheSameListIsNoBurstItsHijackIs) {
  auto night = [](Log& log, const std::string& prefix, int rcpts) {
    for (int i = 0; i < rcpts; ++i) {
      log.line("cwd=/home/news/public_html/digest 3 args: /usr/sbin/sendmail -t -i");
      log.line(fmt::format("{} <= news@news.example U=news P=local S=900 for {}{}@far{}.test", log.next_id(), prefix, i,
                           i % 7));
    }
  };
  auto week = [&](Log& log) {
    for (int day = 0; day < 7; ++day) {
      night(log, "subscriber", 150);
      log.skip(86400 - 300);
    }
  };
  Log log;
  week(log);
  auto quiet = find_abuse(log.run());
  EXPECT_TRUE(of_kind(quiet, "spamming_script").empty()) << (quiet.empty() ? "" : quiet[0].summary);
  EXPECT_TRUE(of_kind(quiet, "spamming_local_user").empty());
  // Not flagged, but said: a spammer's cron job mailing one list would look the same.
  LogReport r;
  r.forensics = &log.run();
  r.lists_mailed_again = lists_mailed_again(*r.forensics, find_abuse(*r.forensics));
  ASSERT_EQ(r.lists_mailed_again.size(), 1u);  // the script (its user's mail is all the script's)
  const ListMailing& x = r.lists_mailed_again[0];
  EXPECT_EQ(x.actor_kind, ActorKind::Script);
  EXPECT_EQ(x.messages, 1050u);
  EXPECT_NEAR(double(x.list), 150, 20) << "the sample's estimate of the list";
  EXPECT_EQ(x.runs, 7u);
  r.inputs = {"/var/log/exim_mainlog"};
  std::string text = report_text(r, ReportOptions{});
  EXPECT_NE(text.find("NOT FLAGGED: LISTS MAILED RUN AFTER RUN (1)"), std::string::npos) << text;
  EXPECT_NE(text.find("spamwarden logs --actor script:/home/news/public_html/digest \\\n"
                      "        /var/log/exim_mainlog\n"),
            std::string::npos)
      << text;
  auto json = report_json(r, ReportOptions{});
  ASSERT_EQ(json["lists_mailed_again"].size(), 1u);
  EXPECT_EQ(json["lists_mailed_again"][0]["actor"], "/home/news/public_html/digest");
  EXPECT_EQ(json["lists_mailed_again"][0]["median_runs"], 7);
  // Hijacked: 100 new addresses, fewer than the list, in an hour of their own.
  night(log, "victim", 100);
  EXPECT_EQ(of_kind(find_abuse(log.run()), "spamming_script").size(), 1u);
  const Forensics& hijacked = log.run();
  EXPECT_TRUE(lists_mailed_again(hijacked, find_abuse(hijacked)).empty()) << "a finding, no longer a list";
  // Or made to mail the list again and again within the hour (a loop, a mail bomb).
  Log looped;
  week(looped);
  for (int run = 0; run < 3; ++run) night(looped, "subscriber", 150);
  EXPECT_EQ(of_kind(find_abuse(looped.run()), "spamming_script").size(), 1u);
  // A harvested list sent twice, half a day apart, by a script that never mailed before.
  Log twice;
  night(twice, "victim", 600);
  twice.skip(12 * 3600);
  night(twice, "victim", 600);
  EXPECT_EQ(of_kind(find_abuse(twice.run()), "spamming_script").size(), 1u);
}

// A shop's newsletter sent through its mailbox over SMTP AUTH every night to 400 subscribers
// (a plugin, a desktop mailer): no compromised account, but said as a list. The same account
// mailing 400 new addresses, or the list from a dozen IPs new within the day, is one.
TEST(Findings, ANightlyNewsletterThroughAnAccountIsNoBurstItsHijackIs) {
  auto night = [](Log& log, const std::string& prefix, int rcpts, int ips = 1) {
    for (int i = 0; i < rcpts; ++i)
      log.line(
          fmt::format("{} <= news@shop.example H=(office) [192.0.2.{}]:4000 P=esmtpsa "
                      "A=dovecot_login:news@shop.example S=20000 for {}{}@sub{}.test",
                      log.next_id(), 10 + i % ips, prefix, i, i % 9));
  };
  auto week = [&](Log& log) {
    for (int day = 0; day < 7; ++day) {
      night(log, "subscriber", 400);
      log.skip(86400 - 400);
    }
  };
  Log log;
  week(log);
  const Forensics& quiet = log.run();
  auto findings = find_abuse(quiet);
  EXPECT_TRUE(findings.empty()) << findings[0].summary;
  LogReport r;
  r.forensics = &quiet;
  r.lists_mailed_again = lists_mailed_again(quiet, findings);
  ASSERT_EQ(r.lists_mailed_again.size(), 1u);
  const ListMailing& x = r.lists_mailed_again[0];
  EXPECT_EQ(x.actor_kind, ActorKind::AuthAccount);
  EXPECT_EQ(x.actor, "news@shop.example");
  EXPECT_EQ(x.messages, 2800u);
  // A quarter of the addresses sampled: about 100 of 400, so within a fifth or so.
  EXPECT_NEAR(double(x.list), 400, 100) << "the sample's estimate of the list";
  EXPECT_EQ(x.runs, 7u);
  EXPECT_NE(x.summary.find("account news@shop.example sent 2800 messages to 2800 recipients from 192.0.2.10"),
            std::string::npos)
      << x.summary;
  r.inputs = {"/var/log/exim_mainlog"};
  std::string text = report_text(r, ReportOptions{});
  EXPECT_NE(text.find("spamwarden logs --actor auth:news@shop.example"), std::string::npos) << text;

  // Others failed to log in as it, 40 times, before a night's run: its burst counts.
  Log guessed = log;
  failed_logins(guessed, "198.51.100.9", "news@shop.example", 40);
  night(guessed, "subscriber", 400);
  const Forensics& found = guessed.run();
  findings = find_abuse(found);
  auto taken_over = of_kind(findings, "compromised_account");
  ASSERT_EQ(taken_over.size(), 1u);
  EXPECT_NE(taken_over[0]->summary.find("40 failed logins (its burst mailed the list it mails run after run"),
            std::string::npos)
      << taken_over[0]->summary;
  EXPECT_TRUE(lists_mailed_again(found, findings).empty());

  // The list and 20 new addresses mailed at 15:00 from an IP the account never used: a stolen
  // password re-using the owner's list. The first night's IP was new then too, but not the list.
  Log thief = log;
  thief.skip(15 * 3600);
  for (int i = 0; i < 420; ++i)
    thief.line(
        fmt::format("{} <= news@shop.example H=(x) [198.51.100.7]:4000 P=esmtpsa "
                    "A=dovecot_login:news@shop.example S=20000 for subscriber{}@sub{}.test",
                    thief.next_id(), i, i % 9));
  auto thief_findings = find_abuse(thief.run());
  auto stolen_list = of_kind(thief_findings, "compromised_account");
  ASSERT_EQ(stolen_list.size(), 1u);
  EXPECT_NE(stolen_list[0]->summary.find("but from a client IP first used then"), std::string::npos)
      << stolen_list[0]->summary;

  // A harvested list blasted three times within a day, 12 hours apart, by an account that
  // mailed a few contacts a day for a week before: no list mailed again.
  Log blasted;
  for (int day = 0; day < 7; ++day) {
    for (int i = 0; i < 6; ++i) night(blasted, fmt::format("contact{}_", i), 1);
    blasted.skip(86400 - 6);
  }
  for (int run = 0; run < 3; ++run) {
    night(blasted, "lead", 400);
    blasted.skip(12 * 3600 - 400);
  }
  EXPECT_EQ(of_kind(find_abuse(blasted.run()), "compromised_account").size(), 1u);

  Log hijacked;
  week(hijacked);
  night(hijacked, "victim", 400);
  const Forensics& stolen = hijacked.run();
  findings = find_abuse(stolen);
  ASSERT_EQ(of_kind(findings, "compromised_account").size(), 1u);
  EXPECT_TRUE(lists_mailed_again(stolen, findings).empty()) << "a finding, no longer a list";

  // The list itself, mailed the eighth night from twelve IPs it never used: a stolen
  // password, found by its IPs; its busiest hour is told, and it is no list.
  Log botnet;
  week(botnet);
  night(botnet, "subscriber", 400, 12);
  const Forensics& spread = botnet.run();
  findings = find_abuse(spread);
  auto taken = of_kind(findings, "compromised_account");
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_NE(taken[0]->summary.find("from 12 client IPs"), std::string::npos) << taken[0]->summary;
  EXPECT_NE(taken[0]->summary.find("% of it within"), std::string::npos) << taken[0]->summary;
  EXPECT_TRUE(lists_mailed_again(spread, findings).empty()) << "a finding is no list";
}

// A shop's site mails its nightly digest to 150 readers and, from the same directory (one
// WordPress install), an order confirmation to a new customer every half hour: a third of
// what it mailed is the list, but the busiest hour mailed the list, and the new addresses came
// spread out. Its hijack mailing 100 new addresses within minutes is a burst.
TEST(Findings, ADigestBesideTheSitesOrderMailIsNoBurstItsHijackIs) {
  int customer = 0;
  auto mail = [](Log& log, const std::string& rcpt) {
    log.line("cwd=/home/shop/public_html 3 args: /usr/sbin/sendmail -t -i");
    log.line(fmt::format("{} <= shop@shop.example U=shop P=local S=900 for {}", log.next_id(), rcpt));
  };
  // A day: the digest, then the orders; a form looped mid-day mails 16 addresses 10 times
  // each within minutes (160 recipients, about the list's size).
  auto day = [&](Log& log, bool looped = false) {
    for (int i = 0; i < 150; ++i) mail(log, fmt::format("reader{}@far{}.test", i, i % 7));
    for (int order = 0; order < 46; ++order) {
      log.skip(1800 - 2);
      ++customer;
      mail(log, fmt::format("customer{}@buyer{}.test", customer, customer % 13));
      if (looped && order == 23)
        for (int round = 0; round < 10; ++round)
          for (int i = 0; i < 16; ++i) mail(log, fmt::format("target{}@far{}.test", i, i % 5));
    }
    log.skip(86400 - 300 - 46 * 1800 - (looped ? 320 : 0));
  };
  Log log;
  for (int d = 0; d < 7; ++d) day(log);
  const Forensics& week = log.run();
  auto findings = find_abuse(week);
  EXPECT_TRUE(findings.empty()) << findings[0].summary;
  auto lists = lists_mailed_again(week, findings);
  ASSERT_EQ(lists.size(), 1u) << "the script; its user's mail is all the script's";
  EXPECT_EQ(lists[0].actor, "/home/shop/public_html");
  EXPECT_NEAR(double(lists[0].list), 150, 45) << "the list, from a sample of 64 of about 470";
  EXPECT_NEAR(double(lists[0].others), 322, 100) << "the customers";
  EXPECT_EQ(lists[0].runs, 7u);
  EXPECT_NE(lists[0].summary.find("other addresses mailed once or twice, spread out"), std::string::npos)
      << lists[0].summary;

  Log bombed;
  for (int d = 0; d < 7; ++d) day(bombed, d == 3);
  auto bomb = find_abuse(bombed.run());
  ASSERT_EQ(of_kind(bomb, "spamming_script").size(), 1u) << "a mail bomb is no digest";
  EXPECT_NE(bomb[0].summary.find("its busiest window mailed a list it mails run after run, but about "),
            std::string::npos)
      << bomb[0].summary;

  for (int i = 0; i < 100; ++i) mail(log, fmt::format("victim{}@far{}.test", i, i % 11));
  const Forensics& hijacked = log.run();
  findings = find_abuse(hijacked);
  ASSERT_EQ(of_kind(findings, "spamming_script").size(), 1u);
  EXPECT_NE(findings[0].summary.find("its busiest window mailed a list it mails run after run, but about "),
            std::string::npos)
      << findings[0].summary;
  EXPECT_NE(findings[0].summary.find(" messages to new addresses came within 1h"), std::string::npos)
      << findings[0].summary;
  EXPECT_TRUE(lists_mailed_again(hijacked, findings).empty());
}

// A user with two nightly digests to two lists mails 300 addresses night after night, no one
// list: its burst is its scripts', both listed, and no finding. A user with a digest and a
// hijacked script has the script's finding, and is no list of its own.
TEST(Findings, AUsersBurstIsItsScriptsWhetherFoundOrListed) {
  auto nights = [](Log& log, const std::vector<std::pair<std::string, int>>& scripts, int count) {
    for (int day = 0; day < count; ++day) {
      for (const auto& [dir, rcpts] : scripts) {
        for (int i = 0; i < rcpts; ++i) {
          log.line("cwd=/home/gina/public_html/" + dir + " 3 args: /usr/sbin/sendmail -t -i");
          log.line(fmt::format("{} <= gina@gina.example U=gina P=local S=900 for {}{}@far{}.test", log.next_id(), dir,
                               i, i % 7));
        }
        log.skip(3600);
      }
      log.skip(86400 - 3600 * int(scripts.size()) - 300);
    }
  };
  Log two;
  nights(two, {{"news", 150}, {"offers", 150}}, 7);
  const Forensics& both = two.run();
  auto findings = find_abuse(both);
  EXPECT_TRUE(findings.empty()) << findings[0].summary;
  auto lists = lists_mailed_again(both, findings);
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].actor_kind, ActorKind::Script);
  EXPECT_EQ(lists[1].actor_kind, ActorKind::Script);

  Log hijacked;
  nights(hijacked, {{"news", 300}}, 7);
  nights(hijacked, {{"wp-content/uploads", 150}}, 1);
  const Forensics& one = hijacked.run();
  findings = find_abuse(one);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, "spamming_script");
  lists = lists_mailed_again(one, findings);
  ASSERT_EQ(lists.size(), 1u) << "the digest; not its user, whose script is a finding";
  EXPECT_EQ(lists[0].actor, "/home/gina/public_html/news");
}

// A user's burst from sixty directories, one of them over the floor: the user's finding stays,
// since the script's selection would take a twentieth of the mail.
TEST(Findings, AUsersBurstIsNotReducedToOneOfItsScripts) {
  Log log;
  auto send = [&](const std::string& dir, int n) {
    for (int i = 0; i < n; ++i) {
      log.line("cwd=" + dir + " 3 args: /usr/sbin/sendmail -t -i");
      log.line(fmt::format("{} <= alice@host.example U=alice P=local S=900 for x{}@far.test", log.next_id(), i));
    }
  };
  send("/home/alice/public_html/wp-content/uploads/2026/11", 150);
  for (int d = 0; d < 20; ++d) send(fmt::format("/home/alice/public_html/wp-content/uploads/{}", d), 45);
  auto findings = find_abuse(log.run());
  EXPECT_EQ(of_kind(findings, "spamming_script").size(), 1u);
  ASSERT_EQ(of_kind(findings, "spamming_local_user").size(), 1u);
}

// A user whose mail came mostly from its flagged script adds nothing to the script's finding.
TEST(Findings, AUsersBurstFromItsFlaggedScriptIsTheScripts) {
  Log log;
  for (int i = 0; i < 150; ++i) {
    log.line("cwd=/home/alice/public_html/wp-content/uploads/2026/11 3 args: /usr/sbin/sendmail -t -i");
    log.line(fmt::format("{} <= alice@host.example U=alice P=local S=900 for x{}@far.test", log.next_id(), i));
  }
  auto findings = find_abuse(log.run());
  EXPECT_EQ(of_kind(findings, "spamming_script").size(), 1u);
  EXPECT_TRUE(of_kind(findings, "spamming_local_user").empty());
}

// A mobile user over a week: 154 messages, a few an hour, from 13 networks (a carrier's NAT,
// home, the office) and no failed logins: not compromised. The same 13 IPs within an hour are.
TEST(Findings, AnAccountsIpsCountWhenTheyAreNewWithinADay) {
  auto run = [](int64_t apart, int ips) {
    Log log;
    for (int i = 0; i < 154; ++i) {
      log.line(
          fmt::format("{} <= tom@plumbing.example H=(phone) [198.51.100.{}]:4000 P=esmtpa "
                      "A=dovecot_plain:tom@plumbing.example S=1000 for c{}@client.test",
                      log.next_id(), 1 + (i * ips / 154), i));
      log.skip(apart);
    }
    return of_kind(find_abuse(log.run()), "compromised_account").size();
  };
  EXPECT_EQ(run(3900, 13), 0u);  // a week: 13 IPs, one new every 13 hours
  EXPECT_EQ(run(540, 13), 1u);   // the same 13 in a day (and no burst: 7 an hour)
  EXPECT_EQ(run(3900, 31), 1u);  // a week, 4 or 5 new a day: 31 in all is a botnet's shape
}

TEST(Findings, AFewIpsStayFindingsOfTheirOwn) {
  Log log;
  for (int ip = 1; ip <= 9; ++ip) dictionary(log, fmt::format("198.51.100.{}", ip), 60);
  auto findings = find_abuse(log.run());
  EXPECT_EQ(of_kind(findings, "dictionary_attack").size(), 9u);
  EXPECT_TRUE(of_kind(findings, "dictionary_campaign").empty());
}

// A big server: 20,000 ordinary bounces to 2,000 addresses, and 200 bounces to one forged
// sender over a day, all frozen: 1% of the bounces, and still backscatter.
TEST(Findings, TwoHundredFrozenBouncesAreBackscatterUnderTwoPercent) {
  Log log;
  for (int i = 0; i < 20000; ++i) {
    std::string id = log.next_id();
    log.line(fmt::format("{} <= <> R=1tAAAA-ZZZZZZ-AA U=Debian-exim P=local S=1500 for user{}@far{}.test", id, i % 2000,
                         i % 7));
    log.line(id + " => x R=dnslookup T=remote_smtp H=mx [192.0.2.9]");
    log.line(id + " Completed");
  }
  for (int i = 0; i < 200; ++i) {
    std::string id = log.next_id();
    log.line(id + " <= <> R=1tAAAA-ZZZZZZ-AA U=Debian-exim P=local S=1500 for somestranger@live.example");
    log.line(id + " == somestranger@live.example R=dnslookup T=remote_smtp defer (-44): timeout");
    log.line(id + " Frozen (delivery error message)");
  }
  auto findings = find_abuse(log.run());
  auto bs = of_kind(findings, "backscatter");
  ASSERT_EQ(bs.size(), 1u);
  EXPECT_EQ(bs[0]->actor, "somestranger@live.example");
  EXPECT_EQ(bs[0]->events, 200u);
  LogReport r;
  r.forensics = &log.run();
  r.findings = findings;
  auto json = report_json(r, ReportOptions{});
  EXPECT_EQ(json["findings"][0]["cleanup"],
            "exiqgrep -i -f '^<>$' -r '^somestranger@live\\.example$' | xargs -r exim -Mrm");
  EXPECT_EQ(json["findings"][0]["queue_selection"],
            (nlohmann::json{"--bounce", "--recipient", "somestranger@live.example"}));
}

// Yesterday's mailing bounced today, to its sender's full mailbox here: bounces to one of our
// users, deferred by its own transport. The log of today alone does not show the user sending;
// the local transport says the address is a mailbox here, so no backscatter and no cleanup.
TEST(Findings, BouncesToAMailboxHereAreNotBackscatter) {
  auto run = [](const char* transport) {
    Log log;
    for (int i = 0; i < 80; ++i) {
      std::string id = log.next_id();
      log.line(id +
               " <= <> R=1tZZZZ-000001-AA U=mailnull P=local S=3000 T=\"Mail delivery failed\" for "
               "news@shop.example");
      log.line(fmt::format("{} == news@shop.example R=virtual_user T={} defer (-22): mailbox is full", id, transport));
      log.line(id + " Frozen (delivery error message)");
    }
    return of_kind(find_abuse(log.run()), "backscatter").size();
  };
  EXPECT_EQ(run("virtual_userdelivery"), 0u);
  EXPECT_EQ(run("dovecot_lmtp"), 0u);
  EXPECT_EQ(run("remote_smtp"), 1u);                              // the same bounces leaving over SMTP are
  EXPECT_EQ(run("smarthost H=relay.isp.test [192.0.2.25]"), 1u);  // to a host, whatever the transport's name
}

// A user's own bounces frozen on its full mailbox stay its own when another server also sent
// it an ordinary bounce or two; as many as a finding's floor from elsewhere are told (spam
// sent elsewhere in its name), with no cleanup.
TEST(Findings, AFewBouncesFromElsewhereDoNotMakeAFullMailboxBackscatter) {
  auto run = [](int from_elsewhere) {
    Log log;
    log.line("1tZZZZ-000009-AA <= news@shop.example U=news P=local S=900 for a@far.test");
    for (int i = 0; i < 80; ++i) {
      std::string id = log.next_id();
      log.line(id + " <= <> R=1tZZZZ-000001-AA U=mailnull P=local S=3000 for news@shop.example");
      log.line(id + " ** news@shop.example R=virtual_user T=virtual_userdelivery: Mailbox quota exceeded");
      log.line(id + " Frozen (delivery error message)");
    }
    for (int i = 0; i < from_elsewhere; ++i) {
      std::string id = log.next_id();
      log.line(id + " <= <> H=mx.other.test [192.0.2.44]:25 P=esmtp S=3000 for news@shop.example");
      log.line(id + " => news@shop.example R=virtual_user T=virtual_userdelivery");
      log.line(id + " Completed");
    }
    std::vector<Finding> backscatter;
    for (Finding& f : find_abuse(log.run()))
      if (f.kind == "backscatter") backscatter.push_back(std::move(f));
    return backscatter;
  };
  EXPECT_TRUE(run(0).empty());
  EXPECT_TRUE(run(1).empty());
  std::vector<Finding> told = run(25);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_FALSE(told[0].all_made_here()) << "no cleanup";
  EXPECT_EQ(told[0].summary.find("the sender of"), std::string::npos)
      << "a mailbox here refuses nothing: " << told[0].summary;
}

// The "for" list and the delivery line may write the target in other cases: its full mailbox
// here is still its own (errors_copy's postmaster beside it).
TEST(Findings, ABouncesTargetIsMatchedCaseBlind) {
  Log log;
  for (int i = 0; i < 80; ++i) {
    std::string id = log.next_id();
    log.line(id + " <= <> R=1tZZZZ-000001-AA U=mailnull P=local S=3000 for Alice@Shop.example postmaster@shop.example");
    log.line(id + " => postmaster <postmaster@shop.example> R=system_aliases T=local_delivery");
    log.line(id + " ** alice@shop.example R=virtual_user T=virtual_userdelivery: Mailbox quota exceeded");
    log.line(id + " Frozen (delivery error message)");
  }
  EXPECT_TRUE(of_kind(find_abuse(log.run()), "backscatter").empty());
}

// Without "for" lists a bounce's addresses come from its delivery lines, and errors_copy's
// postmaster, delivered here, is not the victim's mailbox.
TEST(Findings, AnUnlistedErrorsCopyHereDoesNotHideTheVictim) {
  Log log;
  for (int i = 0; i < 80; ++i) {
    std::string id = log.next_id();
    log.line(id + " <= <> R=1tZZZZ-000001-AA U=mailnull P=local S=3000");
    log.line(id + " => postmaster <postmaster@shop.example> R=system_aliases T=local_delivery");
    log.line(id + " ** victim@live.test R=dnslookup T=remote_smtp H=mx [192.0.2.9]: 550 no such user");
    log.line(id + " Frozen (delivery error message)");
  }
  bool victim = false;
  for (const Finding& f : find_abuse(log.run())) victim |= f.kind == "backscatter" && f.actor == "victim@live.test";
  EXPECT_TRUE(victim);
}

// With errors_copy each bounce also goes to our postmaster: that copy delivered here does not
// make the forged sender one of ours.
TEST(Findings, AnErrorsCopyHereDoesNotHideTheVictim) {
  Log log;
  for (int i = 0; i < 80; ++i) {
    std::string id = log.next_id();
    log.line(id +
             " <= <> R=1tZZZZ-000001-AA U=mailnull P=local S=3000 for joe@victim-isp.test postmaster@shop.example");
    log.line(id + " => postmaster <postmaster@shop.example> R=virtual_user T=virtual_userdelivery");
    log.line(id + " == joe@victim-isp.test R=dnslookup T=remote_smtp defer (-44): timeout");
    log.line(id + " Frozen (delivery error message)");
  }
  const Finding* victim = nullptr;
  auto findings = find_abuse(log.run());
  for (const Finding& f : findings)
    if (f.kind == "backscatter" && f.actor == "joe@victim-isp.test") victim = &f;
  ASSERT_NE(victim, nullptr);
  // The postmaster's copies are not the victim's deliveries.
  EXPECT_NE(victim->summary.find(": 0 delivered, 0 failed, 80 deferred; 80 frozen"), std::string::npos)
      << victim->summary;
}

// On a server with errors_copy every bounce it makes, ordinary ones too, lists the postmaster
// after the sender: the postmaster is no backscatter victim gathering all of them.
TEST(Findings, ErrorsCopysPostmasterIsNoVictim) {
  Log log;
  for (int i = 0; i < 300; ++i) {
    std::string id = log.next_id();
    log.line(id + fmt::format(" <= <> R=1tZZZZ-000001-AA U=mailnull P=local S=3000 for u{}@d{}.test "
                              "postmaster@shop.example",
                              i, i % 40));
    log.line(id + fmt::format(" => u{}@d{}.test R=dnslookup T=remote_smtp H=mx.d.test [192.0.2.5]", i, i % 40));
    log.line(id + " => postmaster <postmaster@shop.example> R=system_aliases T=local_delivery");
    log.line(id + " Completed");
  }
  const Forensics& f = log.run();
  EXPECT_TRUE(of_kind(find_abuse(f), "backscatter").empty());
  EXPECT_EQ(f.table(ActorKind::BounceRecipient).find("postmaster@shop.example"), nullptr);
  const ActorStats* first = f.table(ActorKind::BounceRecipient).find("u7@d7.test");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->messages, 1u);
  EXPECT_EQ(first->delivered, 1u) << "its own delivery, not the postmaster's copy";
}

TEST(Findings, OrdinaryFrozenBouncesAreNotBackscatter) {
  Log log;
  for (int i = 0; i < 30; ++i) {
    std::string id = log.next_id();
    log.line(id + " <= <> R=1tAAAA-ZZZZZZ-AA U=Debian-exim P=local S=1500 for old@gone.example");
    log.line(id + " Frozen (delivery error message)");
  }
  for (int i = 0; i < 5000; ++i) {
    std::string id = log.next_id();
    log.line(fmt::format("{} <= <> R=1tAAAA-ZZZZZZ-AA U=Debian-exim P=local S=1500 for u{}@far.test", id, i % 500));
  }
  EXPECT_TRUE(of_kind(find_abuse(log.run()), "backscatter").empty()) << "30 frozen: under both floors";
}

// Exim freezes a bounce it could not deliver; thawed (exim -Mt, the errmsg timer) it tries
// again and logs its ** and Frozen lines again. Each bounce still failed once and froze once,
// and 25 of them are under the 50 that make stuck bounces a finding whatever their share
// (their failed and frozen counts are not added up).
TEST(Findings, ABounceThawedAndFrozenAgainCountsOnce) {
  Log log;
  for (int i = 0; i < 25; ++i) {
    std::string id = log.next_id();
    log.line(id + " <= <> R=1tAAAA-ZZZZZZ-AA U=Debian-exim P=local S=1500 for bob@forged.example");
    for (int attempt = 0; attempt < 3; ++attempt) {
      log.line(id + " ** bob@forged.example R=dnslookup T=remote_smtp H=mx [192.0.2.9]: 550 5.1.1 No such user");
      log.line(id + " Frozen (delivery error message)");
    }
  }
  for (int i = 0; i < 5000; ++i) {
    std::string id = log.next_id();
    log.line(fmt::format("{} <= <> R=1tAAAA-ZZZZZZ-AA U=Debian-exim P=local S=1500 for u{}@far.test", id, i % 500));
  }
  const Forensics& f = log.run();
  const ActorStats* victim = f.table(ActorKind::BounceRecipient).find("bob@forged.example");
  ASSERT_NE(victim, nullptr);
  EXPECT_EQ(victim->messages, 25u);
  EXPECT_EQ(victim->failed, 25u);
  EXPECT_EQ(victim->frozen, 25u);
  EXPECT_EQ(f.messages().frozen, 25u);
  EXPECT_TRUE(of_kind(find_abuse(f), "backscatter").empty()) << "25 stuck bounces, 0.5% of all";
}

// A cPanel user's mail over SMTP from this host (its PHP mailer on 127.0.0.1, as cPanel's
// "Sender identification" line names it) is its own, as a local submission is: the bounces of
// that mail are its echo, not backscatter to a forged address.
TEST(Findings, BouncesOfAUsersMailOverSmtpFromThisHostAreItsOwn) {
  auto run = [](bool identified) {
    Log log;
    for (int i = 0; i < 40; ++i) {
      std::string id = log.next_id();
      if (identified) log.line(id + " Sender identification U=shopuser D=shop.example S=news@shop.example");
      log.line(id + fmt::format(" <= news@shop.example H=localhost (shop.example) [127.0.0.1]:40000 P=esmtp S=900 "
                                "for c{}@far.test",
                                i));
      log.line(id + " Completed");
    }
    for (int i = 0; i < 30; ++i) {
      std::string id = log.next_id();
      log.line(id + " <= <> R=1tZZZZ-000001-AA U=Debian-exim P=local S=3000 for news@shop.example");
      log.line(id + " => news@shop.example R=dnslookup T=remote_smtp H=mx.shop-mail.test [192.0.2.8]");
      log.line(id + " Completed");
    }
    return of_kind(find_abuse(log.run()), "backscatter").size();
  };
  EXPECT_EQ(run(true), 0u);
  EXPECT_EQ(run(false), 1u) << "from 127.0.0.1 without it: a filter's reinjection, whose senders are not ours";
}

// A user who sends a few messages from here while spam sent elsewhere in its name bounces back
// to it from other servers: more bounces than it mailed recipients are no echo of its own mail.
// A user whose newsletter's bad addresses bounce back later from other servers is not told.
TEST(Findings, BouncesFromElsewhereBeyondAUsersOwnMailAreItsAddressForged) {
  auto run = [](int recipients_mailed, int bounces_from_elsewhere) {
    Log log;
    std::string list;
    for (int i = 0; i < recipients_mailed; ++i) list += fmt::format(" friend{}@far{}.test", i, i % 9);
    log.line("1tZZZZ-000009-AA <= alice@shop.example U=alice P=local S=900 for" + list);
    for (int i = 0; i < bounces_from_elsewhere; ++i) {
      std::string id = log.next_id();
      log.line(id + " <= <> H=mx.bigmail.test [192.0.2.44]:25 P=esmtp S=3000 for alice@shop.example");
      log.line(id + " => alice@shop.example R=virtual_user T=virtual_userdelivery");
      log.line(id + " Completed");
    }
    std::vector<Finding> found;
    for (Finding& f : find_abuse(log.run()))
      if (f.kind == "backscatter") found.push_back(std::move(f));
    return found;
  };
  std::vector<Finding> forged = run(3, 40);
  ASSERT_EQ(forged.size(), 1u);
  EXPECT_EQ(forged[0].bounces_from_elsewhere, 40u);
  EXPECT_FALSE(forged[0].all_made_here()) << "no cleanup: they are the user's mailbox's";
  EXPECT_NE(forged[0].summary.find("it sends mail from here too, 1 messages to 3 recipients"), std::string::npos)
      << forged[0].summary;
  EXPECT_TRUE(run(300, 40).empty()) << "a newsletter's bounces from the servers of its bad addresses";
  EXPECT_TRUE(run(3, 15).empty()) << "under the floor";
}

// A Mailman list on cPanel posts over SMTP from 127.0.0.1 as LIST-bounces@, and the cPanel lines
// that name Mailman come after the arrival: nothing marks the sender as ours but its name and
// where it came from. Its dead subscribers' servers bounce to it; that is the list's bounce
// processing, not backscatter. Spam from elsewhere forging such an address, and the same bounces
// to a list address that never posted here, are still told.
TEST(Findings, BouncesToAListsBounceAddressAreItsOwn) {
  auto run = [](const std::string& bounce_address, const std::string& posted_from) {
    Log log;
    for (int post = 0; post < 3 && !posted_from.empty(); ++post) {
      std::string list;
      for (int i = 0; i < 500; ++i) list += fmt::format(" member{}@far{}.test", i, i % 9);
      log.line(fmt::format("{} <= {} H=host.example [{}]:51000 P=esmtp S=9000 for{}", log.next_id(), bounce_address,
                           posted_from, list));
    }
    for (int i = 0; i < 40; ++i) {
      std::string id = log.next_id();
      log.line(
          fmt::format("{} <= <> H=mx{}.far.test [192.0.2.{}]:25 P=esmtp S=3000 for {}", id, i, i + 1, bounce_address));
      log.line(fmt::format("{} => {} R=virtual_aliases T=mailman_virtual_transport", id, bounce_address));
      log.line(id + " Completed");
    }
    return of_kind(find_abuse(log.run()), "backscatter").size();
  };
  EXPECT_EQ(run("members-bounces@rowing.example", "127.0.0.1"), 0u);
  EXPECT_EQ(run("Members-Bounces+m7=far3.test@rowing.example", "127.0.0.1"), 0u) << "VERP, any case";
  EXPECT_EQ(run("members-bounces@rowing.example", ""), 1u) << "no post of the list's here";
  EXPECT_EQ(run("members-bounces@rowing.example", "203.0.113.9"), 1u) << "spam from elsewhere forging it";
  EXPECT_EQ(run("members@rowing.example", "127.0.0.1"), 1u) << "no list's bounce address, no sign it is ours";
}

// Bounces of a local user's list mail to its own address, deferred, that an admin froze with
// `queue freeze` (Exim's -Mf: "frozen by root") and thawed again: Exim never froze them, and
// the address refused nothing, so they are not the stuck bounces of a forged sender.
TEST(Findings, BouncesAnAdminFrozeAreNotStuck) {
  auto run = [](const std::string& freeze_line) {
    Log log;
    log.line("1tZZZZ-000009-AA <= list@slowmail.example U=userx2 P=local S=900 for a@far.test");
    for (int i = 0; i < 55; ++i) {
      std::string id = log.next_id();
      log.line(id + " <= <> R=1tZZZZ-000009-AA U=Debian-exim P=local S=3000 for list@slowmail.example");
      log.line(id + " == list@slowmail.example R=dnslookup T=remote_smtp defer (-44): timeout");
      log.line(id + " " + freeze_line);
      log.line(id + " unfrozen by root");
    }
    for (int i = 0; i < 5000; ++i) {
      std::string id = log.next_id();
      log.line(fmt::format("{} <= <> R=1tAAAA-ZZZZZZ-AA U=Debian-exim P=local S=1500 for u{}@far.test", id, i % 500));
    }
    const Forensics& f = log.run();
    const ActorStats* target = f.table(ActorKind::BounceRecipient).find("list@slowmail.example");
    return std::pair<size_t, uint64_t>{of_kind(find_abuse(f), "backscatter").size(), target ? target->frozen : 99};
  };
  EXPECT_EQ(run("frozen by root"), (std::pair<size_t, uint64_t>{0, 0}));
  // The same bounces frozen by Exim itself are stuck: 55 of them make a finding at any share.
  EXPECT_EQ(run("Frozen (delivery error message)"), (std::pair<size_t, uint64_t>{1, 55}));
}

}  // namespace
}  // namespace sw::stats
