#include "detect/detector.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <set>

#include "eximlog/line_parser.h"

namespace sw::detect {
namespace {

// Feeds raw log lines; returns the trips.
struct Feeder {
  Detector detector;
  std::vector<Trip> trips;
  explicit Feeder(DetectorLimits limits = default_limits()) : detector(std::move(limits)) {}
  void line(const std::string& raw) {
    eximlog::LogLine l;
    eximlog::parse_line(raw, l);
    detector.add(l, &trips, raw);
  }
  // A sendmail run from `dir` by `user` at second `sec` (+pid lines).
  void script_message(int sec, int n, const std::string& dir, const std::string& user, int rcpts = 1) {
    script_message_at(fmt::format("2026-11-22 10:{:02}:{:02}", sec / 60, sec % 60), n, dir, user, rcpts);
  }
  void script_message_at(const std::string& ts, int n, const std::string& dir, const std::string& user, int rcpts = 1) {
    int pid = 1000 + n;
    line(fmt::format("{} [{}] cwd={} 3 args: /usr/sbin/sendmail -t -i", ts, pid, dir));
    std::string for_list;
    for (int r = 0; r < rcpts; ++r) for_list += fmt::format(" r{}@d{}.example", r, r);
    line(fmt::format("{} [{}] 1tA{:03}-000{:03}-AB <= {}@host.example U={} P=local S=500 for{}", ts, pid, n % 1000,
                     n % 1000, user, user, for_list));
  }
  void auth_message(int sec, int n, const std::string& account, const std::string& ip, int rcpts) {
    std::string ts = fmt::format("2026-11-22 10:{:02}:{:02}", sec / 60, sec % 60);
    std::string for_list;
    for (int r = 0; r < rcpts; ++r) for_list += fmt::format(" r{}@d{}.example", r, r % 7);
    line(fmt::format("{} 1tB{:03}-000{:03}-AB <= {} H=(User) [{}]:5000 P=esmtpa A=dovecot_login:{} S=900 for{}", ts,
                     n % 1000, n % 1000, account, ip, account, for_list));
  }
};

// Lines as a real Exim 4.96 writes them without +pid (cPanel's default log_selector; see
// eximlog/testdata/real-4.96-nopid.log): a script burst from userx1's WordPress and a
// newsletter run by another user, submitting in the same second. The pairing of cwd= lines
// to arrivals is a guess; the newsletter's arrival is logged right after userx1's tenth.
struct NoPidBurst {
  std::string script_dir = "/home/userx1/public_html/wp-content/x";
  std::string news_dir = "/home/news/public_html/newsletter";
  std::string script_login = "userx1";

