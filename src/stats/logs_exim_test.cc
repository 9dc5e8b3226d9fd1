// spamwarden logs against main logs a real Exim wrote: each incident kind is played through
// a throwaway exim4 (testing/eximlab) and must come out as the right finding with the right
// numbers; ordinary traffic must not.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>

#include "base/temp_dir.h"
#include "base/test_files.h"
#include "eximlab.h"
#include "stats/actor_story.h"
#include "stats/scan_logs.h"

namespace sw::stats {
namespace {

using sw::testing::EximLab;

const Finding* find(const std::vector<Finding>& v, const std::string& kind, const std::string& actor) {
  for (const auto& f : v)
    if (f.kind == kind && f.actor == actor) return &f;
  return nullptr;
}

// The lab's own count from a scenario's one-line summary ("... rcpt_rejected=200 ..."): what
// Exim really saw, which under load can differ from what was asked for.
uint64_t lab_count(const std::string& summary, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(summary, m, std::regex(key + "=(\\d+)"))) return UINT64_MAX;
  return std::stoull(m[1]);
}

const ActorStats* actor(const Forensics& f, ActorKind k, const std::string& key) {
  for (const auto& a : f.table(k).all())
    if (a.key == key) return &a;
  return nullptr;
}

class LogsOnRealExim : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!EximLab::available(&why)) GTEST_SKIP() << "no Exim lab here: " << why;
  }
  static ScanResult scan(const EximLab& lab) { return scan_logs({lab.mainlog()}, ScanOptions{}); }
};

TEST_F(LogsOnRealExim, EveryIncidentKindIsFoundWithItsNumbers) {
  EximLab lab({.pid = true, .split_spool = false, .acl_includes = {}});
  const std::string script_dir = "/home/userx1/public_html/wp-content/plugins/contact-form";
  lab.play("normal", {"--count", "30"});
  lab.play("script-burst", {"--user", "userx1", "--dir", script_dir, "--count", "120"});
  lab.play("auth-burst", {"--account", "sales@acme-shop.example", "--from-ip", "127.0.0.66", "--count", "4", "--rcpts",
                          "225", "--failed-logins", "10"});
  std::string dictionary = lab.play("dictionary", {"--from-ip", "127.0.0.99", "--count", "200", "--hit-pct", "0"});
  lab.play("auth-bruteforce", {"--from-ip", "127.0.0.77", "--count", "40"});
  // 100 spoofed senders: about two thirds look random, well clear of the 30-sender floor.
  lab.play("random-senders", {"--domain", "smile-dental.example", "--count", "100", "--seed", "7"});
  lab.play("backscatter", {"--victim", "j.doe@victim-corp.defer.test", "--count", "30"});
  lab.settle();

  ScanResult r = scan(lab);
  const Forensics& f = *r.forensics;
  const auto& findings = r.report.findings;
  EXPECT_EQ(f.lines().unparsed, 0u);
  EXPECT_TRUE(f.saw_pid());

  const ActorStats* script = actor(f, ActorKind::Script, script_dir);
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->messages, 120u);
  EXPECT_GE(script->recipients, 120u);
  const Finding* s = find(findings, "spamming_script", script_dir);
  ASSERT_NE(s, nullptr) << "script burst not found";
  EXPECT_EQ(s->messages, 120u);

  const Finding* acc = find(findings, "compromised_account", "sales@acme-shop.example");
  ASSERT_NE(acc, nullptr);
  EXPECT_EQ(acc->messages, 4u);
  EXPECT_EQ(acc->recipients, 900u);
  EXPECT_GE(acc->events, 10u);  // failed logins for it (the brute-forcer may try it too)
  ASSERT_FALSE(acc->client_ips.empty());
  EXPECT_EQ(acc->client_ips[0], "127.0.0.66");

  const Finding* dict = find(findings, "dictionary_attack", "127.0.0.99");
  ASSERT_NE(dict, nullptr);
  EXPECT_EQ(dict->events, lab_count(dictionary, "rcpt_rejected")) << dictionary;
  EXPECT_GE(dict->events, 150u);

  const Finding* brute = find(findings, "auth_bruteforce", "127.0.0.77");
  ASSERT_NE(brute, nullptr);
  EXPECT_EQ(brute->events, 40u);

  EXPECT_NE(find(findings, "random_sender_localparts", "smile-dental.example"), nullptr);
  const Finding* bs = find(findings, "backscatter", "j.doe@victim-corp.defer.test");
  ASSERT_NE(bs, nullptr);
  EXPECT_EQ(bs->events, 30u);

  // The report's next step for the script, run as printed against the real spool: it selects
  // the script's mail still queued there (deferred by the lab's "internet"), and only that.
  auto report = report_json(r.report, ReportOptions{});
  std::vector<std::string> list = {
      std::string(SW_BINARY_DIR) + "/spamwarden", "queue", "list", "--json", "--spool", lab.spool_dir()};
  for (const auto& x : report["findings"])
    if (x["kind"] == "spamming_script" && x["actor"] == script_dir)
      for (const auto& arg : x["queue_selection"]) list.push_back(arg);
  ASSERT_EQ(list.size(), 10u) << report["findings"].dump();
  auto listed = sw::testing::run_command(list);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  auto queued = nlohmann::json::parse(listed.out);
  EXPECT_GE(queued.size(), 1u) << listed.out;
  for (const auto& m : queued) EXPECT_EQ(m["sender"], "userx1@host.lab.example") << m.dump();

  // The shop and the ordinary users are not findings.
  for (const auto& x : findings) {
    EXPECT_EQ(x.actor.find("shopuser"), std::string::npos) << x.summary;
    EXPECT_NE(x.actor, "orders@acme-shop.example") << x.summary;
  }
}

