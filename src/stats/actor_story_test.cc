// One actor's story on hand-built logs in the shapes Exim writes: which lines are the actor's,
// how they are counted, and what the chart and the JSON say.
#include "stats/actor_story.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <string>
#include <vector>

#include "base/json_text.h"
#include "base/temp_dir.h"

namespace sw::stats {
namespace {

detect::ActorRef ref(const char* text) { return *detect::parse_actor_ref(text); }

// Feeds `log` through the pre-filter in blocks of `block` bytes cut at line ends, as the pipeline does.
ActorStory story(const std::string& log, const char* actor, std::vector<std::string>* lines = nullptr,
                 size_t block = 1 << 20) {
  StoryPrefilter prefilter(ref(actor));
  StoryBuilder builder(ref(actor), INT64_MIN, INT64_MAX,
                       lines ? StoryBuilder::LineSink([lines](std::string_view l) { lines->emplace_back(l); })
                             : StoryBuilder::LineSink());
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = std::min(log.size(), pos + block);
    size_t nl = log.rfind('\n', end - 1);
    if (nl != std::string::npos && nl >= pos) end = nl + 1;
    PrefilteredBlock kept;
    std::string_view block = std::string_view(log).substr(pos, end - pos);
    prefilter.run(block, kept);
    builder.add(block, kept);
    pos = end;
  }
  return builder.story();
}

const char* kAccountLog =
    "2026-11-01 10:00:00 dovecot_login authenticator failed for (x) [203.0.113.9]:5000: 535 Incorrect "
    "authentication data (set_id=Sales@Acme-Shop.example)\n"
    "2026-11-01 10:00:05 1tAAAA-000001-AA <= Sales@Acme-Shop.example H=(pc) [203.0.113.9]:5001 P=esmtpa "
    "A=dovecot_login:Sales@Acme-Shop.example S=2000 T=\"Invoice 17\" for a@one.test b@two.test\n"
    "2026-11-01 10:00:05 1tAAAA-000002-AA <= other@acme-shop.example H=(pc) [198.51.100.1]:5001 P=esmtpa "
    "A=dovecot_login:other@acme-shop.example S=100 T=\"Hi\" for sales@acme-shop.example\n"
    "2026-11-01 10:00:06 1tAAAA-000001-AA => a@one.test R=dnslookup T=remote_smtp H=mx.one.test [192.0.2.1]\n"
    "2026-11-01 10:00:06 1tAAAA-000001-AA ** b@two.test R=dnslookup T=remote_smtp: 550 no such user\n"
    "2026-11-01 10:00:06 1tAAAA-000003-AA <= <> R=1tAAAA-000001-AA U=Debian-exim P=local S=1500 "
    "T=\"Mail delivery failed\" for sales@acme-shop.example\n"
    "2026-11-01 10:00:06 1tAAAA-000001-AA Completed\n"
    "2026-11-01 10:00:07 1tAAAA-000002-AA => sales@acme-shop.example R=local_user T=local_delivery\n"
    "2026-11-01 10:00:07 1tAAAA-000002-AA Completed\n"
    "2026-11-01 10:00:07 1tAAAA-000003-AA => sales@acme-shop.example R=local_user T=local_delivery\n"
    "2026-11-01 10:00:07 1tAAAA-000003-AA Completed\n"
    "2026-11-01 10:20:00 1tAAAA-000004-AA <= sales@acme-shop.example H=(pc) [203.0.113.10]:5001 P=esmtpa "
    "A=dovecot_login:sales@acme-shop.example S=2000 T=\"Invoice 18\" for c@one.test\n"
    "2026-11-01 10:20:01 1tAAAA-000004-AA == c@one.test R=dnslookup T=remote_smtp defer (-44): timeout\n";

TEST(ActorStory, AnAccountsMessagesAndEveryLaterLineOfThem) {
  std::vector<std::string> lines;
  ActorStory s = story(kAccountLog, "auth:sales@acme-shop.example", &lines);
  EXPECT_EQ(s.messages, 2u);
  EXPECT_EQ(s.recipients, 3u);
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.deferred, 1u);
  EXPECT_EQ(s.completed, 1u);
  EXPECT_EQ(s.bounces_generated, 1u);
  EXPECT_EQ(s.failed_logins, 1u);
  EXPECT_EQ(s.message_ids, (std::vector<std::string>{"1tAAAA-000001-AA", "1tAAAA-000004-AA"}));
  // It sent from .9 and .10; .9 also failed a login as it: the two lists apart.
  EXPECT_EQ(s.client_ips, (std::map<std::string, uint64_t>{{"203.0.113.9", 1}, {"203.0.113.10", 1}}));
  EXPECT_EQ(s.refused_ips, (std::map<std::string, uint64_t>{{"203.0.113.9", 1}}));
  EXPECT_EQ(s.recipient_domains.at("one.test"), 2u);
  EXPECT_EQ(s.subjects.at("Invoice 17"), 1u);
  EXPECT_EQ(format_civil(s.first), "2026-11-01 10:00:00");
  EXPECT_EQ(format_civil(s.last), "2026-11-01 10:20:01");
  // Every line but the other account's message (which only names the key as a recipient).
  EXPECT_EQ(lines.size(), 10u);
  for (const auto& l : lines) EXPECT_EQ(l.find("000002"), std::string::npos) << l;
}

TEST(ActorStory, TheSameWhenTheLogIsCutIntoSmallBlocks) {
  ActorStory whole = story(kAccountLog, "auth:sales@acme-shop.example");
  ActorStory cut = story(kAccountLog, "auth:sales@acme-shop.example", nullptr, 200);
  EXPECT_EQ(cut.message_ids, whole.message_ids);
  EXPECT_EQ(cut.lines, whole.lines);
  EXPECT_EQ(cut.delivered, whole.delivered);
}