  std::vector<std::string> lines() const {
    const std::string ts = "2026-11-22 15:53:26 ";
    std::vector<std::string> out;
    for (int i = 0; i < 11; ++i) out.push_back(ts + "cwd=" + script_dir + " 3 args: /usr/sbin/sendmail -t -i");
    out.push_back(ts + "cwd=" + news_dir + " 5 args: /usr/sbin/sendmail -t -i -f news@news.example");
    auto script_arrival = [&](int i) {
      return fmt::format(
          "{}1xV9sc-0003y{}-10 <= {}@host.lab.example U={} P=local S=642 "
          "id=f7ab62a8152975{:02}.1795362806@host.lab.example T=\"You have won a $1000 gift card!\" "
          "for alex.wilson1@aol.example chris.white0@orange.example",
          ts, char('a' + i), script_login, script_login, i);
    };
    for (int i = 0; i < 10; ++i) out.push_back(script_arrival(i));
    out.push_back(ts +
                  "1xV9sc-0003zA-2K <= news@news.example U=news P=local S=4711 "
                  "id=4f6b8f6007a04e64.1795362806@news.example T=\"Our November offers\" "
                  "for lisa.white17@icloud.example");
    out.push_back(script_arrival(10));
    return out;
  }
};

const Trip* script_trip(const std::vector<Trip>& trips, const std::string& dir) {
  for (const Trip& t : trips)
    if (t.actor.type == ActorType::Script && t.actor.key == dir) return &t;
  return nullptr;
}

TEST(Detector, ScriptBurstWithoutPidHoldsItsOwnUserNotTheNewsletterSender) {
  NoPidBurst burst;
  Feeder f;
  for (const std::string& l : burst.lines()) f.line(l);
  const Trip* t = script_trip(f.trips, burst.script_dir);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->related_user, "userx1");
  EXPECT_EQ(script_trip(f.trips, burst.news_dir), nullptr);
  for (const Trip& x : f.trips) EXPECT_NE(x.actor.key, "news") << x.reason;
}

TEST(Detector, APairingThatContradictsTheDirectoryOwnerDoesNotNameTheUser) {
  // The newsletter runs from cron outside any home: its arrival can only take the oldest
  // pending cwd= line, userx1's, and that is the line that puts the script over its limit.
  NoPidBurst burst;
  burst.news_dir = "/usr/local/newsletter";
  Feeder f;
  for (const std::string& l : burst.lines()) f.line(l);
  const Trip* t = script_trip(f.trips, burst.script_dir);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->related_user, "userx1");  // the directory's owner, named by all the other pairings
}

TEST(Detector, SubmissionsThatDisagreeHoldTheScriptWithoutAUser) {
  // A directory outside the homes (Debian, scripts run as www-data): nothing corroborates
  // either login, and the submissions name two.
  NoPidBurst burst;
  burst.script_dir = "/var/www/html/wp-content/x";
  burst.news_dir = "/usr/local/newsletter";
  burst.script_login = "www-data";
  Feeder f;
  for (const std::string& l : burst.lines()) f.line(l);
  const Trip* t = script_trip(f.trips, burst.script_dir);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->related_user, "");
  EXPECT_EQ(t->related_user_note,
            "submissions name www-data (10) and news (1): no user held with it; "
            "hold user:www-data if it is the culprit");
}

TEST(Detector, FiveMessagesASecondTripsOnTheTwentyFirstMessageIn10s) {
  Feeder f;
  // 5 msg/s: exactly 10 in every 2 s (the short scale's limit, not above it), 21 after 4+ s.
  for (int i = 0; i < 25; ++i) f.script_message(i / 5, i, "/home/userx1/public_html", "userx1");
  ASSERT_FALSE(f.trips.empty());
  const Trip& t = f.trips.front();
  EXPECT_EQ(t.actor.type, ActorType::Script);
  EXPECT_EQ(t.actor.key, "/home/userx1/public_html");
  EXPECT_EQ(t.related_user, "userx1");
  EXPECT_EQ(t.related_user_note, "");
  EXPECT_NE(t.reason.find("21 messages in 10s"), std::string::npos) << t.reason;
  // The local user trips too, once; the script never twice.
  size_t script_trips = 0;
  for (const Trip& x : f.trips) script_trips += x.actor.type == ActorType::Script;
  EXPECT_EQ(script_trips, 1u);
}

TEST(Detector, FiftyMessagesASecondTripsOnTheEleventhMessageIn2s) {
  Feeder f;
  std::vector<size_t> trips_after;  // trips seen after message i
  for (int i = 0; i < 50; ++i) {
    f.script_message(7, i, "/home/userx1/public_html", "userx1");  // all within one second
    trips_after.push_back(f.trips.size());
  }
  ASSERT_FALSE(f.trips.empty());
  EXPECT_EQ(trips_after[9], 0u);   // 10 messages: at the limit, not above
  EXPECT_GT(trips_after[10], 0u);  // the 11th trips
  EXPECT_EQ(f.trips.front().actor.type, ActorType::Script);
  EXPECT_NE(f.trips.front().reason.find("11 messages in 2s (limit 10)"), std::string::npos) << f.trips.front().reason;
}