TEST_F(LogsOnRealExim, WithoutPidScriptsAreStillAttributed) {
  EximLab lab({.pid = false, .split_spool = true, .acl_includes = {}});
  const std::string script_dir = "/home/userx2/public_html/wp-content/uploads/2024/03";
  lab.play("script-burst", {"--user", "userx2", "--dir", script_dir, "--count", "110"});
  lab.play("normal", {"--count", "20"});
  lab.settle();
  ScanResult r = scan(lab);
  EXPECT_FALSE(r.forensics->saw_pid());
  const ActorStats* script = actor(*r.forensics, ActorKind::Script, script_dir);
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->messages, 110u);
  EXPECT_NE(find(r.report.findings, "spamming_script", script_dir), nullptr);
}

// One actor's story from a log a real Exim wrote: the account's messages with their ids as the
// spool and log name them, its failed logins and its client IP; a script's by its cwd= lines.
TEST_F(LogsOnRealExim, ActorStoryOfAnAccountAndAScript) {
  EximLab lab({.pid = true, .split_spool = false, .acl_includes = {}});
  const std::string script_dir = "/home/userx1/public_html/wp-content/plugins/contact-form";
  lab.play("normal", {"--count", "20"});
  lab.play("auth-burst", {"--account", "sales@acme-shop.example", "--from-ip", "127.0.0.66", "--count", "4", "--rcpts",
                          "25", "--failed-logins", "10"});
  lab.play("script-burst", {"--user", "userx1", "--dir", script_dir, "--count", "12"});
  lab.settle();
  StoryOptions o;
  o.actor = *detect::parse_actor_ref("auth:Sales@Acme-Shop.example");
  std::vector<std::string> lines;
  o.sink = [&](std::string_view l) { lines.emplace_back(l); };
  StoryResult account = story_of({lab.mainlog()}, o);
  EXPECT_EQ(account.story.messages, 4u);
  EXPECT_EQ(account.story.recipients, 100u);
  EXPECT_GE(account.story.failed_logins, 10u);
  EXPECT_EQ(account.story.client_ips.at("127.0.0.66"), 4u);
  EXPECT_EQ(account.story.refused_ips.at("127.0.0.66"), account.story.failed_logins);
  ASSERT_EQ(account.story.message_ids.size(), 4u);
  // Its outcomes are the outcome lines the log has for its ids (a delivery may still be under
  // way when the lab settles, so not necessarily one per recipient).
  std::istringstream log(sw::testing::read_file(lab.mainlog()));
  size_t outcomes = 0;
  for (std::string l; std::getline(log, l);)
    for (const auto& id : account.story.message_ids)
      if (l.find(id + " => ") != std::string::npos || l.find(id + " -> ") != std::string::npos ||
          l.find(id + " == ") != std::string::npos || l.find(id + " ** ") != std::string::npos)
        ++outcomes;
  EXPECT_EQ(account.story.delivered + account.story.deferred + account.story.failed, outcomes);
  EXPECT_GE(outcomes, 4u);
  for (const auto& id : account.story.message_ids) {
    size_t of_id = 0;
    for (const auto& l : lines) of_id += l.find(id) != std::string::npos;
    EXPECT_GE(of_id, 2u) << id << ": its arrival and what became of it";
  }
  o.actor = *detect::parse_actor_ref("script:" + script_dir);
  o.sink = nullptr;
  StoryResult script = story_of({lab.mainlog()}, o);
  EXPECT_EQ(script.story.messages, 12u);
  EXPECT_TRUE(script.story.pid_seen);
  EXPECT_TRUE(script.story.client_ips.empty());
  EXPECT_TRUE(script.story.refused_ips.empty());
}

