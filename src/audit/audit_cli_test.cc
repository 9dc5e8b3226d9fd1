// `spamwarden audit` driven as a program: the DNS checks inside testing/dnslab's private namespace
// (DnsLab...), the catch-all fix and restore on a cPanel-shaped tree, and the exit codes.
#include <gtest/gtest.h>
#include <pwd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/temp_dir.h"
#include "dnslab.h"
#include "base/test_files.h"

namespace sw::audit {
namespace {

struct CommandRun {
  int status = -1;
  std::string out;
};

// Runs build/spamwarden with `args` (shell words), stdout captured, stderr to the test's log.
CommandRun spamwarden(const std::string& args) {
  std::string command = std::string(SW_BINARY_DIR) + "/spamwarden " + args;
  CommandRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return run;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.out.append(buffer.data(), n);
  int status = ::pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// A small Exim configuration whose smtp transport sends from 127.0.0.2, a DNSBL test point.
std::string lab_config(const std::string& dir) {
  return "primary_hostname = mail.hosted.test\n"
         "keep_environment =\n"
         "domainlist local_domains = hosted.test\n"
         "acl_smtp_rcpt = acl_check_rcpt\n"
         "spool_directory = " +
         dir + "/spool\nlog_file_path = " + dir +
         "/log/%slog\n"
         "begin acl\n"
         "acl_check_rcpt:\n"
         "  deny    dnslists = zen.spamhaus.org!&0.255.255.0\n"
         "  require domains = +local_domains\n"
         "  accept\n"
         "begin transports\n"
         "remote_smtp:\n"
         "  driver = smtp\n"
         "  interface = 127.0.0.2\n"
         "  helo_data = mail.hosted.test\n";
}

const nlohmann::json* finding(const nlohmann::json& report, const std::string& check, const std::string& subject) {
  for (const auto& f : report["findings"])
    if (f["check"] == check && f["subject"] == subject) return &f;
  return nullptr;
}

TEST(DnsLabAuditCommand, JsonReportsTheListedOutboundIpOfTheConfigAsD1Crit) {
  std::string why;
  if (!sw::testing::DnsLab::available(&why)) GTEST_SKIP() << why;
  if (::access("/usr/sbin/exim4", X_OK) != 0) GTEST_SKIP() << "no /usr/sbin/exim4";
  sw::testing::DnsLab lab;
  lab.start_dnsmasq({"local=/spamhaus.org/", "local=/hosted.test/", "address=/2.0.0.127.zen.spamhaus.org/127.0.0.2",
                     "ptr-record=2.0.0.127.in-addr.arpa,mail.hosted.test", "host-record=mail.hosted.test,127.0.0.2"});
  TempDir dir("audit-cli-dns");
  ::chmod(dir.path.c_str(), 0755);
  for (const char* d : {"/spool", "/log", "/root"}) ::mkdir((dir.path + d).c_str(), 0755);
  // Exim gives up root for some runs (-bP config): its log and spool must be its own.
  if (const passwd* exim_user = ::getpwnam("Debian-exim"))
    for (const char* d : {"/spool", "/log"}) ::chown((dir.path + d).c_str(), exim_user->pw_uid, exim_user->pw_gid);
  sw::testing::write_file(dir.path + "/exim.conf", lab_config(dir.path));
  CommandRun run = spamwarden("audit --json --only D1,D2,D3,S6 --root " + dir.path + "/root --exim-config " + dir.path +
                              "/exim.conf --resolver 127.0.0.1 --dns-timeout 0.5 --blocklist zen.spamhaus.org");
  ASSERT_FALSE(run.out.empty());
  nlohmann::json report = nlohmann::json::parse(run.out);
  const nlohmann::json* listed = finding(report, "D1", "127.0.0.2 on zen.spamhaus.org");
  ASSERT_NE(listed, nullptr) << run.out;
  EXPECT_EQ((*listed)["severity"], "crit") << run.out;
  const nlohmann::json* ptr = finding(report, "D2", "127.0.0.2");
  ASSERT_NE(ptr, nullptr) << run.out;
  EXPECT_EQ((*ptr)["severity"], "ok") << run.out;
  const nlohmann::json* spf = finding(report, "D3", "hosted.test");
  ASSERT_NE(spf, nullptr) << run.out;
  EXPECT_NE((*spf)["severity"], "ok") << run.out;  // no SPF record published
  const nlohmann::json* alive = finding(report, "S6", "zen.spamhaus.org");
  ASSERT_NE(alive, nullptr) << run.out;
  EXPECT_EQ((*alive)["severity"], "ok") << run.out;
  EXPECT_EQ(run.status, 1);
}

TEST(AuditCommand, NoDnsAndBadDnsOptions) {
  TempDir dir("audit-cli-nodns");
  CommandRun run = spamwarden("audit --json --only D --no-dns --root " + dir.path + " --exim " + dir.path + "/no-exim");
  nlohmann::json report = nlohmann::json::parse(run.out);
  EXPECT_TRUE(report["findings"].empty()) << run.out;
  ASSERT_EQ(report["not_checked"].size(), 6u) << run.out;
  EXPECT_NE(report["not_checked"][0]["reason"].get<std::string>().find("--no-dns"), std::string::npos);
  EXPECT_EQ(spamwarden("audit --resolver not-an-ip --root " + dir.path + " 2>/dev/null").status, 2);
  EXPECT_EQ(spamwarden("audit --dns-timeout 0 --root " + dir.path + " 2>/dev/null").status, 2);
  EXPECT_EQ(spamwarden("audit --only Z9 --root " + dir.path + " 2>/dev/null").status, 2);
}

struct FileState {
  std::string bytes;
  struct stat st {};
};

std::map<std::string, FileState> snapshot(const std::string& dir, const std::vector<std::string>& names) {
  std::map<std::string, FileState> out;
  for (const std::string& name : names) {
    FileState& s = out[name];
    s.bytes = sw::testing::file_bytes(dir + "/" + name);
    ::lstat((dir + "/" + name).c_str(), &s.st);
  }
  return out;
}

void expect_identical(const std::map<std::string, FileState>& before, const std::map<std::string, FileState>& after) {
  for (const auto& [name, b] : before) {
    const FileState& a = after.at(name);
    EXPECT_EQ(a.bytes, b.bytes) << name;
    EXPECT_EQ(a.st.st_uid, b.st.st_uid) << name;
    EXPECT_EQ(a.st.st_gid, b.st.st_gid) << name;
    EXPECT_EQ(a.st.st_mode, b.st.st_mode) << name;
    EXPECT_EQ(a.st.st_mtim.tv_sec, b.st.st_mtim.tv_sec) << name;
    EXPECT_EQ(a.st.st_mtim.tv_nsec, b.st.st_mtim.tv_nsec) << name;
  }
}

class AuditCommandCatchallTree : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* d : {"/usr", "/usr/local", "/usr/local/cpanel", "/etc", "/etc/valiases", "/state"})
      ASSERT_EQ(::mkdir((tree_.path + d).c_str(), 0755), 0);
    sw::testing::write_file(tree_.path + "/etc/localdomains", "shop.example\nfwd.example\nclean.example\n");
    sw::testing::write_file(valiases() + "/shop.example", "info: shopuser\n# the catch-all\n*: :blackhole:\n");
    sw::testing::write_file(valiases() + "/fwd.example", "sales: a@b.example, c@d.example\n*: owner@gmail.com\n");
    sw::testing::write_file(valiases() + "/clean.example", "*: :fail: No Such User Here\n");
    ::chmod((valiases() + "/shop.example").c_str(), 0640);
    if (::geteuid() == 0) ::chown((valiases() + "/shop.example").c_str(), 1234, 5678);
    timespec old[2] = {{1000000000, 5}, {1000000000, 123456789}};
    ::utimensat(AT_FDCWD, (valiases() + "/shop.example").c_str(), old, 0);
  }
  std::string valiases() const { return tree_.path + "/etc/valiases"; }
  // No exim: the fix is not re-verified with the host's configuration.
  std::string common() const {
    return "--root " + tree_.path + " --state-dir " + tree_.path + "/state --exim " + tree_.path + "/no-exim";
  }
  const std::vector<std::string> files_ = {"shop.example", "fwd.example", "clean.example"};
  TempDir tree_{"audit-cli-fix"};
};