TEST(Detector, SixMessagesASecondSustainedTripsTheShortScale) {
  Feeder f;
  for (int i = 0; i < 10; ++i) f.script_message(20 + i / 6, i, "/home/userx1/public_html", "userx1");
  EXPECT_TRUE(f.trips.empty()) << f.trips.front().reason;
  f.script_message(21, 10, "/home/userx1/public_html", "userx1");  // 6 + 5 within (19, 21]
  ASSERT_FALSE(f.trips.empty());
  EXPECT_NE(f.trips.front().reason.find("11 messages in 2s"), std::string::npos) << f.trips.front().reason;
}

TEST(Detector, FanOutOfTenAndAMailClientsOutboxAreNotHeld) {
  Feeder f;
  // A forum notifying 10 subscribers at once, three times an hour ...
  for (int burst = 0; burst < 3; ++burst)
    for (int i = 0; i < 10; ++i) f.script_message(burst * 1200 + 1, burst * 10 + i, "/home/forum/public_html", "forum");
  // ... a shop mailing a few order confirmations at once ...
  for (int i = 0; i < 4; ++i) f.script_message(30, 100 + i, "/home/shop/public_html", "shop");
  // ... and a laptop's outbox of 10 messages flushed over SMTP-AUTH within a second.
  for (int i = 0; i < 10; ++i) f.auth_message(40, 200 + i, "anna@acme.example", "127.0.0.9", 2);
  EXPECT_TRUE(f.trips.empty()) << f.trips.front().reason;
}

TEST(Detector, ShortScaleForgetsAfterTwoSeconds) {
  Feeder f;
  // 10 at second 0, 10 at second 2: never more than 10 within (t-2, t], 20 within 10 s (not above).
  for (int i = 0; i < 10; ++i) f.script_message(0, i, "/home/userx1/public_html", "userx1");
  for (int i = 0; i < 10; ++i) f.script_message(2, 10 + i, "/home/userx1/public_html", "userx1");
  EXPECT_TRUE(f.trips.empty()) << f.trips.front().reason;
  f.script_message(3, 20, "/home/userx1/public_html", "userx1");  // 11 in (1, 3]
  ASSERT_FALSE(f.trips.empty());
  EXPECT_NE(f.trips.front().reason.find("in 2s"), std::string::npos) << f.trips.front().reason;
}

TEST(Detector, SteadyShopIsNotHeld) {
  Feeder f;
  for (int i = 0; i < 359; ++i) f.script_message(i * 10, i, "/home/shop/public_html/shop", "shop");  // 1 per 10 s, 1 h
  EXPECT_TRUE(f.trips.empty()) << f.trips.front().reason;
}

TEST(Detector, PerActorOverrideRaisesTheLimit) {
  DetectorLimits limits = default_limits();
  limits.per_actor[{ActorType::Script, "/home/news/public_html"}] =
      ActorLimits{.scales = {{10, 1000, 1000}}, .domains_per_hour = 0};
  // (the override replaces all of the type's scales, the 2-second one included)
  limits.per_actor[{ActorType::LocalUser, "news"}] = ActorLimits{.scales = {{10, 1000, 1000}}, .domains_per_hour = 0};
  limits.per_actor[{ActorType::Sender, "news@host.example"}] =
      ActorLimits{.scales = {{10, 1000, 1000}}, .domains_per_hour = 0};
  Feeder f(limits);
  for (int i = 0; i < 50; ++i) f.script_message(i / 10, i, "/home/news/public_html", "news");
  EXPECT_TRUE(f.trips.empty()) << f.trips.front().reason;
}