TEST(ActorStory, AnIpsMessagesRejectionsAndFailedLoginsButNotDeliveriesToIt) {
  std::string log =
      "2026-11-01 10:00:00 H=(bot) [192.0.2.7]:4000 F=<a@b.test> rejected RCPT <nobody@here.test>: Unknown user\n"
      "2026-11-01 10:00:01 H=(bot) [192.0.2.70]:4000 F=<a@b.test> rejected RCPT <x@here.test>: Unknown user\n"
      "2026-11-01 10:00:02 dovecot_login authenticator failed for (bot) [192.0.2.7]:4001: 535 Incorrect "
      "authentication data (set_id=admin)\n"
      "2026-11-01 10:00:03 1tAAAA-000001-AA <= a@b.test H=(bot) [192.0.2.7]:4002 P=esmtp S=300 for u@here.test\n"
      "2026-11-01 10:00:04 1tAAAA-000002-AA => r@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.7]\n";
  std::vector<std::string> lines;
  ActorStory s = story(log, "ip:192.0.2.7", &lines);
  EXPECT_EQ(s.rejected_recipients, 1u);
  EXPECT_EQ(s.failed_logins, 1u);
  EXPECT_EQ(s.messages, 1u);
  EXPECT_EQ(lines.size(), 3u);
  EXPECT_EQ(s.client_ips.at("192.0.2.7"), 1u);
  EXPECT_TRUE(s.refused_ips.empty()) << "an IP's own list would hold only itself";
  EXPECT_EQ(s.rejected_domains, (std::map<std::string, uint64_t>{{"here.test", 1}})) << "what the guessing aimed at";
  EXPECT_EQ(s.accounts_tried, (std::map<std::string, uint64_t>{{"admin", 1}}));  // what a follow-up needs
  StoryResult r;
  r.story = s;
  EXPECT_NE(story_text(r).find("accounts it failed to log in as — top 1 of 1\n         1  admin\n"), std::string::npos)
      << story_text(r);
  EXPECT_EQ(story_json(r)["accounts_tried"][0]["account"], "admin");
}

// What grep -F '[IP]' finds of a client's sessions, the lines the parser does not take apart
// included; a delivery to a server at that address, or a HELO naming it, is not the client's.
TEST(ActorStory, AnIpsSessionLinesAsExigrepFindsThem) {
  std::string log =
      "2026-11-01 10:00:00 SMTP protocol synchronization error (input sent without waiting for greeting): "
      "rejected connection from H=[45.95.147.20]:51234 input=\"EHLO x\"\n"
      "2026-11-01 10:00:01 SMTP call from (x) [45.95.147.20]:51235 dropped: too many syntax or protocol errors "
      "(last command was \"RCPT TO:<a@b>\")\n"
      "2026-11-01 10:00:02 TLS error on connection from (x) [45.95.147.20]:51236 (SSL_accept): error:0A00006C:SSL "
      "routines::bad key share\n"
      "2026-11-01 10:00:03 rejected EHLO from [45.95.147.20]:51237: syntactically invalid argument(s): x_y\n"
      "2026-11-01 10:00:04 H=(x) [45.95.147.20]:51238 incomplete transaction (RSET) from <a@b.test>\n"
      "2026-11-01 10:00:05 H=(x) [45.95.147.201]:51239 incomplete transaction (RSET) from <a@b.test>\n"
      "2026-11-01 10:00:06 H=([45.95.147.20]) [192.0.2.99]:51240 incomplete transaction (RSET) from <a@b.test>\n"
      "2026-11-01 10:00:06 SMTP protocol synchronization error (input sent without waiting for greeting): "
      "rejected connection from H=[192.0.2.98]:51241 input=\"EHLO x [45.95.147.20]\"\n"
      "2026-11-01 10:00:06 rejected EHLO from [192.0.2.97]:51242: syntactically invalid argument(s): x [45.95.147.20]\n"
      "2026-11-01 10:00:07 1tAAAA-000002-AA == r@far.test R=dnslookup T=remote_smtp defer (-53): retry time not "
      "reached for any host; H=mx.far.test [45.95.147.20]\n";
  std::vector<std::string> lines;
  ActorStory s = story(log, "ip:45.95.147.20", &lines);
  ASSERT_EQ(lines.size(), 5u);
  for (const auto& l : lines) {
    EXPECT_NE(l.find("[45.95.147.20]"), std::string::npos) << l;
    EXPECT_EQ(l.find("192.0.2.9"), std::string::npos) << l;
  }
  EXPECT_EQ(s.other_rejections, 1u);  // the rejected EHLO
}

// An authenticated session's refused recipients (cPanel's per-hour limit, say) carry its A=:
// they are the account's, as its messages are.
TEST(ActorStory, AnAccountsRejectedRecipients) {
  std::string log =
      "2026-11-01 10:00:00 H=(pc) [203.0.113.9]:5001 X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no "
      "A=dovecot_plain:sales@acme-shop.example F=<sales@acme-shop.example> rejected RCPT <a@far.test>: "
      "Domain acme-shop.example has exceeded the max emails per hour (100/100 (100%)) allowed.\n"
      "2026-11-01 10:00:01 H=(pc) [203.0.113.9]:5001 A=dovecot_plain:other@acme-shop.example "
      "F=<other@acme-shop.example> rejected RCPT <sales@acme-shop.example>: over quota\n";
  std::vector<std::string> lines;
  ActorStory s = story(log, "auth:sales@acme-shop.example", &lines);
  EXPECT_EQ(s.rejected_recipients, 1u);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("max emails per hour"), std::string::npos);
}

