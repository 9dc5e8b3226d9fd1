// Pure unit tests: facts, summary findings, selection, CIDR, check, exim reply parsing.
// Designated initializers name only the fields a test cares about.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>

#include <chrono>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <tuple>

#include "base/json_text.h"
#include "base/temp_dir.h"
#include "base/sha256.h"
#include "queue/actions.h"
#include "queue/bounce_mailboxes.h"
#include "queue/quarantine.h"
#include "queue/queue_check.h"
#include "base/text.h"
#include "queue/report_format.h"
#include "queue/selection.h"
#include "queue/spool_files.h"
#include "queue/summary.h"
#include "spool/spool_scanner.h"

namespace sw::queue {
namespace {

spool::SpoolHeader fixture(const std::string& name) {
  std::ifstream in(std::string(SW_SOURCE_DIR) + "/src/spool/testdata/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  spool::SpoolHeader header;
  EXPECT_TRUE(spool::parse_spool_header(buffer.str(), header).ok()) << name;
  return header;
}

MessageFacts facts_of(const spool::SpoolHeader& header, int64_t now) {
  MessageFacts facts;
  extract_facts(header, now, facts);
  return facts;
}

TEST(MessageFacts, ComeFromTheRealFixtures) {
  spool::SpoolHeader php = fixture("local-php.H");
  MessageFacts f = facts_of(php, php.received_time + 7200);
  EXPECT_EQ(f.script, "shop.example/wp-content/x.php");
  EXPECT_EQ(f.sender_domain, "shop.example");
  EXPECT_EQ(f.age_seconds, 7200);
  EXPECT_TRUE(f.local_submission);
  EXPECT_EQ(blamed_actor(f).first, "local_user");  // root ran sendmail: blame the login

  // Exim records the caller's login as -auth_id on local submissions: that is no SMTP AUTH.
  spool::SpoolHeader local = fixture("real-4.96/flat/input/1xV9s1-0003cB-2A-H");
  ASSERT_EQ(local.auth_id, "userx1");
  EXPECT_TRUE(facts_of(local, 0).auth_account.empty());
  ASSERT_EQ(f.recipient_domains.size(), 2u);

  MessageFacts bounce = facts_of(fixture("frozen-bounce.H"), 0);
  EXPECT_TRUE(bounce.bounce && bounce.frozen && bounce.exim_generated);
  EXPECT_EQ(bounce.sender, "<>");
  EXPECT_EQ(bounce.failed_recipient, "user@fail.test");

  MessageFacts smtp = facts_of(fixture("auth-smtp-dsn.H"), 0);
  EXPECT_EQ(blamed_actor(smtp), (std::pair<std::string_view, std::string_view>{"auth_account", "alice@cust.example"}));
  EXPECT_EQ(smtp.recipient_domains.size(), 2u);  // x.defer.test and z.defer.test (twice)
  EXPECT_EQ(smtp.pending_recipients, 3u);
}

// The summary reuses one MessageFacts for every message: nothing of the previous message may
// survive, and recipient domains group case-insensitively under their lower-case form.
TEST(MessageFacts, ReusedObjectMatchesAFreshOne) {
  auto tuple_of = [](const MessageFacts& f) {
    return std::make_tuple(f.auth_account, f.login, f.uid, f.sender, f.sender_domain, f.sender_local_part, f.client_ip,
                           f.helo, f.subject, f.script, f.failed_recipient, f.first_recipient, f.recipient_domains,
                           f.pending_recipients, f.age_seconds, f.frozen, f.bounce, f.exim_generated,
                           f.local_submission);
  };
  spool::SpoolHeader mixed = fixture("auth-smtp-dsn.H");
  mixed.recipients[0].address = "First@Mixed.Example";
  mixed.recipients[1].address = "b@MIXED.example";
  MessageFacts reused;
  for (const spool::SpoolHeader& h : {fixture("frozen-bounce.H"), fixture("auth-smtp-dsn.H"), fixture("local-php.H"),
                                      mixed, fixture("ipv6-null-sender.H"), fixture("frozen-bounce.H")}) {
    extract_facts(h, 1800000000, reused);
    EXPECT_EQ(tuple_of(reused), tuple_of(facts_of(h, 1800000000))) << h.id;
  }
  MessageFacts m = facts_of(mixed, 0);
  EXPECT_EQ(m.first_recipient, "first@mixed.example");
  ASSERT_FALSE(m.recipient_domains.empty());
  EXPECT_EQ(m.recipient_domains[0], (std::pair<std::string, size_t>{"mixed.example", 2}));
}

MessageFacts synthetic(std::string auth, std::string sender, size_t recipients, bool frozen = false) {
  MessageFacts f;
  f.auth_account = std::move(auth);
  f.sender = std::move(sender);
  f.bounce = f.sender == "<>";
  size_t at = f.sender.find('@');
  if (at != std::string::npos) {
    f.sender_domain = f.sender.substr(at + 1);
    f.sender_local_part = f.sender.substr(0, at);
  }
  f.login = "Debian-exim";
  f.client_ip = "192.0.2.1";
  f.pending_recipients = recipients;
  f.recipient_domains = {{"example.net", recipients}};
  f.frozen = frozen;
  return f;
}

std::string fake_id(size_t i) {
  char id[17];
  std::snprintf(id, sizeof id, "1xV9aw-%06zu-00", i);
  return id;
}

const Finding* find(const QueueReport& report, std::string_view kind, std::string_view actor) {
  for (const Finding& f : report.findings)
    if (f.kind == kind && f.actor == actor) return &f;
  return nullptr;
}

TEST(Summary, BodyBytesOnlyWhenEveryMessageWasSized) {
  Thresholds t;
  SummaryAccumulator sized(0, t), unsized(0, t), mixed(0, t);
  for (size_t i = 0; i < 3; ++i) {
    sized.add(fake_id(i), synthetic("a@x", "a@x", 1), 1000);
    unsized.add(fake_id(i), synthetic("a@x", "a@x", 1), -1);  // sizes not read
  }
  mixed.add(fake_id(9), synthetic("a@x", "a@x", 1), 1000);
  mixed.merge(unsized);
  QueueReport with = build_report(sized, t, 5), without = build_report(unsized, t, 5), part = build_report(mixed, t, 5);
  EXPECT_TRUE(with.body_bytes_known);
  EXPECT_EQ(with.body_bytes, 3000u);
  EXPECT_EQ(report_to_json(with)["body_bytes"], 3000);
  EXPECT_NE(report_to_text(with, "/s").find("3000 B of bodies"), std::string::npos) << report_to_text(with, "/s");
  EXPECT_FALSE(without.body_bytes_known);
  EXPECT_TRUE(report_to_json(without)["body_bytes"].is_null());
  EXPECT_EQ(report_to_text(without, "/s").find("of bodies"), std::string::npos);
  EXPECT_FALSE(part.body_bytes_known);  // a partial total would be a wrong total
  EXPECT_EQ(without.messages, 3u);
}

TEST(Summary, FindsTheDominantAccountAndManyRecipientMessages) {
  Thresholds t;
  SummaryAccumulator a(0, t), b(0, t);  // two "threads", merged like the scanner does
  for (size_t i = 0; i < 300; ++i) (i % 2 ? a : b).add(fake_id(i), synthetic("spammer@x", "spammer@x", 1), 100);
  for (size_t i = 300; i < 400; ++i) a.add(fake_id(i), synthetic("", "user" + std::to_string(i) + "@y", 1), 100);
  for (size_t i = 400; i < 405; ++i) b.add(fake_id(i), synthetic("bulk@z", "bulk@z", 50), 100);
  a.merge(b);
  QueueReport report = build_report(a, t, 5);
  EXPECT_EQ(report.messages, 405u);
  EXPECT_EQ(report.recipients, 300u + 100u + 250u);
  const Finding* dominant = find(report, "dominant_actor", "spammer@x");
  ASSERT_NE(dominant, nullptr);
  EXPECT_EQ(dominant->messages, 300u);
  EXPECT_EQ(dominant->ids.size(), t.sample_ids);
  EXPECT_EQ(dominant->ids.front(), fake_id(0));  // the sample keeps the oldest ids, whatever the thread
  EXPECT_EQ(find(report, "dominant_actor", "bulk@z"), nullptr);
  const Finding* many = find(report, "many_recipients", "bulk@z");
  ASSERT_NE(many, nullptr);
  EXPECT_EQ(many->messages, 5u);
  EXPECT_EQ(many->recipients, 250u);
  ASSERT_EQ(report.top_actors[size_t(ActorKind::auth_account)].size(), 2u);
  EXPECT_EQ(report.top_actors[size_t(ActorKind::auth_account)][0].key, "spammer@x");
  EXPECT_EQ(report.top_actors[size_t(ActorKind::sender)].size(), 5u);  // capped at top_n
  EXPECT_EQ(report.distinct_actors[size_t(ActorKind::sender)], 102u);
  EXPECT_NEAR(report.top_sender_share, 100.0 * 300 / 405, 0.01);
}

TEST(Summary, SmallQueuesDoNotTriggerShareFindings) {
  Thresholds t;
  SummaryAccumulator s(0, t);
  for (size_t i = 0; i < 10; ++i) s.add(fake_id(i), synthetic("one@x", "one@x", 1), 10);
  EXPECT_EQ(find(build_report(s, t, 5), "dominant_actor", "one@x"), nullptr);  // below the floor of 50
  t.dominant_floor = 5;
  EXPECT_NE(find(build_report(s, t, 5), "dominant_actor", "one@x"), nullptr);
}

TEST(Summary, BackscatterAndRandomSenders) {
  Thresholds t;
  SummaryAccumulator s(0, t);
  const char* randoms[] = {"xkqjzpwv", "qwrtzplk", "a8f3k2j9", "zzkxwvbt", "k3j4h5g6", "mvbxcnrt",
                           "pqwrtkls", "b7c8d9e0", "hjklmnbv", "tr5e4w3q", "wxcvbnmq"};
  size_t i = 0;
  for (const char* local : randoms) s.add(fake_id(i++), synthetic("", std::string(local) + "@victim.example", 1), 10);
  for (size_t k = 0; k < 12; ++k) {
    MessageFacts bounce = synthetic("", "<>", 1, k % 2 == 0);
    bounce.failed_recipient = "nobody@ourdomain.example";  // where the spam went
    bounce.first_recipient = "j.doe@forged.example";       // whom it forged, who gets the bounces
    s.add(fake_id(i++), bounce, 10);
  }
  QueueReport report = build_report(s, t, 5);
  const Finding* random = find(report, "random_sender_localparts", "victim.example");
  ASSERT_NE(random, nullptr);
  EXPECT_EQ(random->messages, 11u);
  // Keyed as `logs` keys it, by the address the bounces go to, with the same selection.
  EXPECT_EQ(find(report, "backscatter", "nobody@ourdomain.example"), nullptr);
  const Finding* backscatter = find(report, "backscatter", "j.doe@forged.example");
  ASSERT_NE(backscatter, nullptr);
  EXPECT_EQ(backscatter->messages, 12u);
  EXPECT_EQ(backscatter->actor_type, "bounce_recipient");
  EXPECT_EQ(selection_hint(*backscatter),
            (std::vector<std::string>{"--bounce", "--recipient", "j.doe@forged.example"}));
  EXPECT_EQ(report.bounces, 12u);
  EXPECT_EQ(report.frozen, 6u);
  nlohmann::json json = report_to_json(report);
  EXPECT_EQ(json["bounces"], 12);
  EXPECT_EQ(json["findings"].size(), report.findings.size());
  EXPECT_TRUE(json["actors"].contains("script"));
}

// 200 frozen bounces to one address in a queue of 10,000: 2% of it, under the share, and still
// backscatter by their number.
TEST(Summary, FrozenBouncesCountByTheirNumber) {
  Thresholds t;
  SummaryAccumulator s(0, t);
  size_t i = 0;
  for (; i < 9800; ++i) {
    MessageFacts m = synthetic("", fmt::format("u{}@far{}.example", i % 3000, i % 11), 1);
    m.first_recipient = "x@example.net";
    s.add(fake_id(i), m, 10);
  }
  for (; i < 10000; ++i) {
    MessageFacts bounce = synthetic("", "<>", 1, true);
    bounce.first_recipient = "somestranger@live.example";
    bounce.client_ip.clear();  // made here by Exim, of spam it accepted
    bounce.exim_generated = true;
    s.add(fake_id(i), bounce, 10);
  }
  QueueReport report = build_report(s, t, 5);
  const Finding* backscatter = find(report, "backscatter", "somestranger@live.example");
  ASSERT_NE(backscatter, nullptr);
  EXPECT_EQ(backscatter->messages, 200u);
  nlohmann::json json = report_to_json(report);
  bool cleanup = false;
  for (const auto& f : json["findings"])
    if (f["kind"] == "backscatter")
      cleanup = f["cleanup"] == "exiqgrep -i -f '^<>$' -r '^somestranger@live\\.example$' | xargs -r exim -Mrm";
  EXPECT_TRUE(cleanup) << json["findings"].dump();
}

// A queue of 60 frozen bounces to `to`, the i-th as `adjust` leaves it (from 192.0.2.1 unless
// it says otherwise).
QueueReport sixty_bounces_to(const std::string& to, const Thresholds& t,
                             const std::function<void(size_t, MessageFacts&)>& adjust) {
  SummaryAccumulator s(0, t);
  for (size_t i = 0; i < 60; ++i) {
    MessageFacts bounce = synthetic("", "<>", 1, true);
    bounce.first_recipient = to;
    adjust(i, bounce);
    s.add(fake_id(i), bounce, 10);
  }
  return build_report(s, t, 5);
}

// Bounces other servers sent to one of our users, waiting for local delivery: spam sent
// elsewhere forged the address. The finding says so, and offers no Exim cleanup (it would
// take the user's real bounces too); the listing is still offered, as `logs` does.
TEST(Summary, BouncesFromOtherServersAreOurUsersNotOursToClean) {
  Thresholds t;
  QueueReport report = sixty_bounces_to("info@acme.example", t, [](size_t, MessageFacts&) {});
  const Finding* backscatter = find(report, "backscatter", "info@acme.example");
  ASSERT_NE(backscatter, nullptr);
  EXPECT_EQ(backscatter->bounces_from_elsewhere, 60u);
  EXPECT_NE(backscatter->summary.find("all from other servers"), std::string::npos) << backscatter->summary;
  nlohmann::json json = report_to_json(report);
  for (const auto& f : json["findings"])
    if (f["kind"] == "backscatter") {
      EXPECT_FALSE(f.contains("cleanup")) << f.dump();
      EXPECT_EQ(f["bounces_from_elsewhere"], 60);
      EXPECT_TRUE(f.contains("queue_selection"));
    }
  EXPECT_EQ(report_to_text(report, "/var/spool/exim").find("exiqgrep"), std::string::npos);
  // Handed back by a content filter on this host, or relayed by a customer's authenticated
  // server: ours to clean up, not other servers'.
  QueueReport ours = sixty_bounces_to("victim@far.example", t, [](size_t i, MessageFacts& bounce) {
    if (i % 2) bounce.auth_account = "relay@customer.example";
    else bounce.client_ip = "127.0.0.1";
  });
  const Finding* relayed = find(ours, "backscatter", "victim@far.example");
  ASSERT_NE(relayed, nullptr);
  EXPECT_EQ(relayed->bounces_from_elsewhere, 0u);
  EXPECT_NE(report_to_text(ours, "/var/spool/exim").find("exiqgrep"), std::string::npos);
}

// A spool of twelve frozen bounces Exim made (the fixture's, under ids of their own), each
// with the msglog `msglog` gives it; their report.
QueueReport report_of_frozen_bounces(const std::function<std::string(size_t)>& msglog, size_t evidence_ids = 20) {
  std::ifstream in(std::string(SW_SOURCE_DIR) + "/src/spool/testdata/frozen-bounce.H", std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string header = buffer.str(), fixture_id = "1xV9dx-0001XQ-0j";
  TempDir spool("sw-bounces");
  std::filesystem::create_directories(spool.path + "/input");
  std::filesystem::create_directories(spool.path + "/msglog");
  for (size_t i = 0; i < 12; ++i) {
    std::string id = fmt::format("1xV9dx-0001{:02d}-0j", i), text = header;
    for (size_t at = text.find(fixture_id); at != std::string::npos; at = text.find(fixture_id, at))
      text.replace(at, fixture_id.size(), id);
    std::ofstream(spool.path + "/input/" + id + "-H") << text;
    std::ofstream(spool.path + "/input/" + id + "-D") << id << "-D\nbody\n";
    if (std::string log = msglog(i); !log.empty()) std::ofstream(spool.path + "/msglog/" + id) << log;
  }
  Thresholds t;
  t.sample_ids = evidence_ids;
  SummaryAccumulator s(0, t);
  spool::scan_messages(spool::list_spool(spool.path), {&s});
  note_bounces_into_mailboxes_here(s, spool.path, t.backscatter_floor);
  return build_report(s, t, 5);
}

// Bounces Exim made here to one of our users, frozen on its full mailbox (as the msglog says,
// not the -H file): the user's real bounces, not backscatter, as `logs` judges them; no
// cleanup that would remove them. The same bounces refused by a remote server are.
TEST(Summary, FrozenBouncesIntoAFullMailboxHereAreNotBackscatter) {
  auto attempt = [](const char* outcome) {
    return [outcome](size_t) {
      return fmt::format(
          "2026-11-22 15:38:17 Received from <> R=1xV9dx-0001XN-0W U=Debian-exim P=local S=1500\n"
          "2026-11-22 15:38:18 {}\n2026-11-22 15:38:18 *** Frozen (delivery error message)\n",
          outcome);
    };
  };
  // Exim 4.96 writes an attempt in the msglog without the main log's flag.
  QueueReport full = report_of_frozen_bounces(
      attempt("nobody@fail.test F=<> R=virtual_user T=dovecot_virtual_delivery: Mailbox quota exceeded"));
  EXPECT_EQ(full.bounces, 12u);
  EXPECT_EQ(find(full, "backscatter", "nobody@fail.test"), nullptr);
  QueueReport no_ids = report_of_frozen_bounces(
      attempt("nobody@fail.test F=<> R=virtual_user T=dovecot_virtual_delivery: Mailbox quota exceeded"), 0);
  EXPECT_EQ(find(no_ids, "backscatter", "nobody@fail.test"), nullptr) << "the ids shown are not the ids read";
  QueueReport remote = report_of_frozen_bounces(
      attempt("nobody@fail.test F=<> R=dnslookup T=remote_smtp H=mx.fail.test [192.0.2.9]: SMTP error from remote "
              "mail server after RCPT TO:<nobody@fail.test>: 550 no such user\n2026-11-22 15:38:18 H=mx.fail.test "
              "[192.0.2.9] SMTP error from remote mail server after RCPT TO:<nobody@fail.test>: 550 no such user"));
  EXPECT_NE(find(remote, "backscatter", "nobody@fail.test"), nullptr);
  QueueReport unlogged = report_of_frozen_bounces([](size_t) { return std::string(); });
  EXPECT_NE(find(unlogged, "backscatter", "nobody@fail.test"), nullptr) << "no msglog tells nothing";
  // One bounce of those whose msglogs are read (the oldest eight) tried into the mailbox is
  // enough; the others may have no msglog.
  QueueReport one = report_of_frozen_bounces([&](size_t i) {
    return i == 5 ? attempt("nobody@fail.test R=local_user T=local_delivery defer (-22): quota")(i) : "";
  });
  EXPECT_EQ(find(one, "backscatter", "nobody@fail.test"), nullptr);
}

TEST(Summary, MsglogOutcomesOnThisHostAreTold) {
  // As Exim 4.96 writes them (from a real spool): no flag after the timestamp.
  EXPECT_TRUE(msglog_shows_mailbox_here(
      "2026-12-07 13:28:48 Received from <> R=1xaYll-00029f-2z U=Debian-exim P=local S=1802\n"
      "2026-12-07 13:28:48 alice@lab.example R=virtual_user T=dovecot_virtual_delivery defer (-4): mailbox "
      "/var/mail/alice@lab.example has too many links (2)\n",
      "alice@lab.example"));
  EXPECT_TRUE(msglog_shows_mailbox_here(
      "2026-12-07 13:28:48.123 +0100 a@b <A@b> F=<> R=virtual_user T=virtual_userdelivery: quota\n", "a@b"));
  EXPECT_FALSE(msglog_shows_mailbox_here(
      "2026-12-07 13:28:49 victim@live.test F=<> R=lookuphost T=remote_smtp H=127.0.0.2 [127.0.0.2]: SMTP error "
      "from remote mail server after RCPT TO:<victim@live.test>: 550 5.1.1\n"
      "2026-12-07 13:28:49 H=127.0.0.2 [127.0.0.2] SMTP error from remote mail server after RCPT "
      "TO:<victim@live.test>: 550 5.1.1\n",
      "victim@live.test"));
  EXPECT_FALSE(msglog_shows_mailbox_here(
      "2026-12-07 13:28:48 victim@live.test R=lookuphost T=remote_smtp defer (-44) H=127.0.0.2 [127.0.0.2]: 451\n",
      "victim@live.test"));
  EXPECT_FALSE(msglog_shows_mailbox_here("2026-12-07 13:28:48 a@b T=local_delivery: no router named\n", "a@b"))
      << "an attempt names its router";
  // The main log's form, with the flag.
  EXPECT_TRUE(
      msglog_shows_mailbox_here("2026-11-22 15:38:18 ** a@b R=virtual_user T=dovecot_lmtp: over quota\n", "A@b"));
  EXPECT_FALSE(
      msglog_shows_mailbox_here("2026-11-22 15:38:18 ** a@b R=lookuphost T=remote_smtp H=mx [1.2.3.4]: x", "a@b"));
  EXPECT_FALSE(
      msglog_shows_mailbox_here("2026-11-22 15:38:18 ** a@b R=x T=remote_smtp: host lookup did not complete", "a@b"));
  EXPECT_FALSE(
      msglog_shows_mailbox_here("2026-11-22 15:38:17 Received from <> S=1 T=\"x => a@b T=local_delivery\"\n", "a@b"))
      << "a flag far into the line is some text's";
  // errors_copy's copy delivered to a postmaster here is not the bounce's target's mailbox.
  EXPECT_FALSE(msglog_shows_mailbox_here(
      "2026-11-22 15:38:18 => postmaster <postmaster@shop.example> R=system_aliases T=local_delivery\n"
      "2026-11-22 15:38:18 ** victim@live.example R=dnslookup T=remote_smtp H=mx [192.0.2.7]: 550 unknown\n",
      "victim@live.example"));
  EXPECT_FALSE(msglog_shows_mailbox_here("", "a@b"));
}

TEST(Summary, TextReportFitsOneHundredColumns) {
  Thresholds t;
  SummaryAccumulator s(0, t);
  s.add(fake_id(1), synthetic(std::string(300, 'a') + "@x", "s@y", 3), 10);
  std::string text = report_to_text(build_report(s, t, 5), "/var/spool/exim");
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;
}

// Frozen bounces moved to Finput/ are counted, and the finding says that neither the printed
// cleanup nor our actions reach them (Exim's -M options do not see them).
TEST(Summary, BackscatterSaysHowManyLieInFinput) {
  Thresholds t;
  QueueReport report = sixty_bounces_to("x@far.example", t, [](size_t i, MessageFacts& bounce) {
    bounce.client_ip.clear(), bounce.exim_generated = true;
    bounce.moved_frozen = i < 45;
  });
  const Finding* backscatter = find(report, "backscatter", "x@far.example");
  ASSERT_NE(backscatter, nullptr);
  EXPECT_EQ(backscatter->messages, 60u);
  EXPECT_NE(backscatter->summary.find("; 45 of them in Finput/ (move_frozen_messages)"), std::string::npos)
      << backscatter->summary;
}

// A finding's summary is wrapped, not cut: its end says why no cleanup is printed.
TEST(Summary, AFindingsWholeSummaryIsPrinted) {
  Thresholds t;
  const std::string to = "dave.with.a.rather.long.mailbox.name@live-example-mail.example";
  QueueReport report = sixty_bounces_to(to, t, [](size_t i, MessageFacts& bounce) {
    if (i % 3) bounce.client_ip.clear(), bounce.exim_generated = true;
  });
  const Finding* backscatter = find(report, "backscatter", to);
  ASSERT_NE(backscatter, nullptr);
  std::string text = report_to_text(report, "/var/spool/exim");
  EXPECT_NE(text.find("; 20 of them from\n     other servers\n"), std::string::npos) << text;
}

TEST(Selection, ConditionsCombineWithAnd) {
  spool::SpoolHeader smtp = fixture("auth-smtp-dsn.H");
  MessageFacts f = facts_of(smtp, smtp.received_time + 3600);
  auto matches = [&](SelectionArgs args) {
    std::string error;
    auto selection = compile_selection(args, &error);
    EXPECT_TRUE(selection) << error;
    return selection && matches_conditions(*selection, smtp, f) == ConditionMatch::yes;
  };
  EXPECT_TRUE(matches({.auth_id = "ALICE@cust.example"}));
  EXPECT_TRUE(matches({.auth_id = "alice@*", .client_ip = "192.0.2.0/24"}));
  EXPECT_FALSE(matches({.auth_id = "alice@*", .client_ip = "192.0.3.0/24"}));
  EXPECT_TRUE(matches({.sender_domain = "cust.example", .recipient = "r3@*"}));
  EXPECT_FALSE(matches({.recipient = "nobody@*"}));
  EXPECT_TRUE(matches({.subject = "^inv"}));
  EXPECT_TRUE(matches({.headers = {"X-Spam-Score: ^5\\."}}));
  EXPECT_FALSE(matches({.headers = {"X-Spam-Score: ^9"}}));
  EXPECT_TRUE(matches({.older_than = "30m"}));
  EXPECT_FALSE(matches({.younger_than = "30m"}));
  EXPECT_TRUE(matches({.min_recipients = 3}));
  EXPECT_FALSE(matches({.min_recipients = 4}));
  EXPECT_FALSE(matches({.frozen = true}));
  EXPECT_FALSE(matches({.bounce = true}));
  EXPECT_TRUE(matches({.helo = "HELO.example"}));
  EXPECT_FALSE(matches({.script = "x.php"}));

  spool::SpoolHeader php = fixture("local-php.H");
  MessageFacts pf = facts_of(php, 0);
  std::string error;
  auto by_script = compile_selection({.login = "root", .script = "wp-content/"}, &error);
  ASSERT_TRUE(by_script);
  EXPECT_EQ(matches_conditions(*by_script, php, pf), ConditionMatch::yes);
  // Deleted ('*') headers are not live: a regex on them must not match.
  auto deleted = compile_selection({.headers = {"X-Remove-Me: yes"}}, &error);
  EXPECT_EQ(matches_conditions(*deleted, php, pf), ConditionMatch::no);
}

// Exim's "%03d" before each header line in -H.
std::string fmt_header_length(size_t n) {
  std::string digits = std::to_string(n);
  return std::string(digits.size() < 3 ? 3 - digits.size() : 0, '0') + digits;
}

// The auth-smtp-dsn.H fixture, queued under `id` with `subject`: the bytes Exim would write.
std::string spool_header_with_subject(const std::string& id, const std::string& subject) {
  std::ifstream in(std::string(SW_SOURCE_DIR) + "/src/spool/testdata/auth-smtp-dsn.H", std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  std::string line = "Subject: " + subject + "\n";
  text.replace(text.find("017  Subject: Invoice\n"), 22, fmt_header_length(line.size()) + "  " + line);
  return id + "-H" + text.substr(text.find('\n'));
}

std::string hostile(size_t bytes, char c, std::string_view tail) { return std::string(bytes, c) + std::string(tail); }

ConditionMatch subject_match(const std::string& pattern, const std::string& subject, SelectionArgs args = {}) {
  spool::SpoolHeader header;
  EXPECT_TRUE(spool::parse_spool_header(spool_header_with_subject("1xV9dx-0001XH-0G", subject), header).ok());
  args.subject = pattern;
  std::string error;
  auto selection = compile_selection(args, &error);
  EXPECT_TRUE(selection) << error;
  return matches_conditions(*selection, header, facts_of(header, header.received_time));
}

// A 50 KB or 1 MB subject once overflowed the stack of std::regex ('hello.*zzz' recursed per
// character); catastrophic patterns must end at the match limit and say so, quickly.
TEST(Selection, HostileSubjectsAreSearchedOrReportedNotCrashedOn) {
  for (size_t size : {size_t(50'000), size_t(1'000'000)}) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(subject_match("hello.*zzz", "Hello " + hostile(size, 'x', "")), ConditionMatch::no) << size;
    EXPECT_EQ(subject_match("hello.*zzz", "Hello " + hostile(size, 'x', " ZZZ")), ConditionMatch::yes) << size;
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0) << size;
  }
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(subject_match("(a+)+$", hostile(100'000, 'a', "!")), ConditionMatch::not_checked);
  EXPECT_EQ(subject_match("(x+x+)+y", hostile(100'000, 'x', "!y")), ConditionMatch::not_checked);
  EXPECT_EQ(subject_match("(x+x+)+y", hostile(100'000, 'x', "y")), ConditionMatch::yes);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
  // Another condition that says no settles it: the message is simply not selected.
  EXPECT_EQ(subject_match("(a+)+$", hostile(100'000, 'a', "!"), {.frozen = true}), ConditionMatch::no);
  EXPECT_EQ(subject_match("(a+)+$", hostile(100'000, 'a', "!"), {.headers = {"X-Spam-Score: ^9"}}), ConditionMatch::no);
  EXPECT_EQ(subject_match("(a+)+$", hostile(100'000, 'a', "!"), {.headers = {"X-Spam-Score: ^5"}}),
            ConditionMatch::not_checked);
}

// Over real spool files: the message the pattern could not check is neither selected nor
// dropped silently, so that no action can touch it.
TEST(Selection, MessagesTheRegexCouldNotCheckAreCountedNotSelected) {
  TempDir spool;
  std::filesystem::create_directories(spool.path + "/input");
  auto queue = [&](const std::string& id, const std::string& subject) {
    std::ofstream(spool.path + "/input/" + id + "-H", std::ios::binary) << spool_header_with_subject(id, subject);
    std::ofstream(spool.path + "/input/" + id + "-D", std::ios::binary) << id << "-D\nbody\n";
  };
  queue("1xV9dx-0001XH-0A", hostile(100'000, 'a', "!"));
  queue("1xV9dx-0001XH-0B", "aaa");
  queue("1xV9dx-0001XH-0C", "bbb!");
  queue("1xV9dx-0001XH-0D", hostile(1'000'000, 'a', "!"));
  std::string error;
  auto selection = compile_selection({.subject = "(a+)+$"}, &error);
  ASSERT_TRUE(selection) << error;
  SelectionResult result = select_messages(spool.path, *selection, 0);
  ASSERT_EQ(result.messages.size(), 1u);
  EXPECT_EQ(result.messages[0].location.id, "1xV9dx-0001XH-0B");
  EXPECT_EQ(result.not_checked, (std::vector<std::string>{"1xV9dx-0001XH-0A", "1xV9dx-0001XH-0D"}));
  EXPECT_EQ(result.skipped_unreadable, 0u);
  EXPECT_EQ(describe_not_checked(result.not_checked, 1),
            "2 messages not checked: the pattern hit the match limit on them (1xV9dx-0001XH-0A ...)");
}

// A report's "see:" hint selects its finding's actor and no other: the key is a literal glob
// and the command survives the shell, whatever the key holds.
TEST(Selection, AFindingsHintSelectsExactlyItsActor) {
  Finding f{.kind = "dominant_actor", .actor_type = "auth_account", .actor = "o'brien*@x.example"};
  std::vector<std::string> hint = selection_hint(f);
  ASSERT_EQ(hint.size(), 2u);
  EXPECT_EQ(hint[0], "--auth-id");
  EXPECT_TRUE(glob_match(hint[1], "o'brien*@x.example"));
  EXPECT_FALSE(glob_match(hint[1], "o'brien.smith@x.example")) << "the star is the account's own";
  EXPECT_EQ(queue_list_command(hint), "spamwarden queue list --auth-id 'o'\\''brien[*]@x.example'");
  Finding script{.kind = "dominant_actor", .actor_type = "script", .actor = "/home/u/[old]/x.php"};
  std::string pattern = selection_hint(script).at(1);
  EXPECT_TRUE(glob_match(pattern, "/home/u/[old]/x.php")) << pattern;
  EXPECT_FALSE(glob_match(pattern, "/home/u/o/x.php")) << pattern;
  EXPECT_FALSE(glob_match(pattern, "/x/home/u/[old]/x.php")) << pattern;
  EXPECT_EQ(script_fragment_pattern("wp-content/"), "wp-content/") << "a plain fragment stays a fragment";
}

// A script finding that names its local user selects that user's mail of that script.
TEST(Selection, AScriptFindingsHintNamesItsLocalUser) {
  Finding f{.kind = "dominant_actor", .actor_type = "script", .actor = "1001:mailer.php", .local_user = "userx1"};
  EXPECT_EQ(selection_hint(f), (std::vector<std::string>{"--login", "userx1", "--script", "1001:mailer.php"}));
  f.local_user = std::string(kSeveralUsers);
  EXPECT_EQ(selection_hint(f), (std::vector<std::string>{"--script", "1001:mailer.php"}));
}

// --script UID:file.php is that uid's file, a bare file.php that file name, a path whole path
// components: never a longer uid, a longer name or a name inside another.
TEST(Selection, ScriptSelectsItsUidFileAndPathExactly) {
  auto matches = [](const std::string& pattern, const std::string& header) {
    std::string error;
    auto selection = compile_selection({.script = pattern}, &error);
    EXPECT_TRUE(selection) << error;
    MessageFacts facts;
    facts.script = header;
    return matches_conditions(*selection, spool::SpoolHeader{}, facts) == ConditionMatch::yes;
  };
  EXPECT_TRUE(matches("1001:mailer.php", "1001:mailer.php"));
  EXPECT_FALSE(matches("1001:mailer.php", "11001:mailer.php")) << "another uid";
  EXPECT_FALSE(matches("1001:mailer.php", "1001:mailer.php.old"));
  EXPECT_FALSE(matches("1001:mailer.php", "www.x.example/mailer.php"));
  EXPECT_TRUE(matches("mailer.php", "1001:mailer.php"));
  EXPECT_TRUE(matches("mailer.php", "www.x.example/forms/mailer.php"));
  EXPECT_FALSE(matches("mailer.php", "1001:old-mailer.php"));
  EXPECT_FALSE(matches("mailer.php", "1001:mailer.php.old"));
  EXPECT_TRUE(matches("forms/contact.php", "www.x.example/forms/contact.php"));
  EXPECT_TRUE(matches("www.x.example/forms/", "www.x.example/forms/contact.php"));
  EXPECT_TRUE(matches("wp-content/", "shop.example/wp-content/plugins/x.php"));
  EXPECT_FALSE(matches("forms/contact.php", "www.x.example/myforms/contact.php"));
  EXPECT_FALSE(matches("forms/contact.php", "www.x.example/forms/contact.php.bak"));
  EXPECT_TRUE(matches("1001:*.php", "1001:mailer.php")) << "a glob: the whole value";
  EXPECT_FALSE(matches("*mailer.php", "1001:mailer.php.old"));
}

// The hint is printed whole, however long the address: a command cut to the screen's width
// (it was, at 90 columns) selects nothing when pasted.
TEST(Selection, AFindingsHintIsPrintedWhole) {
  std::string address = std::string(100, 'a') + "@forged.example";
  QueueReport r;
  r.findings.push_back(Finding{.kind = "backscatter", .actor_type = "bounce_recipient", .actor = address});
  std::string text = report_to_text(r, "/s");
  EXPECT_NE(text.find("see: spamwarden queue list --bounce --recipient " + address + "\n"), std::string::npos) << text;
}

TEST(ScriptDirectory, HeadersNameAFileAndSometimesAUid) {
  ScriptHeaderFile originating = parse_script_header("1001:mailer.php");
  EXPECT_EQ(originating.uid, 1001);
  EXPECT_EQ(originating.file_name, "mailer.php");
  ScriptHeaderFile php = parse_script_header("www.shop.example:8080/forms/contact.php for 192.0.2.1");
  EXPECT_EQ(php.uid, std::nullopt);
  EXPECT_EQ(php.file_name, "contact.php");
  EXPECT_EQ(parse_script_header("1001:").file_name, "");
  EXPECT_EQ(parse_script_header("host:x.php").file_name, "host:x.php") << "no uid: the name as it is";
}

// The log names a script by its directory; the spool by "UID:file.php". --script DIR selects
// the mail whose header names a file beneath DIR, from DIR's owner.
TEST(ScriptDirectory, SelectsByTheFilesBeneathAndTheirOwner) {
  TempDir site("sw-site");
  std::filesystem::create_directories(site.path + "/wp/plugins");
  std::ofstream(site.path + "/wp/plugins/mailer.php") << "<?php\n";
  std::string error;
  auto dir = read_script_directory(site.path, &error);
  ASSERT_TRUE(dir) << error;
  const int64_t owner = int64_t(::getuid());
  EXPECT_TRUE(script_in_directory(*dir, std::to_string(owner) + ":mailer.php", 4242));
  EXPECT_FALSE(script_in_directory(*dir, std::to_string(owner + 1) + ":mailer.php", owner)) << "another uid's file";
  EXPECT_FALSE(script_in_directory(*dir, std::to_string(owner) + ":other.php", owner));
  EXPECT_TRUE(script_in_directory(*dir, "www.x.example/mailer.php for 192.0.2.1", owner));
  EXPECT_FALSE(script_in_directory(*dir, "www.x.example/mailer.php for 192.0.2.1", owner + 1));
  // A URL path with directories must lie beneath DIR; a bare name is evidence by name alone.
  EXPECT_EQ(script_evidence(*dir, "www.x.example/wp/plugins/mailer.php", owner), ScriptEvidence::by_path);
  EXPECT_EQ(script_evidence(*dir, "www.x.example/plugins/mailer.php", owner), ScriptEvidence::by_path);
  EXPECT_EQ(script_evidence(*dir, "www.x.example/other/mailer.php", owner), ScriptEvidence::none);
  EXPECT_EQ(script_evidence(*dir, "www.x.example/xplugins/mailer.php", owner), ScriptEvidence::none);
  EXPECT_EQ(script_evidence(*dir, std::to_string(owner) + ":mailer.php", owner), ScriptEvidence::by_file_name);

  auto selection = compile_selection({.script = site.path}, &error);
  ASSERT_TRUE(selection);
  ASSERT_TRUE(selection->script_directory);
  EXPECT_EQ(explain_empty_selection(*selection), "") << "a directory read here: an empty result is the answer";
  MessageFacts facts;
  facts.uid = owner;
  facts.script = std::to_string(owner) + ":mailer.php";
  EXPECT_EQ(matches_conditions(*selection, spool::SpoolHeader{}, facts), ConditionMatch::yes);
  // Matched by the file's name alone: said, since another site's copy would match as well.
  SelectedMessage by_name;
  by_name.script = facts.script;
  std::string note = describe_file_name_matches(*selection, {by_name});
  EXPECT_NE(note.find("matched by the script's file name under " + site.path +
                      ": mailer.php can also be another "
                      "site's copy"),
            std::string::npos)
      << note;
  SelectedMessage by_path;
  by_path.script = "www.x.example/wp/plugins/mailer.php";
  EXPECT_EQ(describe_file_name_matches(*selection, {by_path}), "");

  // A directory this machine does not have cannot be compared: an empty result says why.
  auto elsewhere = compile_selection({.script = site.path + "/gone"}, &error);
  ASSERT_TRUE(elsewhere);
  EXPECT_FALSE(elsewhere->script_directory);
  EXPECT_EQ(matches_conditions(*elsewhere, spool::SpoolHeader{}, facts), ConditionMatch::no);
  std::string why = explain_empty_selection(*elsewhere);
  EXPECT_NE(why.find("the spool records scripts as UID:file.php"), std::string::npos) << why;
  EXPECT_NE(why.find("use --login USER"), std::string::npos) << why;
  EXPECT_EQ(explain_empty_selection(*compile_selection({.script = "mailer.php"}, &error)), "");
}

// The queue speaks as logs and holds do: local_user (who ran sendmail, never Exim's own user),
// actor_type and actor in JSON, and a script's row says whose it is.
// A script talking SMTP to 127.0.0.1 on cPanel: Exim's own user handed it in; cPanel's header
// names the user behind the connection, whom `logs` names too and --login selects.
TEST(Facts, ACpanelUserBehindSmtpFromThisHost) {
  spool::SpoolHeader h = fixture("auth-smtp-dsn.H");
  h.host_auth.clear(), h.auth_id.clear();
  h.host_address.ip = "127.0.0.1";
  h.login = "mailnull";
  set_cpanel_host_name("server.host.example");
  h.headers.push_back(
      {' ', "X-Get-Message-Sender-Via: server.host.example: acl_c_authenticated_local_user: webuser/webuser\n"});
  MessageFacts f = facts_of(h, 0);
  EXPECT_EQ(f.local_user, "webuser");
  EXPECT_EQ(blamed_actor(f), (std::pair<std::string_view, std::string_view>{"local_user", "webuser"}));
  std::string error;
  auto by_login = compile_selection({.login = "webuser"}, &error);
  ASSERT_TRUE(by_login) << error;
  EXPECT_EQ(matches_conditions(*by_login, h, f), ConditionMatch::yes);

  // A second header of the same name (one a script wrote itself) names nobody; so does the
  // header on mail from elsewhere, or on a logged-in session (its account is who sent it).
  spool::SpoolHeader forged = h;
  forged.headers.insert(forged.headers.begin(), {' ',
                                                 "X-Get-Message-Sender-Via: server.host.example"
                                                 ": acl_c_authenticated_local_user: victim/victim\n"});
  EXPECT_EQ(facts_of(forged, 0).local_user, "");
  EXPECT_EQ(matches_conditions(*by_login, forged, facts_of(forged, 0)), ConditionMatch::no);
  spool::SpoolHeader remote = h;
  remote.host_address.ip = "203.0.113.5";
  EXPECT_EQ(facts_of(remote, 0).local_user, "");
  remote.interface_address.ip = "203.0.113.5";  // came in on the address it came from: this host
  EXPECT_EQ(facts_of(remote, 0).local_user, "webuser");

  // Another server's header, as a content filter hands its mail back over 127.0.0.1.
  spool::SpoolHeader reinjected = fixture("auth-smtp-dsn.H");
  reinjected.host_auth.clear(), reinjected.auth_id.clear(), reinjected.host_address.ip = "127.0.0.1";
  reinjected.headers.push_back(
      {' ', "X-Get-Message-Sender-Via: server.far.test: acl_c_authenticated_local_user: bob/bob\n"});
  EXPECT_EQ(facts_of(reinjected, 0).local_user, "");
  // Without cPanel no such header is this server's, whatever host it names.
  set_cpanel_host_name("");
  EXPECT_EQ(facts_of(h, 0).local_user, "");
  set_cpanel_host_name("server.host.example");

  EXPECT_EQ(cpanel_local_user("h: authenticated_id: box@site.example", "h"), "");
  EXPECT_EQ(cpanel_local_user("H: authenticated_local_user: u2/site.example", "h"), "u2");
  EXPECT_EQ(cpanel_local_user("h: authenticated_local_user: u2/site.example", "other"), "");
  EXPECT_EQ(cpanel_local_user("h: acl_c_authenticated_local_user: mailnull/mailnull", "h"), "");
  // A list post Mailman delivers, as cPanel marks it: no user's mail.
  EXPECT_EQ(cpanel_local_user("h: acl_c_authenticated_local_user: mailman/mailman", "h"), "");
  set_cpanel_host_name("");
}

TEST(Facts, AccountsAreKeyedLowerCasedAsLogsAndHoldsKeyThem) {
  spool::SpoolHeader smtp = fixture("auth-smtp-dsn.H");
  smtp.auth_id = "Alice@Cust.Example";
  EXPECT_EQ(facts_of(smtp, 0).auth_account, "alice@cust.example");
}

TEST(Summary, NamesActorsAsLogsAndHoldsDo) {
  Thresholds t;
  t.dominant_floor = 5;
  SummaryAccumulator s(0, t);
  for (size_t i = 0; i < 10; ++i) {
    MessageFacts local = synthetic("", "userx1@host.example", 1);
    local.login = local.local_user = "userx1", local.uid = 1001, local.local_submission = true, local.client_ip.clear();
    local.script = "1001:mailer.php";
    s.add(fake_id(i), local, -1);
  }
  s.add(fake_id(20), synthetic("a@x.example", "a@x.example", 1), -1);  // SMTP: owner Debian-exim
  QueueReport report = build_report(s, t, 10);
  nlohmann::json j = report_to_json(report);
  ASSERT_TRUE(j["actors"].contains("local_user")) << j.dump();
  EXPECT_FALSE(j["actors"].contains("login"));
  EXPECT_EQ(j["actors"]["local_user"].size(), 1u) << "Exim's own user ran no sendmail";
  EXPECT_EQ(j["actors"]["local_user"][0]["actor"], "userx1");
  EXPECT_FALSE(j["actors"]["local_user"][0].contains("key"));
  EXPECT_EQ(j["actors"]["script"][0]["local_user"], "userx1");
  EXPECT_EQ(j["top_sender"], "local_user:userx1");
  const Finding* by_user = find(report, "dominant_actor", "userx1");
  ASSERT_NE(by_user, nullptr);
  EXPECT_EQ(by_user->actor_type, "local_user");
  for (const auto& f : j["findings"]) {
    EXPECT_TRUE(f.contains("actor_type")) << f.dump();
    EXPECT_FALSE(f.contains("actor_kind")) << f.dump();
  }
  std::string text = report_to_text(report, "/s");
  EXPECT_NE(text.find("1001:mailer.php (local_user userx1)"), std::string::npos) << text;
  EXPECT_NE(text.find("Local users"), std::string::npos) << text;
}

TEST(Selection, BadArgumentsAreNamed) {
  std::string error;
  EXPECT_FALSE(compile_selection({.client_ip = "300.1.1.1/8"}, &error));
  EXPECT_NE(error.find("--client-ip"), std::string::npos);
  EXPECT_FALSE(compile_selection({.subject = "(unclosed"}, &error));
  EXPECT_EQ(error, "bad --subject regex '(unclosed' at offset 9: missing closing parenthesis");
  EXPECT_FALSE(compile_selection({.headers = {"no colon"}}, &error));
  EXPECT_FALSE(compile_selection({.older_than = "soon"}, &error));
  auto ids_only = compile_selection({.ids = {"1xV9aw-0001E5-23"}}, &error);
  ASSERT_TRUE(ids_only);
  EXPECT_FALSE(ids_only->has_conditions());
  EXPECT_FALSE(ids_only->selects_everything());
}

TEST(QueueCheck, GradesEachThresholdAndPrintsPerfdata) {
  QueueReport r;
  r.messages = 60, r.frozen = 2, r.bounces = 1, r.oldest_age = 7200;
  r.top_sender = "auth_account:a@x", r.top_sender_share = 80;
  CheckThresholds t{.warn_total = 50, .crit_total = 100};
  CheckResult result = evaluate_queue_check(r, t);
  EXPECT_EQ(result.status, kNagiosWarning);
  EXPECT_TRUE(result.line.starts_with("QUEUE WARNING - 60 messages queued | queue=60;50;100;0; frozen=2;;;0;"))
      << result.line;
  EXPECT_NE(result.line.find("oldest=7200s"), std::string::npos);
  EXPECT_NE(result.line.find("top_sender_share=80.0%"), std::string::npos);
  t.crit_age = 3600;
  EXPECT_EQ(evaluate_queue_check(r, t).status, kNagiosCritical);
  t = {.warn_total = 100, .crit_total = 200, .warn_share = 50.0};
  EXPECT_EQ(evaluate_queue_check(r, t).status, kNagiosWarning);
  r.messages = 10;  // below share_min_messages: a share of a tiny queue is noise
  EXPECT_EQ(evaluate_queue_check(r, t).status, kNagiosOk);
  r.unreadable = 1;
  EXPECT_EQ(evaluate_queue_check(r, t).status, kNagiosWarning);
}

// The top sender is whatever the spool holds: a '|' in it would start the perfdata early and
// a line end would cut the plugin's output.
TEST(QueueCheck, ASenderCannotBreakThePluginLine) {
  QueueReport r;
  r.messages = 200, r.top_sender = "sender:\"a|b=1;;;\nX\"@x.example", r.top_sender_share = 90;
  CheckResult result = evaluate_queue_check(r, CheckThresholds{.warn_share = 50.0});
  EXPECT_EQ(result.status, kNagiosWarning);
  EXPECT_EQ(std::count(result.line.begin(), result.line.end(), '|'), 1) << result.line;
  EXPECT_EQ(result.line.find('\n'), std::string::npos) << result.line;
  EXPECT_NE(result.line.find("a/b=1;;;?X"), std::string::npos) << result.line;
}

TEST(EximActions, RepliesAreMatchedPerId) {
  std::string output =
      "Message 1xV9aw-0001E5-23 has been removed\n"
      "Spool data file for 1xV9aw-0001XX-23 does not exist\nContinuing, to ensure all files removed\n"
      "Message 1xV9aw-0001XX-23 has been removed or did not exist\n";
  auto outcomes =
      parse_action_output(EximAction::remove, {"1xV9aw-0001E5-23", "1xV9aw-0001XX-23", "1xV9aw-0001YY-23"}, output);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[0].ok);
  EXPECT_FALSE(outcomes[1].ok);
  EXPECT_FALSE(outcomes[2].ok);
  auto frozen =
      parse_action_output(EximAction::freeze, {"1xV9aw-0001E5-23"}, "Message 1xV9aw-0001E5-23 is now frozen\n");
  EXPECT_TRUE(frozen[0].ok);
  auto locked = parse_action_output(EximAction::freeze, {"1xV9aw-0001E5-23"}, "Message 1xV9aw-0001E5-23 is locked\n");
  EXPECT_FALSE(locked[0].ok);
}

}  // namespace
}  // namespace sw::queue

namespace sw::queue {
namespace {

// A manifest is how quarantined mail gets back into the queue: its paths and notes must come
// back byte for byte, UTF-8 or not (a Latin-1 --subject pattern, an odd spool path).
TEST(Quarantine, ManifestKeepsBytesThatAreNotUtf8) {
  Manifest m{"20261122-154406-1",
             "2026-11-22T15:44:06Z",
             "root",
             "/var/spool/exim\xe9",
             "--subject 'Bestellbest\xe4tigung'",
             {}};
  QuarantinedMessage message{"1vYQHI-0003Yc-Mw", true, false, "exim said: caf\xe9", {}};
  message.files.push_back(
      {"H", "/var/spool/exim\xe9/input/1vYQHI-0003Yc-Mw-H", "1vYQHI-0003Yc-Mw-H", 812, 0640, 8, 8, "ab12"});
  m.messages.push_back(message);
  std::string text = json_text(manifest_to_json(m), 2);
  EXPECT_EQ(text.find("\xef\xbf\xbd"), std::string::npos) << "nothing replaced";
  Manifest back;
  std::string error;
  ASSERT_TRUE(manifest_from_json(nlohmann::json::parse(text), back, &error)) << error;
  EXPECT_EQ(back.spool_dir, m.spool_dir);
  EXPECT_EQ(back.selection, m.selection);
  ASSERT_EQ(back.messages.size(), 1u);
  EXPECT_EQ(back.messages[0].note, message.note);
  ASSERT_EQ(back.messages[0].files.size(), 1u);
  EXPECT_EQ(back.messages[0].files[0].original_path, message.files[0].original_path);
  EXPECT_EQ(back.messages[0].files[0].size, 812u);
}

// A batch directory can be named by any path, and its manifest is just a file: restore (run
// as root) must only ever write a message's own spool files, into the manifest's spool, with
// a spool file's mode and the spool's owner.
TEST(Quarantine, RestoreWritesOnlyTheMessagesOwnSpoolFiles) {
  TempDir spool, batch_dir, elsewhere;
  ASSERT_EQ(::mkdir((spool.path + "/input").c_str(), 0750), 0);
  struct stat st {};
  ASSERT_EQ(::stat(spool.path.c_str(), &st), 0);
  const std::string id = "1vYQHI-0003Yc-Mw", body = "1vYQHI-0003Yc-Mw-D\nhello\n";
  std::ofstream(batch_dir.path + "/" + id + ".D") << body;
  auto attempt = [&](const std::string& original_path, uint32_t mode) {
    QuarantinedFile file{"D",  original_path,       id + ".D",           body.size(),
                         mode, uint32_t(st.st_uid), uint32_t(st.st_gid), sha256_hex(body)};
    Manifest m{"b", "2026-11-22T15:44:06Z", "root", spool.path, "--all", {{id, true, false, "", {file}}}};
    std::ofstream(batch_dir.path + "/manifest.json") << json_text(manifest_to_json(m), 2);
    return restore_batch("/nonexistent-state", batch_dir.path, spool.path);
  };

  RestoreResult outside = attempt(elsewhere.path + "/evil", 0640);
  EXPECT_EQ(outside.restored, 0u);
  ASSERT_EQ(outside.problems.size(), 1u);
  EXPECT_NE(outside.problems[0].find("is not where this message's spool file lives"), std::string::npos)
      << outside.problems[0];
  EXPECT_FALSE(std::filesystem::exists(elsewhere.path + "/evil"));

  RestoreResult setuid = attempt(spool.path + "/input/" + id + "-D", 04755);
  EXPECT_EQ(setuid.restored, 0u);
  ASSERT_EQ(setuid.problems.size(), 1u);
  EXPECT_NE(setuid.problems[0].find("mode 4755"), std::string::npos) << setuid.problems[0];

  RestoreResult other_id = attempt(spool.path + "/input/1vYQHI-0003Yc-Zz-D", 0640);
  EXPECT_EQ(other_id.restored, 0u) << "another message's name";

  RestoreResult fine = attempt(spool.path + "/input/" + id + "-D", 0640);
  EXPECT_EQ(fine.restored, 1u) << (fine.problems.empty() ? fine.error : fine.problems[0]);
  std::ifstream back(spool.path + "/input/" + id + "-D");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(back), {}), body);
}

// What a restore of one quarantined -D file into `spool` needs: the batch directory with the
// stored file and a manifest naming `manifest_spool` as the message's spool.
struct CraftedBatch {
  TempDir dir;
  std::string id = "1vYQHI-0003Yc-Mw", body = "1vYQHI-0003Yc-Mw-D\nhello\n";

  void write(const std::string& manifest_spool, const std::string& relative_path, uint32_t uid, uint32_t gid) {
    std::ofstream(dir.path + "/" + id + ".D") << body;
    QuarantinedFile file{
        "D", manifest_spool + "/" + relative_path, id + ".D", body.size(), 0640, uid, gid, sha256_hex(body)};
    Manifest m{"b", "2026-11-22T15:44:06Z", "root", manifest_spool, "--all", {{id, true, false, "", {file}}}};
    std::ofstream(dir.path + "/manifest.json") << json_text(manifest_to_json(m), 2);
  }
};

struct stat stat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

size_t entries_in(const std::string& dir) {
  return size_t(std::distance(std::filesystem::recursive_directory_iterator(dir), {}));
}

std::string contents_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// restore runs as root and writes what the manifest says: a batch anyone else could have
// written (its directory or manifest not root's, or writable by group or others, or a
// manifest that is a symbolic link) is refused as a whole before anything is written.
TEST(Quarantine, RestoreRefusesABatchItDoesNotTrust) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
  TempDir spool;
  ASSERT_EQ(::mkdir((spool.path + "/input").c_str(), 0750), 0);
  struct stat st = stat_of(spool.path);
  CraftedBatch batch;
  batch.write(spool.path, "input/" + batch.id + "-D", st.st_uid, st.st_gid);
  const std::string manifest = batch.dir.path + "/manifest.json";
  auto refused = [&](const std::string& why) {
    RestoreResult r = restore_batch("/nonexistent-state", batch.dir.path, spool.path);
    EXPECT_EQ(r.restored, 0u) << why;
    EXPECT_NE(r.error.find(why), std::string::npos) << r.error;
    EXPECT_FALSE(std::filesystem::exists(spool.path + "/input/" + batch.id + "-D")) << why;
  };

  ASSERT_EQ(::chown(batch.dir.path.c_str(), 65534, 65534), 0);  // nobody
  refused("is owned by uid 65534, not by uid 0");
  ASSERT_EQ(::chown(batch.dir.path.c_str(), 0, 0), 0);
  ASSERT_EQ(::chown(manifest.c_str(), 65534, 65534), 0);
  refused("manifest.json is owned by uid 65534");
  ASSERT_EQ(::chown(manifest.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(batch.dir.path.c_str(), 0770), 0);
  refused("is writable by group or others (mode 770)");
  ASSERT_EQ(::chmod(batch.dir.path.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(manifest.c_str(), 0646), 0);
  refused("is writable by group or others (mode 646)");
  ASSERT_EQ(::chmod(manifest.c_str(), 0600), 0);
  ASSERT_EQ(::rename(manifest.c_str(), (batch.dir.path + "/real.json").c_str()), 0);
  ASSERT_EQ(::symlink("real.json", manifest.c_str()), 0);
  refused("is a symbolic link");
  ASSERT_EQ(::unlink(manifest.c_str()), 0);
  ASSERT_EQ(::rename((batch.dir.path + "/real.json").c_str(), manifest.c_str()), 0);

  RestoreResult fine = restore_batch("/nonexistent-state", batch.dir.path, spool.path);
  EXPECT_EQ(fine.restored, 1u) << fine.error;
}

// The target spool is the one restore is given (the Exim's), never the manifest's: a batch
// naming another directory as its spool ("/etc", a user's /tmp) is refused, and nothing is
// created there.
TEST(Quarantine, RestoreRefusesABatchFromAnotherSpool) {
  TempDir spool, elsewhere;
  ASSERT_EQ(::mkdir((spool.path + "/input").c_str(), 0750), 0);
  struct stat st = stat_of(spool.path);
  CraftedBatch batch;
  batch.write(elsewhere.path, "input/" + batch.id + "-D", st.st_uid, st.st_gid);
  RestoreResult r = restore_batch("/nonexistent-state", batch.dir.path, spool.path);
  EXPECT_EQ(r.restored, 0u);
  EXPECT_NE(r.error.find("refused: the batch was taken from the spool " + elsewhere.path), std::string::npos)
      << r.error;
  EXPECT_EQ(entries_in(elsewhere.path), 0u) << "no input/ or msglog/ created outside the spool";
  EXPECT_EQ(entries_in(spool.path + "/input"), 0u);
}

// Inside the right spool, a symbolic link on the way (input -> another directory, a split
// subdirectory, msglog) is never followed: the message is not restored and nothing is
// written through the link.
TEST(Quarantine, RestoreFollowsNoSymbolicLinkInTheSpool) {
  TempDir spool, elsewhere;
  struct stat st = stat_of(spool.path);
  CraftedBatch batch;
  auto attempt = [&](const std::string& relative) {
    batch.write(spool.path, relative, st.st_uid, st.st_gid);
    return restore_batch("/nonexistent-state", batch.dir.path, spool.path);
  };
  ASSERT_EQ(::symlink(elsewhere.path.c_str(), (spool.path + "/input").c_str()), 0);
  RestoreResult linked_input = attempt("input/" + batch.id + "-D");
  EXPECT_EQ(linked_input.restored, 0u);
  ASSERT_EQ(linked_input.problems.size(), 1u) << linked_input.error;
  EXPECT_NE(linked_input.problems[0].find(spool.path + "/input is a symbolic link or lies behind one: not followed"),
            std::string::npos)
      << linked_input.problems[0];

  ASSERT_EQ(::unlink((spool.path + "/input").c_str()), 0);
  ASSERT_EQ(::mkdir((spool.path + "/input").c_str(), 0750), 0);
  const std::string split = "input/" + batch.id.substr(5, 1);  // the split subdirectory
  ASSERT_EQ(::symlink(elsewhere.path.c_str(), (spool.path + "/" + split).c_str()), 0);
  RestoreResult linked_split = attempt(split + "/" + batch.id + "-D");
  EXPECT_EQ(linked_split.restored, 0u);
  ASSERT_EQ(linked_split.problems.size(), 1u) << linked_split.error;
  EXPECT_NE(linked_split.problems[0].find("symbolic link"), std::string::npos) << linked_split.problems[0];
  EXPECT_EQ(entries_in(elsewhere.path), 0u) << "nothing written through a link";

  // A missing split subdirectory is created, owned like the spool, and the file lands in it.
  ASSERT_EQ(::unlink((spool.path + "/" + split).c_str()), 0);
  RestoreResult fine = attempt(split + "/" + batch.id + "-D");
  EXPECT_EQ(fine.restored, 1u) << (fine.problems.empty() ? fine.error : fine.problems[0]);
  EXPECT_TRUE(S_ISDIR(stat_of(spool.path + "/" + split).st_mode));
  EXPECT_EQ(contents_of(spool.path + "/" + split + "/" + batch.id + "-D"), batch.body);
}

// Sizes, modes and owners are whole numbers that fit: a float or negative value is a damaged
// (or crafted) manifest, not a mode to convert (4e16 into 32 bits is undefined behaviour).
TEST(Quarantine, ManifestNumbersAreWholeAndInRange) {
  Manifest m{"b", "2026-11-22T15:44:06Z", "root", "/var/spool/exim4", "--all", {}};
  m.messages.push_back(
      {"1vYQHI-0003Yc-Mw",
       true,
       false,
       "",
       {{"D", "/var/spool/exim4/input/1vYQHI-0003Yc-Mw-D", "1vYQHI-0003Yc-Mw.D", 24, 0640, 101, 101, "ab"}}});
  nlohmann::json good = manifest_to_json(m);
  Manifest back;
  std::string error;
  ASSERT_TRUE(manifest_from_json(good, back, &error)) << error;
  for (auto [key, value] : {std::pair<const char*, nlohmann::json>{"mode", 4e16},
                            {"mode", 416.5},
                            {"uid", -1},
                            {"gid", 4294967296u},
                            {"size", "24"}}) {
    nlohmann::json bad = good;
    bad["messages"][0]["files"][0][key] = value;
    EXPECT_FALSE(manifest_from_json(bad, back, &error)) << key << " " << value;
    EXPECT_NE(error.find("bad manifest"), std::string::npos) << error;
  }
}

// open_beneath's answers for a directory holding a file, a linked directory and a linked
// file: 0 when all are right, else the number of the first wrong one.
int open_beneath_mistakes(const std::string& root) {
  Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto refused = [&](const char* path, int flags, int expected_errno) {
    Fd fd(open_beneath(dir.get(), path, flags));
    return !fd.valid() && errno == expected_errno;
  };
  if (!Fd(open_beneath(dir.get(), "input/x", O_RDONLY | O_CLOEXEC)).valid()) return 1;
  if (!refused("linked/x", O_RDONLY | O_CLOEXEC, ELOOP)) return 2;
  if (!refused("input/linked-x", O_RDONLY | O_CLOEXEC, ELOOP)) return 3;
  if (!refused("linked", O_RDONLY | O_DIRECTORY | O_CLOEXEC, ELOOP)) return 4;
  if (!refused("input/../input/x", O_RDONLY | O_CLOEXEC, EINVAL)) return 5;
  if (!refused("/etc/passwd", O_RDONLY | O_CLOEXEC, EINVAL)) return 6;
  return 0;
}

// Links are refused the same way through openat2 and, where the kernel lacks it (here: a
// seccomp filter answering ENOSYS), through the O_NOFOLLOW walk.
TEST(SpoolFiles, OpenBeneathFollowsNoLinkWithOrWithoutOpenat2) {
  TempDir root, elsewhere;
  ASSERT_EQ(::mkdir((root.path + "/input").c_str(), 0750), 0);
  std::ofstream(root.path + "/input/x") << "x";
  std::ofstream(elsewhere.path + "/x") << "secret";
  ASSERT_EQ(::symlink(elsewhere.path.c_str(), (root.path + "/linked").c_str()), 0);
  ASSERT_EQ(::symlink((elsewhere.path + "/x").c_str(), (root.path + "/input/linked-x").c_str()), 0);
  EXPECT_EQ(open_beneath_mistakes(root.path), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program = {sizeof filter / sizeof filter[0], filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
      ::_exit(10);
    ::_exit(open_beneath_mistakes(root.path));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: seccomp; else the number of the wrong answer without openat2";
}

TEST(EximActions, SpoolDirectoryReply) {
  EXPECT_EQ(parse_spool_directory_reply("spool_directory = /var/spool/exim4\n"), "/var/spool/exim4");
  EXPECT_EQ(parse_spool_directory_reply("2026-11-22 warning: x\nspool_directory = /s p\n"), "/s p");
  EXPECT_EQ(parse_spool_directory_reply("spool_directory = \n"), std::nullopt);
  EXPECT_EQ(parse_spool_directory_reply("exim: permission denied\n"), std::nullopt);
}

}  // namespace
}  // namespace sw::queue