TEST(Detector, AllowlistedActorIsNeverCounted) {
  DetectorLimits limits = default_limits();
  limits.allow[size_t(ActorType::Script)].insert("/home/userx1/public_html");
  limits.allow[size_t(ActorType::LocalUser)].insert("userx1");
  limits.allow[size_t(ActorType::Sender)].insert("userx1@host.example");
  Feeder f(limits);
  for (int i = 0; i < 50; ++i) f.script_message(0, i, "/home/userx1/public_html", "userx1");
  EXPECT_TRUE(f.trips.empty());
}

TEST(Detector, HijackedAccountTripsOnRecipients) {
  Feeder f;
  f.auth_message(0, 1, "Sales@Acme.example", "127.0.0.66", 225);
  ASSERT_FALSE(f.trips.empty());
  EXPECT_EQ(f.trips.front().actor.type, ActorType::AuthAccount);
  EXPECT_EQ(f.trips.front().actor.key, "sales@acme.example");
  EXPECT_NE(f.trips.front().reason.find("recipients in 10s"), std::string::npos) << f.trips.front().reason;
}

// On a server delivering by cutthrough, Exim logs each success (">>") before the arrival: the
// account's deliveries count, so a third of its mail bouncing is no "most of it fails".
TEST(Detector, CutthroughDeliveriesCountAsTheAccountsSuccesses) {
  Feeder f;
  for (int n = 0; n < 180; ++n) {
    int sec = n * 15;
    std::string ts = fmt::format("2026-11-22 10:{:02}:{:02}", sec / 60, sec % 60);
    std::string id = fmt::format("1tB{:03}-000{:03}-AB", n, n);
    bool bounces = n % 3 == 0;
    if (!bounces) f.line(fmt::format("{} {} >> r@d{}.example R=lookuphost T=remote_smtp H=mx [192.0.2.1]", ts, id, n));
    f.line(
        fmt::format("{} {} <= news@acme.example H=(User) [192.0.2.7]:5000 P=esmtpa A=dovecot_login:news@acme.example "
                    "S=900 for r@d{}.example",
                    ts, id, n));
    if (bounces) f.line(fmt::format("{} {} ** r@d{}.example R=lookuphost T=remote_smtp: 550 no such user", ts, id, n));
  }
  for (const Trip& t : f.trips) ADD_FAILURE() << t.actor.key << ": " << t.reason;
}

TEST(Detector, AccountAfterFailedLoginsTripsEarly) {
  Feeder f;
  for (int i = 0; i < 6; ++i)
    f.line(
        fmt::format("2026-11-22 10:00:0{} dovecot_login authenticator failed for (User) [127.0.0.66]:4000: "
                    "535 Incorrect authentication data (set_id=info@acme.example)",
                    i));
  f.auth_message(30, 1, "info@acme.example", "127.0.0.66", 15);
  EXPECT_TRUE(f.trips.empty());
  f.auth_message(40, 2, "info@acme.example", "127.0.0.66", 15);
  ASSERT_FALSE(f.trips.empty());
  EXPECT_NE(f.trips.front().reason.find("failed logins"), std::string::npos) << f.trips.front().reason;
}

TEST(Detector, AccountFromManyIpsTrips) {
  Feeder f;
  for (int i = 0; i < 7; ++i) f.auth_message(i * 100, i, "bob@acme.example", fmt::format("10.0.0.{}", i), 1);
  ASSERT_FALSE(f.trips.empty());
  EXPECT_NE(f.trips.front().reason.find("client IPs"), std::string::npos) << f.trips.front().reason;
}