// An IPv6 /64, as a finding names it: every address of it, each listed with its attempts;
// an address outside it (but with the same first groups) is not its.
TEST(ActorStory, AnIpRangeAsAFindingNamesIt) {
  std::string log;
  for (int i = 0; i < 6; ++i)
    log += fmt::format(
        "2026-11-01 10:00:0{} H=(bot) [2001:db8:1:2::{}]:4000 F=<a@b.test> rejected RCPT <g{}@here.test>: Unknown "
        "user\n",
        i, 10 + i % 3, i);
  log += "2026-11-01 10:00:07 H=(bot) [2001:db8:1:3::10]:4000 F=<a@b.test> rejected RCPT <h@here.test>: Unknown user\n";
  log +=
      "2026-11-01 10:00:08 H=(bot) [2001:db8:1:2:0:5:6:7]:4000 F=<a@b.test> rejected RCPT <i@here.test>: Unknown "
      "user\n";
  std::vector<std::string> lines;
  ActorStory s = story(log, "ip:2001:db8:1:2::/64", &lines);
  EXPECT_EQ(s.rejected_recipients, 7u);
  EXPECT_EQ(lines.size(), 7u);
  EXPECT_EQ(
      s.refused_ips,
      (std::map<std::string, uint64_t>{
          {"2001:db8:1:2::10", 2}, {"2001:db8:1:2::11", 2}, {"2001:db8:1:2::12", 2}, {"2001:db8:1:2:0:5:6:7", 1}}));
  StoryResult r;
  r.story = s;
  EXPECT_NE(
      story_text(r).find("client IPs refused (failed logins, rejections) — top 4 of 4\n         2  2001:db8:1:2::10\n"),
      std::string::npos)
      << story_text(r);
  // IPv4 ranges too; a range whose groups hold a zero is searched by its first groups.
  EXPECT_EQ(story("2026-11-01 10:00:00 H=(bot) [198.51.100.77]:4000 F=<a@b.test> rejected RCPT <n@here.test>: "
                  "Unknown user\n",
                  "ip:198.51.100.0/24", nullptr)
                .rejected_recipients,
            1u);
  EXPECT_EQ(story("2026-11-01 10:00:00 H=(bot) [198.51.100.77]:4000 F=<a@b.test> rejected RCPT <n@here.test>: "
                  "Unknown user\n",
                  "ip:::ffff:198.51.100.0/120", nullptr)
                .rejected_recipients,
            1u);
  EXPECT_EQ(story("2026-11-01 10:00:00 H=(bot) [2001:db8::5:1]:4000 F=<a@b.test> rejected RCPT <n@here.test>: "
                  "Unknown user\n",
                  "ip:2001:db8:0:0::/64", nullptr)
                .rejected_recipients,
            1u);
}

TEST(ActorStory, AScriptByItsCwdLinesWithAndWithoutPid) {
  for (bool pid : {true, false}) {
    std::string log;
    auto at = [&](int second, int p) {
      return fmt::format("2026-11-01 10:00:{:02d} {}", second, pid ? fmt::format("[{}] ", p) : "");
    };
    const char* dir = "/home/u1/public_html/wp-content/x";
    for (int i = 0; i < 3; ++i) {
      log += at(i * 2, 100 + i) + "cwd=" + dir + " 3 args: /usr/sbin/sendmail -t -i\n";
      // An SMTP arrival between a cwd= line and its submission, even by the same pid, is not it.
      log += at(i * 2, 100 + i) +
             fmt::format("1tCCCC-00000{}-AA <= x@far.test H=(mx) [192.0.2.9]:25 P=esmtp S=700 for u1@host.test\n", i);
      log += at(i * 2, 100 + i) +
             fmt::format("1tAAAA-00000{}-AA <= u1@host.test U=u1 P=local S=500 for r{}@far.test\n", i, i);
      log += at(i * 2 + 1, 200 + i) + "cwd=/home/u2/public_html 3 args: /usr/sbin/sendmail -t -i\n";
      log += at(i * 2 + 1, 200 + i) +
             fmt::format("1tBBBB-00000{}-AA <= u2@host.test U=u2 P=local S=500 for s{}@far.test\n", i, i);
    }
    log += at(9, 300) + "1tAAAA-000001-AA => r1@far.test R=dnslookup T=remote_smtp H=mx [192.0.2.1]\n";
    log += at(9, 300) + "cwd=/var/spool/exim 4 args: exim -Mc 1tAAAA-000002-AA\n";
    // The key names the directory or any beneath it.
    ActorStory s = story(log, "script:/home/u1/public_html");
    EXPECT_EQ(s.messages, 3u) << "pid " << pid;
    EXPECT_EQ(s.delivered, 1u);
    EXPECT_EQ(s.pid_seen, pid);
    EXPECT_EQ(s.message_ids.front(), "1tAAAA-000000-AA");
    std::vector<std::string> whole_lines, cut_lines;
    EXPECT_EQ(story(log, "script:/home/u1/public_html", &whole_lines).lines, 7u);  // 3 cwd=, 3 arrivals, 1 delivery
    EXPECT_EQ(story(log, "script:/home/u1/public_html", &cut_lines, 120).message_ids, s.message_ids);
    EXPECT_EQ(cut_lines, whole_lines);
    EXPECT_EQ(story(log, "script:/home/u1/public_html/wp").messages, 0u);  // a prefix of a name is not its directory
  }
}

