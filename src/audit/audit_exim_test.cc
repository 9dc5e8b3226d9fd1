// The audit against a real Exim (Debian's exim4, as root): exim -bh probes of lab
// configurations. Test names carry OnRealExim.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "audit/audit_run.h"
#include "base/temp_dir.h"
#include "base/test_files.h"

namespace sw::audit {
namespace {

// A hosting-style configuration in the shape of DirectAdmin's SpamBlocker RCPT ACL. MAIN and
// the whitelist accept's extra conditions vary per test.
std::string lab_config(const std::string& dir, const std::string& main_extra, const std::string& whitelist_extra,
                       const std::string& relay_hosts = "127.0.0.1") {
  return "primary_hostname = mail.hosted.example\n"
         "domainlist local_domains = hosted.example : other.example\n"
         "domainlist relay_to_domains =\n"
         "hostlist relay_from_hosts = " +
         relay_hosts +
         "\n"
         "domainlist whitelist_domains = nwildlsearch;" +
         dir +
         "/whitelist_domains\n"
         "acl_smtp_rcpt = acl_check_rcpt\n"
         "spool_directory = " +
         dir +
         "/spool\n"
         "log_file_path = " +
         dir +
         "/log/%slog\n"
         "log_selector = +arguments +subject\n" +
         main_extra +
         "begin acl\n"
         "acl_check_rcpt:\n"
         "  accept  hosts = :\n"
         "  deny    local_parts = ^.*[@%!/|] : ^\\\\.\n"
         "  accept  sender_domains = +whitelist_domains\n" +
         whitelist_extra +
         "          logwrite       = $sender_host_address whitelisted in local domains whitelist\n"
         "  accept  hosts = +relay_from_hosts\n"
         "  accept  authenticated = *\n"
         "  require message = relay not permitted\n"
         "          domains = +local_domains : +relay_to_domains\n"
         "  require verify = recipient\n"
         "  accept\n"
         "begin routers\n"
         "local_user:\n"
         "  driver = accept\n"
         "  domains = +local_domains\n"
         "  local_parts = info : postmaster\n"
         "  transport = local_delivery\n"
         "begin transports\n"
         "local_delivery:\n"
         "  driver = appendfile\n"
         "  file = " +
         dir + "/mail/$local_part\n";
}

class AuditOnRealExim : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (exim -C keeps privilege only for root)";
    if (::access("/usr/sbin/exim4", X_OK) != 0) GTEST_SKIP() << "no /usr/sbin/exim4";
    ::chmod(lab_.path.c_str(), 0755);
    for (const char* d : {"/spool", "/log", "/mail", "/root", "/state"}) ::mkdir((lab_.path + d).c_str(), 0755);
    // Exim gives up root for some runs (-bP config): its log and spool must be its own.
    if (const passwd* exim_user = ::getpwnam("Debian-exim"))
      for (const char* d : {"/spool", "/log"}) ::chown((lab_.path + d).c_str(), exim_user->pw_uid, exim_user->pw_gid);
    sw::testing::write_file(lab_.path + "/whitelist_domains", "partner.example\n");
  }
  AuditReport audit(const std::string& config_text, const std::string& only = "R") {
    std::string config = lab_.path + "/exim.conf";
    sw::testing::write_file(config, config_text);
    AuditOptions options;
    options.root = lab_.path + "/root";
    options.exim_config = config;
    options.state_dir = lab_.path + "/state";
    options.relay.outside_domain = "outside.test";
    options.relay.local_mailbox = "info@hosted.example";
    CheckSelection selection;
    std::string error;
    EXPECT_TRUE(selection.parse(only, "", &error)) << error;
    return run_audit(options, selection);
  }
  static std::vector<const Finding*> of(const AuditReport& r, const std::string& id, Severity s) {
    std::vector<const Finding*> out;
    for (const Finding& f : r.findings)
      if (f.check_id == id && f.severity == s) out.push_back(&f);
    return out;
  }
  TempDir lab_{"audit-exim"};
};

TEST_F(AuditOnRealExim, SpamBlockerWhitelistIsAnOpenRelayNamingItsLine) {
  AuditReport r = audit(lab_config(lab_.path, "", ""));
  auto relays = of(r, "R1", Severity::crit);
  ASSERT_FALSE(relays.empty()) << render_human(r, true);
  // The accept of the whitelist is line 14 of the file.
  EXPECT_EQ(relays[0]->subject, lab_.path + "/exim.conf:14") << render_human(r, true);
  bool whitelisted_probe = false;
  for (const Finding* f : relays)
    for (const std::string& e : f->evidence) whitelisted_probe |= e.find("@partner.example") != std::string::npos;
  EXPECT_TRUE(whitelisted_probe);
  EXPECT_FALSE(of(r, "R3", Severity::warn).empty()) << render_human(r, true);
  EXPECT_TRUE(of(r, "R2", Severity::inconclusive).empty()) << render_human(r, true);
  EXPECT_EQ(audit_exit_code(r), 1);
}