// An account's client IPs per hour across the clock change: four before it at 02:50 (summer
// time), three at 02:34 after it, an hour and three quarters later. Not seven in an hour.
TEST(Detector, ClientIpsPerHourStartAgainWhenTheClockGoesBack) {
  Feeder f;
  auto mail = [&](const char* when, int n) {
    f.line(
        fmt::format("2026-10-25 {} 1tD{:03}-000{:03}-AB <= bob@acme.example H=(pc) [10.0.0.{}]:5000 P=esmtpa "
                    "A=dovecot_login:bob@acme.example S=900 for r{}@far.example",
                    when, n, n, n, n));
  };
  for (int i = 0; i < 4; ++i) mail(fmt::format("02:5{}:00", i).c_str(), i);
  for (int i = 4; i < 7; ++i) mail(fmt::format("02:3{}:00", i).c_str(), i);
  EXPECT_TRUE(f.trips.empty()) << f.trips.front().reason;
  mail("02:49:00", 7), mail("02:49:30", 8), mail("02:49:50", 9);  // six in the hour now
  ASSERT_FALSE(f.trips.empty());
  EXPECT_NE(f.trips.front().reason.find("client IPs"), std::string::npos) << f.trips.front().reason;
}

// The night daylight saving time ends, in a log without zones: 02:00 to 03:00 is written
// twice. A burst in the repeated hour trips as any other; before, its counts went to window
// buckets that belonged to the first 02:00 to 03:00 and were never summed.
TEST(Detector, ABurstInTheRepeatedHourOfAClockChangeTrips) {
  Feeder f;
  const std::string dir = "/home/userx1/public_html";
  for (int s = 0; s < 3600; s += 13)  // every 13 s: every bucket of every scale is used
    f.script_message_at(fmt::format("2026-10-25 02:{:02}:{:02}", s / 60, s % 60), s, dir, "userx1");
  EXPECT_TRUE(f.trips.empty()) << f.trips.front().reason;  // 277 in the hour: steady
  for (int i = 0; i < 50; ++i) f.script_message_at("2026-10-25 02:00:07", 5000 + i, dir, "userx1");
  const Trip* t = script_trip(f.trips, dir);
  ASSERT_NE(t, nullptr);
  EXPECT_NE(t->reason.find("11 messages in 2s"), std::string::npos) << t->reason;
  EXPECT_EQ(format_civil(t->time), "2026-10-25 02:00:07");  // as the log wrote it
}

TEST(Detector, LinesSecondsOutOfOrderStayInTheirWindow) {
  Feeder f;
  const std::string dir = "/home/userx1/public_html";
  f.script_message_at("2026-11-22 10:00:05", 0, dir, "userx1");
  // Ten more, logged a few seconds late by other processes: the same 10 s window.
  for (int i = 1; i <= 20; ++i) f.script_message_at("2026-11-22 10:00:02", i, dir, "userx1");
  const Trip* t = script_trip(f.trips, dir);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(format_civil(t->time), "2026-11-22 10:00:02");
}

// Two clocks in one log (a cron whose sendmail runs with TZ=UTC beside the daemon's local
// time): the cron's lines, two hours behind, are not a clock change for anyone else, and a
// stolen account on the daemon's clock is still held.
TEST(Detector, ALogWithTwoClocksStillHoldsABurst) {
  Feeder f;
  for (int i = 0; i < 120; ++i) {
    int local = 36000 + i / 3, utc = local - 7200;  // 10:00 local, 08:00 UTC: 3 a second
    if (i % 6 == 0) f.script_message_at(format_civil(utc), 1000 + i, "/home/cron/jobs", "cron");
    f.line(
        fmt::format("{} 1tB{:03}-000{:03}-AB <= sales@acme.example H=(pc) [203.0.113.5]:5000 P=esmtpa "
                    "A=dovecot_login:sales@acme.example S=900 for r{}@far.example",
                    format_civil(local), i, i, i));
  }
  bool held = false;
  for (const Trip& t : f.trips) held |= t.actor.type == ActorType::AuthAccount && t.actor.key == "sales@acme.example";
  EXPECT_TRUE(held);
  EXPECT_EQ(script_trip(f.trips, "/home/cron/jobs"), nullptr);
}