// Cutthrough deliveries are logged before their arrival: the story counts them and prints
// them where Exim wrote them; another account's, interleaved, stay out.
TEST(ActorStory, CutthroughDeliveriesLoggedBeforeTheArrival) {
  const char* cut = " F=<x@acme.example> R=lookuphost T=remote_smtp H=mx [192.0.2.1] C=\"250 OK\"\n";
  std::string log;
  log += std::string("2026-11-01 10:00:00 [7] 1tAAAA-000001-AA >> a@one.test") + cut;
  log += std::string("2026-11-01 10:00:00 [8] 1tAAAA-000002-AA >> z@two.test") + cut;
  log += std::string("2026-11-01 10:00:00 [7] 1tAAAA-000001-AA >> b@two.test") + cut;
  log +=
      "2026-11-01 10:00:00 [7] 1tAAAA-000001-AA <= box@acme.example H=(pc) [203.0.113.9]:5001 P=esmtpa "
      "A=dovecot_login:box@acme.example S=900 T=\"Hi\"\n";
  log +=
      "2026-11-01 10:00:00 [8] 1tAAAA-000002-AA <= other@acme.example H=(pc) [203.0.113.8]:5001 P=esmtpa "
      "A=dovecot_login:other@acme.example S=900 T=\"Hi\" for z@two.test\n";
  log += "2026-11-01 10:00:00 [7] 1tAAAA-000001-AA Completed\n";
  for (size_t block : {size_t(1) << 20, size_t(150)}) {
    std::vector<std::string> lines;
    ActorStory s = story(log, "auth:box@acme.example", &lines, block);
    EXPECT_EQ(s.messages, 1u);
    EXPECT_EQ(s.delivered, 2u);
    EXPECT_EQ(s.recipients, 2u);  // no "for" list: the addresses of its deliveries
    EXPECT_EQ(s.recipient_domains.at("two.test"), 1u);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_NE(lines[0].find(">> a@one.test"), std::string::npos);
    EXPECT_NE(lines[1].find(">> b@two.test"), std::string::npos);
    EXPECT_NE(lines[2].find("<= box@"), std::string::npos);
    EXPECT_NE(lines[3].find("Completed"), std::string::npos);
  }
}

// A "for" list Exim cut at 8 KB (<trunc>) names the first recipients; the outcomes name the
// rest, each counted once (a deferral retried, a listed address delivered, are no new ones),
// in the minute of the arrival as in the timeline of a message without a list.
TEST(ActorStory, ATruncatedForListAndItsOutcomesNameEveryRecipient) {
  std::string list, log;
  for (int i = 0; i < 300; ++i) list += fmt::format(" v{:04d}@d{}.test", i, i % 4);
  log += fmt::format(
      "2026-11-01 10:00:00 1tAAAA-000001-AA <= bulk@acme.example H=(pc) [203.0.113.9]:5001 P=esmtpa "
      "A=dovecot_login:bulk@acme.example S=900 T=\"Hi\" for{} <trunc>\n",
      list);
  for (int i = 0; i < 1000; ++i)
    log +=
        fmt::format("2026-11-01 10:01:{:02d} 1tAAAA-000001-AA -> v{:04d}@d{}.test R=r T=remote_smtp H=mx [192.0.2.1]\n",
                    i % 60, i, i % 4);
  for (int run = 0; run < 2; ++run)
    log += "2026-11-01 10:05:00 1tAAAA-000001-AA == late@d9.test R=r T=remote_smtp defer (-44): timeout\n";
  log +=
      "2026-11-01 10:04:00 1tAAAA-000002-AA <= bulk@acme.example H=(pc) [203.0.113.9]:5001 P=esmtpa "
      "A=dovecot_login:bulk@acme.example S=900 T=\"Hi\"\n";
  log += "2026-11-01 10:04:01 1tAAAA-000002-AA => w@d1.test R=r T=remote_smtp H=mx [192.0.2.1]\n";
  ActorStory s = story(log, "auth:bulk@acme.example");
  EXPECT_EQ(s.recipients, 1002u);  // 1,000 delivered, one deferred twice; and the second message's one
  EXPECT_EQ(s.minutes.at(*parse_civil("2026-11-01 10:00:00")).recipients, 1001u);
  EXPECT_EQ(s.minutes.at(*parse_civil("2026-11-01 10:04:00")).recipients, 1u) << "no list: its delivery's";
  EXPECT_EQ(s.recipient_domains.at("d9.test"), 1u);
}

// Subjects keep their bytes: the JSON writes what is not UTF-8 as U+FFFD and escapes a tab, as
// the report's subject table does; the text masks them.
TEST(ActorStory, SubjectsInJsonAsTheReportWritesThem) {
  std::string log =
      "2026-11-01 10:00:00 1tAAAA-000001-AA <= box@acme.example H=(pc) [203.0.113.9]:5001 P=esmtpa "
      "A=dovecot_login:box@acme.example S=900 T=\"caf\xe9 tab\\there\" for a@one.test\n";
  StoryResult r;
  r.story = story(log, "auth:box@acme.example");
  nlohmann::json j = nlohmann::json::parse(json_text(story_json(r)));
  EXPECT_EQ(j["subjects"][0]["subject"], "caf\xef\xbf\xbd tab\there");
  EXPECT_NE(story_text(r).find("caf? tab?here"), std::string::npos) << story_text(r);
}