// With cutthrough delivery (control = cutthrough_delivery at RCPT) Exim logs each ">>" before
// the message's "<=": the report and the story count those deliveries as the account's.
TEST_F(LogsOnRealExim, CutthroughDeliveriesLoggedBeforeTheArrivalAreTheAccounts) {
  TempDir dir;
  std::string acl = dir.path + "/cutthrough.inc";
  sw::testing::write_file(acl, "  warn    domains = ! +local_domains\n          control = cutthrough_delivery\n");
  EximLab lab({.pid = true, .split_spool = false, .acl_includes = {"rcpt:" + acl}});
  lab.play("auth-burst",
           {"--account", "sales@acme-shop.example", "--from-ip", "127.0.0.66", "--count", "5", "--rcpts", "4"});
  lab.settle();
  // The account's deliveries are those from its address: a recipient the lab's internet
  // refuses brings a bounce (F=<>), delivered to the account's own mailbox.
  std::istringstream log(sw::testing::read_file(lab.mainlog()));
  size_t cutthrough = 0, deliveries = 0;
  for (std::string l; std::getline(log, l);) {
    if (l.find(" F=<sales@acme-shop.example> ") == std::string::npos) continue;
    cutthrough += l.find(" >> ") != std::string::npos;
    deliveries += l.find(" >> ") != std::string::npos || l.find(" => ") != std::string::npos ||
                  l.find(" -> ") != std::string::npos;
  }
  ASSERT_GE(cutthrough, 5u) << "Exim delivered nothing by cutthrough";
  ScanResult r = scan(lab);
  const ActorStats* account = actor(*r.forensics, ActorKind::AuthAccount, "sales@acme-shop.example");
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->messages, 5u);
  EXPECT_EQ(account->delivered, deliveries);
  StoryOptions o;
  o.actor = *detect::parse_actor_ref("auth:sales@acme-shop.example");
  std::vector<std::string> lines;
  o.sink = [&](std::string_view l) { lines.emplace_back(l); };
  StoryResult story = story_of({lab.mainlog()}, o);
  EXPECT_EQ(story.story.delivered, deliveries);
  size_t shown = 0;
  for (const auto& l : lines) shown += l.find(" >> ") != std::string::npos;
  EXPECT_EQ(shown, cutthrough);
}

TEST_F(LogsOnRealExim, OrdinaryTrafficHasNoFindings) {
  EximLab lab({.pid = false, .split_spool = false, .acl_includes = {}});
  lab.play("normal", {"--count", "80"});
  lab.settle();
  ScanResult r = scan(lab);
  EXPECT_GT(r.forensics->messages().messages, 60u);
  for (const auto& x : r.report.findings) ADD_FAILURE() << "unexpected finding: " << x.summary;
}

}  // namespace
}  // namespace sw::stats