TEST_F(AuditOnRealExim, WhitelistRestrictedToLocalDomainsIsNoRelay) {
  AuditReport r = audit(lab_config(lab_.path, "", "          domains        = +local_domains\n"));
  EXPECT_TRUE(of(r, "R1", Severity::crit).empty()) << render_human(r, true);
  EXPECT_TRUE(of(r, "R8", Severity::crit).empty());
  EXPECT_FALSE(of(r, "R1", Severity::ok).empty()) << render_human(r, true);
  EXPECT_FALSE(of(r, "R2", Severity::ok).empty());
  EXPECT_TRUE(of(r, "R3", Severity::warn).empty()) << render_human(r, true);
}

TEST_F(AuditOnRealExim, RelayFromEveryHostIsFound) {
  AuditReport r = audit(lab_config(lab_.path, "", "          domains        = +local_domains\n", "0.0.0.0/0"));
  EXPECT_FALSE(of(r, "R1", Severity::crit).empty()) << render_human(r, true);
  EXPECT_FALSE(of(r, "R5", Severity::crit).empty());
}

TEST_F(AuditOnRealExim, AcceptHostsStarIsFound) {
  std::string config = lab_config(lab_.path, "", "          domains        = +local_domains\n");
  config.replace(config.find("  accept  hosts = +relay_from_hosts"), 0, "  accept  hosts = *\n");
  AuditReport r = audit(config);
  EXPECT_FALSE(of(r, "R1", Severity::crit).empty()) << render_human(r, true);
  EXPECT_FALSE(of(r, "R3", Severity::warn).empty());
}

TEST_F(AuditOnRealExim, PercentHackForEveryDomainIsFound) {
  AuditReport r =
      audit(lab_config(lab_.path, "percent_hack_domains = *\n", "          domains        = +local_domains\n"));
  EXPECT_FALSE(of(r, "R7", Severity::crit).empty()) << render_human(r, true);
}

TEST_F(AuditOnRealExim, DebianDefaultConfigHasNoRelayAndControlsPass) {
  const char* debian = "/var/lib/exim4/config.autogenerated";
  if (::access(debian, R_OK) != 0) GTEST_SKIP() << "no " << debian;
  std::string text;
  {
    std::ifstream in(debian);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  AuditOptions options;
  options.root = lab_.path + "/root";
  options.exim_config = debian;
  options.relay.outside_domain = "outside.test";
  CheckSelection selection;
  std::string error;
  ASSERT_TRUE(selection.parse("R", "", &error));
  AuditReport r = run_audit(options, selection);
  EXPECT_TRUE(of(r, "R1", Severity::crit).empty()) << render_human(r, true);
  EXPECT_TRUE(of(r, "R8", Severity::crit).empty());
  EXPECT_FALSE(of(r, "R2", Severity::ok).empty()) << render_human(r, true);
  EXPECT_TRUE(of(r, "R3", Severity::warn).empty()) << render_human(r, true);
}

TEST_F(AuditOnRealExim, ConfigThatDoesNotParseIsAPartialResult) {
  AuditReport r = audit("this is not = an exim config\nbegin nonsense\n");
  ASSERT_TRUE(r.partial());
  EXPECT_NE(r.environment_errors[0].find("does not load"), std::string::npos) << r.environment_errors[0];
  EXPECT_EQ(audit_exit_code(r), 3);
  EXPECT_NE(render_human(r, false).find("PARTIAL"), std::string::npos);
}

TEST_F(AuditOnRealExim, MissingEximBinaryIsAnEnvironmentError) {
  AuditOptions options;
  options.root = lab_.path + "/root";
  options.exim_binary = lab_.path + "/no-such-exim";
  CheckSelection selection;
  std::string error;
  ASSERT_TRUE(selection.parse("R,S", "", &error));
  AuditReport r = run_audit(options, selection);
  ASSERT_TRUE(r.partial());
  EXPECT_NE(r.environment_errors[0].find("no executable exim"), std::string::npos);
  EXPECT_EQ(audit_exit_code(r), 3);
  EXPECT_EQ(render_nagios(r).status, 3);
}

// exim -bV works, exim -bP config is refused (a non-admin caller): a partial result, not a missing ACL.
TEST_F(AuditOnRealExim, BpConfigRefusedIsAnEnvironmentErrorNotAMissingAcl) {
  std::string config = lab_.path + "/exim.conf", wrapper = lab_.path + "/exim-no-bp-config";
  sw::testing::write_file(config, lab_config(lab_.path, "", ""));
  sw::testing::write_file(
      wrapper,
      "#!/bin/sh\nfor a; do [ \"$a\" = config ] && { echo 'exim: permission denied' >&2; exit 1; }; done\n"
      "exec /usr/sbin/exim4 \"$@\"\n");
  ASSERT_EQ(::chmod(wrapper.c_str(), 0755), 0);
  AuditOptions options;
  options.root = lab_.path + "/root";
  options.exim_binary = wrapper;
  options.exim_config = config;
  options.dns.enabled = false;
  CheckSelection selection;
  std::string error;
  ASSERT_TRUE(selection.parse("R,S", "", &error));
  AuditReport r = run_audit(options, selection);
  ASSERT_TRUE(r.partial()) << render_human(r, true);
  EXPECT_NE(r.environment_errors[0].find("-bP config"), std::string::npos) << r.environment_errors[0];
  for (const Finding& f : r.findings) EXPECT_EQ(f.message.find("no RCPT ACL"), std::string::npos) << f.message;
  EXPECT_EQ(audit_exit_code(r), 3);
}

}  // namespace
}  // namespace sw::audit