// What the story holds is what the report holds: a minute at most, every message's until its
// own arrival (a relay's others do not crowd the actor's out), on the zone-applied clock, and
// on cPanel after the "Sender identification" line.
TEST(ActorStory, CutthroughLinesAreHeldAsTheReportHoldsThem) {
  auto delivered = [](const std::string& log, const char* actor) { return story(log, actor).delivered; };
  const std::string tags = " H=(pc) [203.0.113.9]:5001 P=esmtpa A=dovecot_login:box@acme.example S=900\n";
  std::string late =
      "2026-11-01 10:00:00 1tAAAA-000001-AA >> a@one.test R=lookuphost T=remote_smtp\n"
      "2026-11-01 10:01:01 1tAAAA-000001-AA <= box@acme.example" +
      tags;
  EXPECT_EQ(delivered(late, "auth:box@acme.example"), 0u);
  std::string busy = "2026-11-01 10:00:00 1tAAAA-000001-AA >> a@one.test R=lookuphost T=remote_smtp\n";
  for (int i = 0; i < 2 * int(eximlog::EarlyOutcomes::kMax); ++i)
    busy += fmt::format(
        "2026-11-01 10:00:{:02d} 1tBBBB-{:06d}-BB >> z@two.test R=lookuphost T=remote_smtp\n"
        "2026-11-01 10:00:{:02d} 1tBBBB-{:06d}-BB <= o@acme.example H=(pc) [203.0.113.8]:5001 P=esmtp S=9\n",
        i * 40 / 1024, i, i * 40 / 1024, i);
  busy += "2026-11-01 10:00:40 1tAAAA-000001-AA <= box@acme.example" + tags;
  EXPECT_EQ(delivered(busy, "auth:box@acme.example"), 1u);
  // Half past one in a zone an hour ahead is the same minute as half past two two hours ahead.
  std::string zoned =
      "2026-10-25 02:59:50 +0200 1tAAAA-000001-AA >> a@one.test R=lookuphost T=remote_smtp\n"
      "2026-10-25 02:00:10 +0100 1tAAAA-000001-AA <= box@acme.example" +
      tags;
  EXPECT_EQ(delivered(zoned, "auth:box@acme.example"), 1u);
  std::string cpanel =
      "2026-11-01 10:00:00 1tAAAA-000001-AA Sender identification U=u1 D=site.test S=info@site.test\n"
      "2026-11-01 10:00:00 1tAAAA-000001-AA >> r@far.test R=dnslookup T=remote_smtp\n"
      "2026-11-01 10:00:00 1tAAAA-000001-AA <= info@site.test H=localhost [127.0.0.1]:4000 P=esmtp S=500\n";
  std::vector<std::string> lines;
  EXPECT_EQ(story(cpanel, "user:u1", &lines).delivered, 1u);
  EXPECT_EQ(lines.size(), 3u);
}

TEST(ActorStory, ALocalUserButNotTheBouncesEximMadeForIt) {
  std::string log =
      "2026-11-01 10:00:00 1tAAAA-000001-AA <= u1@host.test U=u1 P=local S=500 for r@far.test\n"
      "2026-11-01 10:00:01 1tAAAA-000002-AA <= <> R=1tAAAA-000009-AA U=u1 P=local S=500 for u1@host.test\n"
      "2026-11-01 10:00:01 1tAAAA-000003-AA <= u10@host.test U=u10 P=local S=500 for r@far.test\n";
  ActorStory s = story(log, "user:u1");
  EXPECT_EQ(s.messages, 1u);
  EXPECT_EQ(s.message_ids, std::vector<std::string>{"1tAAAA-000001-AA"});
}

// A script of the user's talking SMTP to 127.0.0.1: cPanel's line names the user, the arrival
// does not. A logged-in mailbox's message, which cPanel also names, is its account's.
TEST(ActorStory, ALocalUsersMailOverSmtpFromThisHostAsCpanelNamesIt) {
  std::string log =
      "2026-11-01 10:00:00 1tAAAA-000001-AA Sender identification U=u1 D=site.test S=info@site.test\n"
      "2026-11-01 10:00:00 1tAAAA-000001-AA <= info@site.test H=localhost [127.0.0.1]:4000 P=esmtp S=500 "
      "for r@far.test s@far.test\n"
      "2026-11-01 10:00:01 1tAAAA-000002-AA Sender identification U=u1 D=site.test S=box@site.test\n"
      "2026-11-01 10:00:01 1tAAAA-000002-AA <= box@site.test H=(pc) [198.51.100.4]:4001 P=esmtpa "
      "A=dovecot_login:box@site.test S=500 for t@far.test\n"
      "2026-11-01 10:00:02 1tAAAA-000001-AA => r@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]\n"
      "2026-11-01 10:00:02 1tAAAA-000001-AA ** s@far.test R=dnslookup T=remote_smtp: 550 no such user\n"
      "2026-11-01 10:00:02 1tAAAA-000002-AA => t@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]\n"
      "2026-11-01 10:00:02 1tAAAA-000004-AA Sender identification U=u1 D=site.test S=u1@site.test\n"
      "2026-11-01 10:00:02 1tAAAA-000004-AA <= u1@site.test U=u1 P=local S=500 for q@far.test\n"
      "2026-11-01 10:00:02 1tAAAA-000005-AA Sender identification U=u1 D=site.test S=x@site.test\n"
      "2026-11-01 10:00:02 1tAAAA-000005-AA Sender identification U=u2 D=site.test S=x@site.test\n"
      "2026-11-01 10:00:02 1tAAAA-000005-AA <= x@site.test H=localhost [127.0.0.1]:4009 P=esmtp S=500 for q@far.test\n"
      "2026-11-01 10:00:03 1tAAAA-000003-AA Sender identification U=u10 D=other.test S=a@other.test\n"
      "2026-11-01 10:00:03 1tAAAA-000003-AA <= a@other.test H=localhost [127.0.0.1]:4002 P=esmtp S=500 "
      "for r@far.test\n";
  std::vector<std::string> lines;
  ActorStory s = story(log, "user:u1", &lines);
  // Its own sendmail run counts as ever (cPanel identifies those too); the message a later
  // identification gave to u2 is u2's, as in the report.
  EXPECT_EQ(s.messages, 2u);
  EXPECT_EQ(s.recipients, 3u);
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.message_ids, (std::vector<std::string>{"1tAAAA-000001-AA", "1tAAAA-000004-AA"}));
  ASSERT_EQ(lines.size(), 5u);  // its identification, arrival and two outcomes; the local arrival
  EXPECT_NE(lines[0].find("Sender identification U=u1"), std::string::npos);
  EXPECT_NE(lines[1].find("<= info@site.test"), std::string::npos);
}

