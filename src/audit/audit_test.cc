// Pure parts of the audit: check table, report, -bP and ACL reading, -bh reply and trace
// parsing, alias files and the catch-all fix/restore on a temporary tree.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audit/acl_reader.h"
#include "audit/audit_run.h"
#include "audit/catchall.h"
#include "audit/catchall_fix.h"
#include "audit/check_table.h"
#include "audit/exim_config.h"
#include "audit/relay_probe.h"
#include "audit/report.h"
#include "base/temp_dir.h"
#include "base/test_files.h"

namespace sw::audit {
namespace {

TEST(AuditCheckTable, IdsAreUniqueAndTheDocListsEvery) {
  std::set<std::string_view> ids;
  for (const CheckInfo& c : check_table()) {
    EXPECT_TRUE(ids.insert(c.id).second) << c.id;
    EXPECT_FALSE(c.doc.empty());
  }
  std::string doc = sw::testing::file_bytes(std::string(SW_SOURCE_DIR) + "/docs/audit.md");
  for (const CheckInfo& c : check_table())
    EXPECT_NE(doc.find("| " + std::string(c.id) + " |"), std::string::npos) << c.id << " missing in docs/audit.md";
}

TEST(AuditCheckTable, OnlyAndSkipTakeIdsAndFamilies) {
  CheckSelection s;
  std::string error;
  ASSERT_TRUE(s.parse("r,c1", "R2", &error)) << error;
  EXPECT_TRUE(s.wants("R1"));
  EXPECT_FALSE(s.wants("R2"));
  EXPECT_TRUE(s.wants("C1"));
  EXPECT_FALSE(s.wants("S1"));
  CheckSelection bad;
  EXPECT_FALSE(bad.parse("R99", "", &error));
  EXPECT_NE(error.find("R99"), std::string::npos);
}

TEST(AuditReport, CriticalFirstFitsWidthAndExitCodes) {
  AuditReport r;
  r.add({"S1", Severity::warn, "log_selector", "lacks +subject", {}, "fix it"});
  r.add({"R1", Severity::crit, "/etc/exim.conf:12", "open relay", {std::string(300, 'x')}, "restrict"});
  std::string text = render_human(r, false);
  EXPECT_LT(text.find("CRITICAL"), text.find("WARNING"));
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;
  EXPECT_EQ(audit_exit_code(r), 1);
  auto json = nlohmann::json::parse(render_json(r));
  EXPECT_EQ(json["findings"][0]["check"], "R1");
  NagiosOutput n = render_nagios(r);
  EXPECT_EQ(n.status, 2);
  EXPECT_NE(n.text.find("| crit=1 warn=1"), std::string::npos);
  AuditReport clean;
  EXPECT_EQ(audit_exit_code(clean), 0);
  clean.environment_errors.push_back("no exim");
  EXPECT_EQ(audit_exit_code(clean), 3);
  EXPECT_EQ(render_nagios(clean).status, 3);
}

TEST(AuditEximConfig, BpOptionsListsAndLookupFiles) {
  auto o = parse_bp_options(
      "log_selector = +arguments\nno_allow_domain_literals\npercent_hack_domains = \n"
      "domainlist local_domains = @ : lsearch;/etc/virtual/domains\nhostlist relay_from_hosts = 127.0.0.1\n");
  EXPECT_EQ(o["log_selector"], "+arguments");
  EXPECT_EQ(o["allow_domain_literals"], "false");
  EXPECT_EQ(o["percent_hack_domains"], "");
  EXPECT_EQ(o["+local_domains"], "@ : lsearch;/etc/virtual/domains");
  EXPECT_EQ(split_exim_list("a : b::c : <;x"), (std::vector<std::string>{"a", "b:c", "<;x"}));
  EXPECT_EQ(split_exim_list("<; 1.2.3.4 ; ::1"), (std::vector<std::string>{"1.2.3.4", "::1"}));
  EXPECT_EQ(lookup_file_of("nwildlsearch;/etc/virtual/whitelist_domains"), "/etc/virtual/whitelist_domains");
  EXPECT_EQ(lookup_file_keys("# c\npartner.example\n*.wild.example: x\n  cont\n\n"),
            (std::vector<std::string>{"partner.example", "*.wild.example"}));
}

constexpr const char* kSpamBlockerConfig = R"(domainlist whitelist_domains = nwildlsearch;/etc/virtual/whitelist_domains
begin acl
check_recipient:
  accept  hosts = :
  accept  condition      = ${if eq{$acl_m_is_whitelisted}{1}{1}{0}}
  accept  sender_domains = +whitelist_domains
          logwrite       = $sender_host_address whitelisted in local domains whitelist
          set acl_m_is_whitelisted = 1
  accept  hosts = +relay_from_hosts
  accept  authenticated = *
  accept  local_parts = postmaster
          domains = +local_domains
  require message = relay not permitted
          domains = +local_domains : +relay_domains
  accept  sender_domains = late.example
begin routers
)";

TEST(AuditAclReader, FindsTheWhitelistAcceptsBeforeTheRelayGate) {
  auto acls = read_acls(kSpamBlockerConfig, "/etc/exim.conf");
  const Acl* rcpt = find_acl(acls, "check_recipient");
  ASSERT_NE(rcpt, nullptr);
  ASSERT_EQ(rcpt->statements.size(), 8u);
  EXPECT_EQ(rcpt->statements[2].line, 6);
  EXPECT_EQ(rcpt->statements[2].conditions.size(), 3u);
  RelayGateAnalysis gate = analyse_relay_gate(*rcpt);
  EXPECT_EQ(gate.gate, 6);
  EXPECT_EQ(gate.early_accepts, (std::vector<int>{1, 2}));  // not hosts = :, the relay hosts, auth, postmaster
  EXPECT_EQ(gate.sender_list_values, (std::vector<std::string>{"+whitelist_domains"}));
  EXPECT_EQ(locate_statement(kSpamBlockerConfig, rcpt->statements[2], 0), 6);
}

TEST(AuditAclReader, RestrictedWhitelistIsNotFlaggedAndMarkersGiveFileLines) {
  std::string text =
      "begin acl\n# 40 \"/etc/exim4/conf.d/acl/30_rcpt\"\nacl_check_rcpt:\n  accept\n  sender_domains = a.example\n"
      "  domains = +local_domains\n  accept hosts = *\n  require domains = +local_domains\n";
  auto acls = read_acls(text, "x");
  ASSERT_EQ(acls.size(), 1u);
  EXPECT_EQ(acls[0].statements[0].file, "/etc/exim4/conf.d/acl/30_rcpt");
  EXPECT_EQ(acls[0].statements[0].line, 41);
  RelayGateAnalysis gate = analyse_relay_gate(acls[0]);
  EXPECT_EQ(gate.early_accepts, (std::vector<int>{1}));  // hosts = * only
}

TEST(AuditRelayProbe, RepliesTraceAndClassification) {
  auto replies = parse_smtp_replies(
      "\n**** SMTP testing session\n220 mail ESMTP\n250-mail Hello\n250-SIZE 1\n250 HELP\n250 OK\n250 Accepted\n221 "
      "bye\n");
  ASSERT_EQ(replies.size(), 5u);
  EXPECT_EQ(replies[1].text, "mail Hello / SIZE 1 / HELP");
  EXPECT_EQ(classify_probe(replies).verdict, ProbeClass::accepted);
  replies[3] = {550, "relay not permitted"};
  EXPECT_EQ(classify_probe(replies).verdict, ProbeClass::refused);
  Grant g = parse_acl_trace(
      ">>> processing \"accept\" (/tmp/x.conf 12)\n>>> accept: condition test succeeded in ACL \"rcpt\"\n"
      "LOG: 1.2.3.4 whitelisted\n>>> processing \"accept\" (/tmp/x.conf 30)\n"
      ">>> accept: condition test succeeded in ACL \"acl_check_quit\"\n",
      "rcpt");
  EXPECT_EQ(g.file, "/tmp/x.conf");
  EXPECT_EQ(g.line, 12);
  EXPECT_EQ(g.log_lines.size(), 1u);
  EXPECT_EQ(probe_senders_from_list("partner.example : *.wild.example : ^regex", true, nullptr, 10),
            (std::vector<std::string>{"WTSEGRFTDM@partner.example", "WTSEGRFTDM@probe.wild.example"}));
}

TEST(AuditCatchall, FindsAndClassifies) {
  auto line = find_catchall("info: john\n*: bob@gmail.com,\n  local\nsales: x\n");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->line, 2);
  EXPECT_EQ(line->target, "bob@gmail.com, local");
  std::set<std::string> local = {"shop.example"};
  EXPECT_EQ(classify_catchall(line->target, local), CatchallKind::external_forward);
  EXPECT_EQ(classify_catchall(":fail: No Such User Here", local), CatchallKind::fail);
  EXPECT_EQ(classify_catchall(":blackhole:", local), CatchallKind::blackhole);
  EXPECT_EQ(classify_catchall("shopuser", local), CatchallKind::local_mailbox);
  EXPECT_EQ(classify_catchall("info@shop.example", local), CatchallKind::local_mailbox);
  EXPECT_EQ(classify_catchall("\"|/usr/local/bin/handler\"", local), CatchallKind::pipe);
  EXPECT_FALSE(find_catchall("info: john\n# *: x\n"));
  EXPECT_EQ(fail_catchall_text("a: b\n*: bob@gmail.com,\n  local\nc: d\n",
                               *find_catchall("a: b\n*: bob@gmail.com,\n  local\nc: d\n")),
            "a: b\n*: :fail: No such person at this address\nc: d\n");
}