TEST(Detector, IdleActorsExpireAndForgetAllowsANewTrip) {
  Feeder f;
  f.script_message(0, 1, "/home/a/public_html", "a");
  EXPECT_EQ(f.detector.active_actors(), 3u);  // script, user, sender
  f.detector.expire(eximlog::LogLine{}.time + 2000000000);
  EXPECT_EQ(f.detector.active_actors(), 0u);

  for (int i = 0; i < 25; ++i) f.script_message(1, i, "/home/b/public_html", "b");
  size_t before = f.trips.size();
  ASSERT_GT(before, 0u);
  f.detector.forget(ActorRef{ActorType::Script, "/home/b/public_html"});
  for (int i = 0; i < 25; ++i) f.script_message(2, 100 + i, "/home/b/public_html", "b");
  EXPECT_GT(f.trips.size(), before);
}

// PHPMailer talking SMTP to 127.0.0.1 on cPanel: no cwd=, no U= on the arrival, only cPanel's
// line naming the user: when it routes the message, just after the arrival (or before, from an
// ACL of the site's own). The user and the sender trip together (Exim's MAIL ACL holds the
// sender of such a connection); unnamed local SMTP (a content filter handing mail back) and a
// logged-in mailbox's mail are nobody's here.
// Where cPanel names the user: routing the message (after its arrival), an ACL's line before
// it, or only the connection (the message frozen at its arrival is never routed).
enum class NamedBy { kLineBefore, kLineAfter, kConnection };
class ScriptTalkingSmtpToLocalhost : public ::testing::TestWithParam<NamedBy> {};

TEST_P(ScriptTalkingSmtpToLocalhost, TripsAsItsCpanelUserAndSender) {
  bool named_after = GetParam() == NamedBy::kLineAfter;
  Feeder f;
  for (int i = 0; i < 30; ++i) {
    std::string id = fmt::format("1tL{:03}-000{:03}-AB", i, i);
    std::string named =
        fmt::format("2026-11-22 10:00:07 {} Sender identification U=webuser D=site.example S=x@site.example", id);
    if (GetParam() == NamedBy::kLineBefore) f.line(named);
    if (GetParam() == NamedBy::kConnection)
      f.line(fmt::format(
          "2026-11-22 10:00:06 SMTP connection identification H=localhost A=127.0.0.1 P={} U=webuser ID=1001 "
          "S=webuser B=identify_local_connection",
          40000 + i));
    f.line(fmt::format("2026-11-22 10:00:07 {} <= x@site.example H=localhost [127.0.0.1]:{} P=esmtp S=900 for r{}@far",
                       id, 40000 + i, i));
    if (named_after) f.line(named);
    f.line(
        fmt::format("2026-11-22 10:00:07 1tF{:03}-000{:03}-AB <= n{}@news.example H=localhost [127.0.0.1]:10025 "
                    "P=esmtp S=900 for u@site.example",
                    i, i, i));
  }
  ASSERT_GE(f.trips.size(), 2u);
  std::set<std::string> tripped;
  for (const Trip& t : f.trips) tripped.insert(format_actor_ref(t.actor));
  EXPECT_TRUE(tripped.count("local_user:webuser"));
  EXPECT_TRUE(tripped.count("sender:x@site.example"));
  EXPECT_EQ(tripped.size(), 2u);
  for (const Trip& t : f.trips) EXPECT_FALSE(t.companions.empty());

  Feeder logged_in;
  for (int i = 0; i < 30; ++i) {
    std::string id = fmt::format("1tM{:03}-000{:03}-AB", i, i);
    logged_in.line(
        fmt::format("2026-11-22 10:00:07 {} Sender identification U=webuser D=site.example S=b@site.example", id));
    logged_in.line(
        fmt::format("2026-11-22 10:00:07 {} <= b@site.example H=(pc) [198.51.100.9]:4000 P=esmtpa "
                    "A=dovecot_login:b@site.example S=900 for r{}@far",
                    id, i));
  }
  for (const Trip& t : logged_in.trips) EXPECT_NE(t.actor.type, ActorType::LocalUser) << t.actor.key;
}