// cPanel's own order: it names the user when it routes the message, after the arrival.
TEST(ActorStory, ALocalUsersMailNamedAfterItsArrival) {
  std::string log =
      "2026-11-01 10:00:00 1tAAAA-000001-AA <= info@site.test H=localhost [127.0.0.1]:4000 P=esmtp S=500 "
      "for r@far.test s@far.test\n"
      "2026-11-01 10:00:00 1tAAAA-000001-AA Sender identification U=u1 D=site.test S=info@site.test\n"
      "2026-11-01 10:00:01 1tAAAA-000002-AA <= box@site.test H=(pc) [198.51.100.4]:4001 P=esmtpa "
      "A=dovecot_login:box@site.test S=500 for t@far.test\n"
      "2026-11-01 10:00:01 1tAAAA-000002-AA Sender identification U=u1 D=site.test S=box@site.test\n"
      "2026-11-01 10:00:02 1tAAAA-000001-AA => r@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]\n"
      "2026-11-01 10:00:02 1tAAAA-000001-AA ** s@far.test R=dnslookup T=remote_smtp: 550 no such user\n"
      "2026-11-01 10:00:02 1tAAAA-000005-AA Sender identification U=u2 D=site.test S=x@site.test\n"
      "2026-11-01 10:00:02 1tAAAA-000005-AA <= x@site.test H=localhost [127.0.0.1]:4009 P=esmtp S=500 for q@far.test\n"
      "2026-11-01 10:00:02 1tAAAA-000005-AA Sender identification U=u1 D=site.test S=x@site.test\n"
      "2026-11-01 10:06:00 1tAAAA-000006-AA <= y@site.test H=localhost [127.0.0.1]:4010 P=esmtp S=500 for q@far.test\n"
      "2026-11-01 10:11:01 1tAAAA-000006-AA Sender identification U=u1 D=site.test S=y@site.test\n"
      "2026-11-01 10:12:00 1tAAAA-000003-AA <= a@other.test H=localhost [127.0.0.1]:4002 P=esmtp S=500 "
      "for r@far.test\n"
      "2026-11-01 10:12:00 1tAAAA-000003-AA Sender identification U=u10 D=other.test S=a@other.test\n"
      "2026-11-01 10:13:00 1tAAAA-000007-AA Sender identification U=-system- D=site.test S=z@site.test\n"
      "2026-11-01 10:13:00 1tAAAA-000007-AA <= z@site.test H=localhost [127.0.0.1]:4011 P=esmtp S=500 for q@far.test\n"
      "2026-11-01 10:13:00 1tAAAA-000007-AA Sender identification U=-system- D=site.test S=z@site.test\n"
      "2026-11-01 10:13:01 1tAAAA-000007-AA Sender identification U=u1 D=site.test S=z@site.test\n";
  std::vector<std::string> lines;
  ActorStory s = story(log, "user:u1", &lines);
  // The logged-in mailbox's is its account's; the one named u2's first is u2's; one named past
  // the five minutes' wait is nobody's; lines naming nobody are passed over: as in the report.
  EXPECT_EQ(s.messages, 2u);
  EXPECT_EQ(s.recipients, 3u);
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.message_ids, (std::vector<std::string>{"1tAAAA-000001-AA", "1tAAAA-000007-AA"}));
  ASSERT_GE(lines.size(), 4u);
  EXPECT_NE(lines[0].find("<= info@site.test"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("Sender identification U=u1"), std::string::npos) << lines[1];
}

// cPanel names a local connection as it opens: its arrivals are the user's, routed or not (a
// held script's mail is frozen at its arrival and never routed), as in the report.
TEST(ActorStory, ALocalUsersMailNamedByItsConnection) {
  std::string log =
      "2026-11-01 10:00:00 SMTP connection identification H=localhost A=127.0.0.1 P=4000 U=u1 ID=1001 S=u1 "
      "B=identify_local_connection\n"
      "2026-11-01 10:00:00 SMTP connection identification H=localhost A=127.0.0.1 P=4001 U=u2 ID=1002 S=u2 "
      "B=identify_local_connection\n"
      "2026-11-01 10:00:01 1tAAAA-000001-AA <= u1@site.test H=([127.0.0.1]) [127.0.0.1]:4000 P=esmtp S=500 "
      "for r@far.test s@far.test\n"
      "2026-11-01 10:00:01 1tAAAA-000001-AA frozen by ACL\n"
      "2026-11-01 10:00:02 1tAAAA-000002-AA <= x@site.test H=([127.0.0.1]) [127.0.0.1]:4001 P=esmtp S=500 "
      "for q@far.test\n"
      "2026-11-01 10:00:02 1tAAAA-000002-AA Sender identification U=u2 D=site.test S=x@site.test\n"
      "2026-11-01 10:00:03 1tAAAA-000003-AA <= y@site.test H=([127.0.0.1]) [127.0.0.1]:4000 P=esmtp S=500 "
      "for q@far.test\n"
      "2026-11-01 10:00:03 1tAAAA-000003-AA Sender identification U=u1 D=site.test S=y@site.test\n"
      "2026-11-01 10:00:03 1tAAAA-000003-AA => q@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]\n"
      "2026-11-01 10:00:04 1tAAAA-000004-AA <= b@site.test H=localhost [127.0.0.1]:4000 P=esmtpa "
      "A=dovecot_login:b@site.test S=500 for t@far.test\n"
      "2026-11-01 10:05:30 1tAAAA-000005-AA <= z@site.test H=localhost [127.0.0.1]:4000 P=esmtp S=500 for q@far.test\n"
      "2026-11-01 10:05:30 1tAAAA-000006-AA <= w@site.test H=localhost [127.0.0.1]:4000 P=esmtp S=500 for q@far.test\n"
      "2026-11-01 10:05:31 1tAAAA-000005-AA Sender identification U=u1 D=site.test S=z@site.test\n";
  std::vector<std::string> lines;
  ActorStory s = story(log, "user:u1", &lines);
  // 1 frozen, never routed; 3 named twice, counted once; 4 the mailbox's; 5 past the
  // connection's wait, named by its routing line; 6 named by neither.
  EXPECT_EQ(s.message_ids, (std::vector<std::string>{"1tAAAA-000001-AA", "1tAAAA-000003-AA", "1tAAAA-000005-AA"}));
  EXPECT_EQ(s.messages, 3u);
  EXPECT_EQ(s.recipients, 4u);
  EXPECT_EQ(s.frozen, 1u);
  EXPECT_EQ(s.delivered, 1u);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("SMTP connection identification"), std::string::npos) << lines[0];
  EXPECT_EQ(story(log, "user:u2").message_ids, std::vector<std::string>{"1tAAAA-000002-AA"});
}