// A cPanel-shaped tree: the fix changes only *: lines, and restore gives back bytes, owner,
// mode and mtime; a file edited after the fix is refused without --force.
TEST(AuditCatchallFix, FixThenRestoreIsExactAndChangedFilesAreRefused) {
  TempDir tree("audit-fix");
  std::string root = tree.path;
  for (const char* d : {"/usr", "/usr/local", "/usr/local/cpanel", "/etc", "/etc/valiases", "/state"})
    ASSERT_EQ(::mkdir((root + d).c_str(), 0755), 0);
  sw::testing::write_file(root + "/etc/localdomains", "shop.example\nfwd.example\nclean.example\n");
  sw::testing::write_file(root + "/etc/valiases/shop.example", "info: shopuser\n*: :blackhole:\n");
  sw::testing::write_file(root + "/etc/valiases/fwd.example", "*: owner@gmail.com\n");
  sw::testing::write_file(root + "/etc/valiases/clean.example", "*: :fail: No Such User Here\n");
  ::chmod((root + "/etc/valiases/shop.example").c_str(), 0640);
  ASSERT_EQ(::chown((root + "/etc/valiases/shop.example").c_str(), 1234, 5678), 0);
  timespec old[2] = {{1000000000, 5}, {1000000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root + "/etc/valiases/shop.example").c_str(), old, 0), 0);
  AuditOptions options;
  options.root = root;
  options.state_dir = root + "/state";
  AuditReport report;
  report.platform = detect_platform(root);
  ASSERT_EQ(report.platform, kCpanel);
  CatchallScan scan = scan_catchalls_with_deliveries(options, &report);
  ASSERT_EQ(scan.domains.size(), 2u);
  FixOutcome fix = apply_catchall_fix(options.state_dir, scan.domains, nullptr);
  ASSERT_TRUE(fix.errors.empty()) << fix.errors[0];
  EXPECT_EQ(fix.changed, 2);
  EXPECT_EQ(sw::testing::file_bytes(root + "/etc/valiases/shop.example"),
            "info: shopuser\n*: :fail: No such person at this address\n");
  struct stat st {};
  ASSERT_EQ(::stat((root + "/etc/valiases/shop.example").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  // An admin edits one file after the fix: restore leaves it alone unless forced.
  sw::testing::write_file(root + "/etc/valiases/fwd.example", "*: :fail: edited by hand\n");
  RestoreOutcome restore = restore_catchall_batch(options.state_dir, fix.batch_id, false);
  EXPECT_EQ(restore.restored, 1);
  ASSERT_EQ(restore.refused.size(), 1u);
  EXPECT_EQ(sw::testing::file_bytes(root + "/etc/valiases/fwd.example"), "*: :fail: edited by hand\n");
  EXPECT_EQ(sw::testing::file_bytes(root + "/etc/valiases/shop.example"), "info: shopuser\n*: :blackhole:\n");
  ASSERT_EQ(::stat((root + "/etc/valiases/shop.example").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
  restore = restore_catchall_batch(options.state_dir, fix.batch_id, true);
  EXPECT_EQ(sw::testing::file_bytes(root + "/etc/valiases/fwd.example"), "*: owner@gmail.com\n");
  EXPECT_FALSE(restore_catchall_batch(options.state_dir, "../etc", false).errors.empty());
}

TEST(AuditCatchallFix, UnreadableAliasFileIsReportedNotSkippedSilently) {
  TempDir tree("audit-bad");
  std::string root = tree.path;
  for (const char* d : {"/usr", "/usr/local", "/usr/local/cpanel", "/etc", "/etc/valiases"})
    ASSERT_EQ(::mkdir((root + d).c_str(), 0755), 0);
  sw::testing::write_file(root + "/etc/localdomains", "link.example\n");
  ASSERT_EQ(::symlink("/etc/shadow", (root + "/etc/valiases/link.example").c_str()), 0);
  AuditOptions options;
  options.root = root;
  AuditReport report;
  report.platform = kCpanel;
  CatchallScan scan = scan_catchalls_with_deliveries(options, &report);
  ASSERT_EQ(scan.errors.size(), 1u);
  EXPECT_NE(scan.errors[0].find("symbolic link"), std::string::npos);
  auto findings = catchall_findings(scan, kCpanel);
  ASSERT_FALSE(findings.empty());
  EXPECT_EQ(findings.back().severity, Severity::inconclusive);
}

}  // namespace
}  // namespace sw::audit