INSTANTIATE_TEST_SUITE_P(Detector, ScriptTalkingSmtpToLocalhost,
                         ::testing::Values(NamedBy::kLineBefore, NamedBy::kLineAfter, NamedBy::kConnection),
                         [](const auto& info) {
                           switch (info.param) {
                             case NamedBy::kLineBefore: return "NamedBefore";
                             case NamedBy::kLineAfter: return "NamedAfter";
                             case NamedBy::kConnection: return "NamedByItsConnection";
                           }
                           return "";
                         });

TEST(Detector, EximsOwnBouncesAreNobodysBurst) {
  Feeder f;
  for (int i = 0; i < 50; ++i)
    f.line(fmt::format(
        "2026-11-22 10:00:00 1tC{:03}-000{:03}-AB <= <> R=1tA000-000000-AB U=Debian-exim P=local S=1 for x@y", i, i));
  for (int i = 0; i < 50; ++i)  // other servers' bounces to our users
    f.line(
        fmt::format("2026-11-22 10:00:01 1tD{:03}-000{:03}-AB <= <> H=mx.far.example [192.0.2.9]:25 P=esmtp S=1 "
                    "for u{}@here.example",
                    i, i, i));
  EXPECT_TRUE(f.trips.empty());
  EXPECT_EQ(f.detector.active_actors(), 0u);
}

// Any local user may call sendmail -f '<>': a script posing as a bounce is still its user's burst,
// and so is an account sending MAIL FROM:<>.
TEST(Detector, AnEmptySenderHidesNoUsersBurst) {
  Feeder f;
  for (int n = 0; n < 30; ++n) {
    int pid = 2000 + n;
    f.line(fmt::format("2026-11-22 10:00:00 [{}] cwd=/home/userx1/public_html/x 3 args: /usr/sbin/sendmail -t -i -f <>",
                       pid));
    f.line(fmt::format("2026-11-22 10:00:00 [{}] 1tE{:03}-000{:03}-AB <= <> U=userx1 P=local S=500 for r{}@far.example",
                       pid, n, n, n));
  }
  const Trip* trip = script_trip(f.trips, "/home/userx1/public_html/x");
  ASSERT_NE(trip, nullptr);
  Feeder account;
  for (int n = 0; n < 30; ++n)
    account.line(
        fmt::format("2026-11-22 10:00:00 1tF{:03}-000{:03}-AB <= <> H=(x) [198.51.100.4]:4000 P=esmtpa "
                    "A=dovecot_login:sales@shop.example S=900 for r{}@far.example",
                    n, n, n));
  bool held = false;
  for (const Trip& t : account.trips) held |= t.actor.type == ActorType::AuthAccount;
  EXPECT_TRUE(held);
}

}  // namespace
}  // namespace sw::detect

namespace sw::detect {
namespace {

// Keys as the log and the holds write them: an IPv6 address typed in capitals or with its
// zeros is the one Exim wrote (inet_ntop's form), a range stays a range, other text as given.
TEST(ActorRef, AnAddressKeyIsWrittenAsEximWritesIt) {
  EXPECT_EQ(parse_actor_ref("ip:2001:DB8:77::15")->key, "2001:db8:77::15");
  EXPECT_EQ(parse_actor_ref("ip:2001:db8:77:0:0:0:0:15")->key, "2001:db8:77::15");
  EXPECT_EQ(parse_actor_ref("ip:203.0.113.5")->key, "203.0.113.5");
  EXPECT_EQ(parse_actor_ref("ip:2001:DB8:77::/64")->key, "2001:DB8:77::/64") << "a range is matched by value";
  EXPECT_EQ(parse_actor_ref("ip:not-an-address")->key, "not-an-address");
  EXPECT_EQ(parse_actor_ref("auth:Sales@Acme.example")->key, "sales@acme.example");
}

}  // namespace
}  // namespace sw::detect