// Whose a connection's arrival is, as the report rules it, whoever the story is of: a port used
// again is the new connection's (naming nobody, or another user); a line of its id before it
// decides; a routing line naming another user does not; lines a second out of order still join.
TEST(ActorStory, AConnectionsArrivalIsWhoeverTheReportSays) {
  auto connection = [](const char* at, const char* user, int port) {
    return fmt::format(
        "2026-11-01 {} SMTP connection identification H=localhost A=127.0.0.1 P={} U={} ID=1001 S={} "
        "B=identify_local_connection\n",
        at, port, user, user);
  };
  auto arrival = [](const char* at, int n, int port) {
    return fmt::format(
        "2026-11-01 {} 1tAAAA-{:06d}-AA <= x{}@site.test H=localhost [127.0.0.1]:{} P=esmtp S=500 for q@far.test\n"
        "2026-11-01 {} 1tAAAA-{:06d}-AA frozen by ACL\n",
        at, n, n, port, at, n);
  };
  auto ids = [](const std::string& log, const char* actor) { return story(log, actor).message_ids; };
  using Ids = std::vector<std::string>;
  std::string reused = connection("10:00:00", "bob", 40001) + connection("10:00:10", "alice", 40001) +
                       arrival("10:00:11", 1, 40001) + connection("10:00:20", "-system-", 40001) +
                       arrival("10:00:21", 2, 40001);
  EXPECT_EQ(ids(reused, "user:bob"), Ids{});
  EXPECT_EQ(ids(reused, "user:alice"), Ids{"1tAAAA-000001-AA"});
  std::string routed_as_another =
      connection("10:00:00", "bob", 40001) + arrival("10:00:01", 1, 40001) +
      "2026-11-01 10:00:02 1tAAAA-000001-AA Sender identification U=alice D=site.test S=x1@site.test\n";
  EXPECT_EQ(ids(routed_as_another, "user:alice"), Ids{});
  EXPECT_EQ(ids(routed_as_another, "user:bob"), Ids{"1tAAAA-000001-AA"});
  std::string named_before = connection("10:00:00", "bob", 40001) +
                             "2026-11-01 10:00:01 1tAAAA-000001-AA Sender identification U=alice D=site.test "
                             "S=x1@site.test\n" +
                             arrival("10:00:01", 1, 40001);
  EXPECT_EQ(ids(named_before, "user:bob"), Ids{});
  EXPECT_EQ(ids(named_before, "user:alice"), Ids{"1tAAAA-000001-AA"});
  std::string out_of_order =
      connection("10:00:00", "bob", 40001) + arrival("10:05:01", 2, 40777) + arrival("10:05:00", 1, 40001);
  EXPECT_EQ(ids(out_of_order, "user:bob"), Ids{"1tAAAA-000001-AA"});
}

TEST(ActorStory, MessageIdOfALineInEveryPrefixShape) {
  EXPECT_EQ(line_message_id("2026-11-01 10:00:00 1tAAAA-000001-AA <= a@b"), "1tAAAA-000001-AA");
  EXPECT_EQ(line_message_id("2026-11-01 10:00:00.123 +0100 [77] 1tAAAA-0000000001-AAAA => x"),
            "");  // not an id shape
  EXPECT_EQ(line_message_id("2026-11-01 10:00:00.123 +0100 [77] 1tAAAA-00000000001-AAAA => x"),
            "1tAAAA-00000000001-AAAA");
  EXPECT_EQ(line_message_id("2026-11-01 10:00:00 [77] cwd=/tmp 1 args: x"), "");
  EXPECT_EQ(line_message_id("garbage"), "");
  EXPECT_EQ(line_message_id(""), "");
}

TEST(ActorStory, CaseFoldedSearch) {
  for (bool sse2 : {false, true}) {
    auto find_folded = [&](std::string_view hay, std::string_view needle, size_t from = 0) {
      return sse2 ? find_folded_sse2(hay, needle, from) : sw::stats::find_folded(hay, needle, from);
    };
    std::string needle = "sales@acme-shop.example";
    EXPECT_EQ(find_folded("x A=login:SALES@Acme-Shop.Example y", needle), 10u);
    EXPECT_EQ(find_folded("sales@acme-shop.exampl", needle), std::string_view::npos);
    EXPECT_EQ(find_folded("sales@acme-shop.example sales@acme-shop.example", needle, 1), 24u);
    EXPECT_EQ(find_folded("", needle), std::string_view::npos);
    // Every place in a long text, in the vector part and in the tail; '@' is not folded ('`' is
    // '@' with the 0x20 bit).
    std::string text(300, 'x');
    for (size_t at : {0, 5, 16, 31, 100, 277}) {
      std::string t = text;
      t.replace(at, needle.size(), "SALES@ACME-SHOP.EXAMPLE");
      EXPECT_EQ(find_folded(t, needle), at);
      t.replace(at + 5, 1, "`");
      EXPECT_EQ(find_folded(t, needle), std::string_view::npos);
    }
    // Every length of text around the 16- and 32-byte steps, a one-byte needle, and the first of
    // two places.
    for (size_t len = 1; len < 80; ++len) {
      std::string t(len, 'a');
      t.back() = 'Z';
      EXPECT_EQ(find_folded(t, "z"), len - 1) << len;
      EXPECT_EQ(find_folded(t, "az"), len >= 2 ? len - 2 : std::string_view::npos) << len;
      EXPECT_EQ(find_folded(t, "b"), std::string_view::npos) << len;
    }
    EXPECT_EQ(find_folded(std::string(40, 'x') + "ab" + std::string(40, 'x') + "AB", "ab", 0), 40u);
    EXPECT_EQ(find_folded(std::string(40, 'x') + "ab" + std::string(40, 'x') + "AB", "ab", 41), 82u);
  }
}