TEST_F(AuditCommandCatchallTree, DryRunChangesNothing) {
  auto before = snapshot(valiases(), files_);
  CommandRun run = spamwarden("audit fix catchall " + common());
  EXPECT_EQ(run.status, 0) << run.out;
  EXPECT_NE(run.out.find("dry run: 2 catch-alls"), std::string::npos) << run.out;
  expect_identical(before, snapshot(valiases(), files_));
  struct stat st {};
  EXPECT_NE(::stat((tree_.path + "/state/audit-batches").c_str(), &st), 0) << "a dry run made a batch";
}

TEST_F(AuditCommandCatchallTree, FixThenRestoreGivesIdenticalFiles) {
  auto before = snapshot(valiases(), files_);
  CommandRun fix = spamwarden("audit fix catchall --yes " + common());
  ASSERT_EQ(fix.status, 0) << fix.out;
  EXPECT_EQ(sw::testing::file_bytes(valiases() + "/fwd.example"),
            "sales: a@b.example, c@d.example\n*: :fail: No such person at this address\n");
  size_t at = fix.out.find("audit restore ");
  ASSERT_NE(at, std::string::npos) << fix.out;
  std::string batch = fix.out.substr(at + 14, fix.out.find(')', at) - at - 14);
  CommandRun restore = spamwarden("audit restore " + batch + " " + common());
  EXPECT_EQ(restore.status, 0) << restore.out;
  expect_identical(before, snapshot(valiases(), files_));
  // Restoring again: the files now differ from the fixed ones, so each is refused (exit 1).
  EXPECT_EQ(spamwarden("audit restore " + batch + " " + common()).status, 1);
  EXPECT_EQ(spamwarden("audit restore no-such-batch " + common() + " 2>/dev/null").status, 2);
}

}  // namespace
}  // namespace sw::audit