TEST(ActorStory, TimelineBucketFitsTheSpan) {
  EXPECT_EQ(timeline_bucket(0), 60);
  EXPECT_EQ(timeline_bucket(40 * 60), 60);
  EXPECT_EQ(timeline_bucket(3 * 3600), 300);
  EXPECT_EQ(timeline_bucket(23 * 3600), 1800);
  EXPECT_EQ(timeline_bucket(24 * 3600), 3600);
  EXPECT_EQ(timeline_bucket(7 * 86400), 6 * 3600);
}

TEST(ActorStory, ReadsGzipAndPlainFilesInTimeOrderAndRendersTextAndJson) {
  TempDir dir;
  std::string log(kAccountLog);
  size_t cut = log.find("2026-11-01 10:20:00");
  {
    std::ofstream(dir.path + "/mainlog") << log.substr(cut);
    gzFile gz = gzopen((dir.path + "/mainlog.1.gz").c_str(), "wb");
    std::string older = log.substr(0, cut);
    gzwrite(gz, older.data(), unsigned(older.size()));
    gzclose(gz);
  }
  StoryOptions o;
  o.actor = ref("auth:SALES@acme-shop.example");
  StoryResult r = story_of({dir.path + "/mainlog", dir.path + "/mainlog.1.gz"}, o);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(r.story.messages, 2u);
  EXPECT_EQ(r.story.deferred, 1u);
  auto j = story_json(r);
  EXPECT_EQ(j["actor_type"], "auth_account");
  EXPECT_EQ(j["message_ids"].size(), 2u);
  EXPECT_EQ(j["timeline"]["bucket_seconds"], 60);
  EXPECT_EQ(j["timeline"]["buckets"].size(), 21u);  // 10:00 to 10:20, the empty minutes too
  std::string text = story_text(r);
  EXPECT_NE(text.find("2 messages to 3 recipients: 1 delivered, 1 deferred, 1 failed"), std::string::npos) << text;
  EXPECT_NE(text.find("1tAAAA-000004-AA"), std::string::npos);
  EXPECT_NE(text.find("|##################################################| 1 (2); 1 refused"), std::string::npos)
      << text;  // 10:00: its first message, and the failed login before it
  EXPECT_NE(text.find("timeline per 1m: messages (recipients); refused: failed logins and rejections"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("client IPs it sent from — top 2 of 2"), std::string::npos) << text;
  EXPECT_NE(text.find("client IPs refused (failed logins, rejections) — top 1 of 1\n         1  203.0.113.9\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(j["refused_ips"], nlohmann::json::parse(R"([{"ip": "203.0.113.9", "count": 1}])"));
}

// Inputs whose times overlap (a copy, or an older log on stdin, which is read last) are said,
// as the report says them: the story's counts would otherwise be wrong without a word.
TEST(ActorStory, SaysWhenItsInputsOverlap) {
  TempDir dir;
  std::string log(kAccountLog);
  size_t cut = log.find("2026-11-01 10:00:06 1tAAAA-000001-AA Completed");
  std::ofstream(dir.path + "/a") << log;
  std::ofstream(dir.path + "/b") << log.substr(cut);
  std::ofstream(dir.path + "/c") << log.substr(log.find("2026-11-01 10:20:00"));
  StoryOptions o;
  o.actor = ref("auth:sales@acme-shop.example");
  StoryResult apart = story_of({dir.path + "/c"}, o);
  EXPECT_TRUE(apart.warnings.empty());
  StoryResult overlapping = story_of({dir.path + "/a", dir.path + "/b"}, o);
  ASSERT_EQ(overlapping.warnings.size(), 1u);
  EXPECT_NE(overlapping.warnings[0].find(dir.path + "/b (2026-11-01 10:00:06 to 2026-11-01 10:20:01) overlaps " +
                                         dir.path + "/a"),
            std::string::npos)
      << overlapping.warnings[0];
}

// A log with zones is read in UTC: the story says so, in its text and JSON, as the report
// does; an admin grepping for 00:50 must know it is not the log's 02:50 +0200. The web
// requests beside a script's story are read in that clock too (logs_command.cc).
TEST(ActorStory, SaysItsTimesAreUtcWhenTheLogGivesZones) {
  std::string zoned =
      "2026-10-25 02:50:00 +0200 1tAAAA-000001-AA <= sales@acme-shop.example H=(pc) [203.0.113.9]:5001 "
      "P=esmtpa A=dovecot_login:sales@acme-shop.example S=2000 for a@one.test\n";
  StoryResult r;
  r.story = story(zoned, "auth:sales@acme-shop.example");
  EXPECT_TRUE(r.story.utc);
  EXPECT_EQ(r.story.first, *parse_civil("2026-10-25 00:50:00"));
  EXPECT_NE(story_text(r).find("\ntimes: UTC, from the zones the log gives"), std::string::npos) << story_text(r);
  EXPECT_EQ(story_json(r)["times"], "utc");
  std::string local = zoned;
  local.erase(local.find(" +0200"), 6);
  r.story = story(local, "auth:sales@acme-shop.example");
  EXPECT_FALSE(r.story.utc);
  EXPECT_EQ(story_text(r).find("times: UTC"), std::string::npos);
  EXPECT_EQ(story_json(r)["times"], "local");
}

}  // namespace
}  // namespace sw::stats
