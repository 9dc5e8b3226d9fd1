// The optional script rename: which header values name a script, which files qualify, that a
// disabled script is renamed and chmod 000 and that release's restore puts it back.
#include "contain/script_disable.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "base/temp_dir.h"
#include "base/test_files.h"

namespace sw::contain {
namespace {

constexpr uid_t kScriptOwner = 65534;  // nobody: a non-root owner the test can chown to as root

mode_t mode_of(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : mode_t(-1);
}

// A script file owned by kScriptOwner, mode 0644.
std::string make_script(const std::string& dir, const std::string& name) {
  std::string path = dir + "/" + name;
  std::ofstream(path) << "<?php mail($to, $s, $b); ?>\n";
  EXPECT_EQ(::chown(path.c_str(), kScriptOwner, kScriptOwner), 0);
  EXPECT_EQ(::chmod(path.c_str(), 0644), 0);
  return path;
}

// A minimal -H file of a local submission by `login` (uid `uid`) carrying the PHP header.
std::string spool_header(const std::string& id, const std::string& login, const std::string& php_header,
                         uid_t uid = kScriptOwner) {
  std::string h = "Subject: hi\n", x = "X-PHP-Originating-Script: " + php_header + "\n";
  char a[16], b[16];
  std::snprintf(a, sizeof a, "%03zu  ", h.size());
  std::snprintf(b, sizeof b, "%03zu  ", x.size());
  std::string owner = login + " " + std::to_string(uid) + " " + std::to_string(uid);
  return id + "-H\n" + owner + "\n<" + login + "@host.example>\n1795361897 0\n-ident " + login +
         "\n-received_protocol local\nXX\n1\nvictim@gmail.example\n\n" + a + h + b + x;
}

TEST(ScriptDisable, ParsesOnlyAUidAndAPlainFileName) {
  auto r = parse_originating_script(" 1001:mailer.php ");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->uid, 1001);
  EXPECT_EQ(r->name, "mailer.php");
  for (const char* bad : {"mailer.php", "x:mailer.php", ":mailer.php", "1001:", "1001:../x.php", "1001:.htaccess",
                          "1001:wp/x.php", "1001:/etc/passwd", "1001:a\x01.php", "12345678901:a.php"})
    EXPECT_FALSE(parse_originating_script(bad)) << bad;
}

TEST(ScriptDisable, RenamesChmodsAndReleaseRestores) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown of the test script)";
  TempDir state, site;
  std::string script = make_script(site.path, "mailer.php");
  std::string problem;
  auto d = disable_script(state.path, site.path, ScriptRef{kScriptOwner, "mailer.php"}, 100, "test", &problem);
  ASSERT_TRUE(d) << problem;
  EXPECT_FALSE(std::filesystem::exists(script));
  EXPECT_EQ(d->renamed, script + ".spamwarden-held");
  EXPECT_EQ(mode_of(d->renamed), 0u);
  EXPECT_EQ(d->mode, 0644u);
  EXPECT_NE(sw::testing::file_bytes(disabled_scripts_path(state.path)).find("mailer.php.spamwarden-held"),
            std::string::npos);
  struct stat st {};
  ASSERT_EQ(::lstat(d->renamed.c_str(), &st), 0);
  EXPECT_EQ(d->ino, uint64_t(st.st_ino));
  EXPECT_EQ(d->uid, int64_t(kScriptOwner));
  EXPECT_NE(sw::testing::file_bytes(disabled_scripts_path(state.path)).find("\"ino\":" + std::to_string(st.st_ino)),
            std::string::npos);
  EXPECT_NE(sw::testing::file_bytes(state.path + "/audit.jsonl").find("\"disable_script\""), std::string::npos);

  // Again (the second freeze pass): already disabled, not a problem, nothing recorded twice.
  EXPECT_FALSE(disable_script(state.path, site.path, ScriptRef{kScriptOwner, "mailer.php"}, 101, "test", &problem));
  EXPECT_EQ(problem, "");

  std::vector<std::string> problems;
  EXPECT_EQ(restore_scripts(state.path, "/elsewhere", "test", &problems), 0u) << "another directory's hold";
  EXPECT_EQ(restore_scripts(state.path, site.path, "test", &problems), 1u);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(mode_of(script), 0644u);
  EXPECT_FALSE(std::filesystem::exists(script + ".spamwarden-held"));
  EXPECT_EQ(sw::testing::file_bytes(disabled_scripts_path(state.path)), "");
  EXPECT_NE(sw::testing::file_bytes(state.path + "/audit.jsonl").find("\"restore_script\""), std::string::npos);
}

// File names are bytes: a Latin-1 directory and script name (not UTF-8) must be recorded,
// and restored, exactly; the record is JSON, which holds only UTF-8 strings.
TEST(ScriptDisable, ANameThatIsNotUtf8IsRecordedAndRestoredExactly) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown of the test script)";
  TempDir state, sites;
  std::string site = sites.path + "/caf\xe9";
  ASSERT_EQ(::mkdir(site.c_str(), 0755), 0);
  std::string script = make_script(site, "n\xe9ws.php");
  std::string problem;
  auto d = disable_script(state.path, site, ScriptRef{kScriptOwner, "n\xe9ws.php"}, 100, "test", &problem);
  ASSERT_TRUE(d) << problem;
  EXPECT_FALSE(std::filesystem::exists(script));
  std::vector<std::string> problems;
  EXPECT_EQ(restore_scripts(state.path, site, "test", &problems), 1u);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(mode_of(script), 0644u);
  EXPECT_EQ(sw::testing::file_bytes(disabled_scripts_path(state.path)), "");
}

TEST(ScriptDisable, LeavesAloneWhatDoesNotQualify) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown of the test script)";
  TempDir state, site;
  std::string problem;
  make_script(site.path, "a.php");
  EXPECT_FALSE(disable_script(state.path, site.path, ScriptRef{1234, "a.php"}, 1, "t", &problem));
  EXPECT_NE(problem.find("owned by uid"), std::string::npos) << problem;
  EXPECT_FALSE(disable_script(state.path, site.path, ScriptRef{0, "a.php"}, 1, "t", &problem));
  EXPECT_NE(problem.find("uid 0"), std::string::npos) << problem;
  std::filesystem::create_symlink("/etc/hostname", site.path + "/link.php");
  EXPECT_FALSE(disable_script(state.path, site.path, ScriptRef{kScriptOwner, "link.php"}, 1, "t", &problem));
  EXPECT_NE(problem.find("not a regular file"), std::string::npos) << problem;
  EXPECT_FALSE(disable_script(state.path, site.path, ScriptRef{kScriptOwner, "gone.php"}, 1, "t", &problem));
  EXPECT_FALSE(problem.empty());
  EXPECT_EQ(mode_of(site.path + "/a.php"), 0644u);
  EXPECT_FALSE(std::filesystem::exists(disabled_scripts_path(state.path)));
}

// A setuid/setgid file, a file with a second hard link (it may be another account's, linked
// in) and a root-owned one are never renamed or chmod'ed, whoever the mail says sent them.
TEST(ScriptDisable, NeverTouchesSetuidHardLinkedOrRootFiles) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown of the test script)";
  TempDir state, site;
  std::string problem;
  std::string setuid = make_script(site.path, "s.php");
  ASSERT_EQ(::chmod(setuid.c_str(), 04755), 0);
  EXPECT_FALSE(disable_script(state.path, site.path, ScriptRef{kScriptOwner, "s.php"}, 1, "t", &problem));
  EXPECT_NE(problem.find("setuid"), std::string::npos) << problem;
  EXPECT_EQ(mode_of(setuid), 04755u);
  std::string linked = make_script(site.path, "l.php");
  ASSERT_EQ(::link(linked.c_str(), (site.path + "/other-name").c_str()), 0);
  EXPECT_FALSE(disable_script(state.path, site.path, ScriptRef{kScriptOwner, "l.php"}, 1, "t", &problem));
  EXPECT_NE(problem.find("2 hard links"), std::string::npos) << problem;
  EXPECT_EQ(mode_of(linked), 0644u);
  std::string roots = make_script(site.path, "r.php");
  ASSERT_EQ(::chown(roots.c_str(), 0, 0), 0);
  EXPECT_FALSE(disable_script(state.path, site.path, ScriptRef{kScriptOwner, "r.php"}, 1, "t", &problem));
  EXPECT_NE(problem.find("owned by root"), std::string::npos) << problem;
  EXPECT_EQ(mode_of(roots), 0644u);
  EXPECT_FALSE(std::filesystem::exists(disabled_scripts_path(state.path)));
}

// The account owns the directories on the way: one replaced by a link to another account's
// directory must not lead the rename there.
TEST(ScriptDisable, ADirectoryBehindASymbolicLinkIsNotEntered) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown of the test script)";
  TempDir state, sites;
  std::string real = sites.path + "/real", linked = sites.path + "/linked";
  ASSERT_EQ(::mkdir(real.c_str(), 0755), 0);
  std::filesystem::create_directory_symlink(real, linked);
  std::string script = make_script(real, "mailer.php");
  std::string problem;
  EXPECT_FALSE(disable_script(state.path, linked, ScriptRef{kScriptOwner, "mailer.php"}, 1, "t", &problem));
  EXPECT_NE(problem.find("symbolic link"), std::string::npos) << problem;
  EXPECT_FALSE(disable_script(state.path, linked + "/", ScriptRef{kScriptOwner, "mailer.php"}, 1, "t", &problem));
  EXPECT_FALSE(disable_script(state.path, real + "/../real", ScriptRef{kScriptOwner, "mailer.php"}, 1, "t", &problem));
  EXPECT_EQ(mode_of(script), 0644u);
}

// A disabled script whose held name the account has replaced: by a link to a root file, by a
// hard link to one, or by another file of its own. The restore must not give any of them the
// script's mode (a link to /etc/shadow would become world-readable); the record stays.
TEST(ScriptDisable, ReleaseRestoresOnlyTheFileThatWasDisabled) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown of the test script)";
  TempDir state, site, elsewhere;
  std::string victim = elsewhere.path + "/shadow";
  std::ofstream(victim) << "root:secret\n";
  ASSERT_EQ(::chmod(victim.c_str(), 0600), 0);
  std::string script = make_script(site.path, "mailer.php"), problem;
  auto d = disable_script(state.path, site.path, ScriptRef{kScriptOwner, "mailer.php"}, 100, "test", &problem);
  ASSERT_TRUE(d) << problem;
  std::string held = d->renamed, parked = site.path + "/parked";
  ASSERT_EQ(::rename(held.c_str(), parked.c_str()), 0);

  auto attempt = [&](const char* what) {
    std::vector<std::string> problems;
    EXPECT_EQ(restore_scripts(state.path, site.path, "test", &problems), 0u) << what;
    EXPECT_EQ(problems.size(), 1u) << what;
    EXPECT_EQ(mode_of(victim), 0600u) << what;
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(script))) << what;
    std::filesystem::remove(held);
    return problems.empty() ? std::string() : problems.front();
  };
  std::filesystem::create_symlink(victim, held);
  EXPECT_NE(attempt("symlink").find("symbolic link"), std::string::npos);
  ASSERT_EQ(::link(victim.c_str(), held.c_str()), 0);
  EXPECT_NE(attempt("hard link").find("owned by root"), std::string::npos);
  make_script(site.path, "mailer.php.spamwarden-held");
  ASSERT_EQ(::chmod(held.c_str(), 0), 0);
  EXPECT_NE(attempt("another file").find("another inode"), std::string::npos);

  ASSERT_EQ(::rename(parked.c_str(), held.c_str()), 0);  // the real one back: restored
  std::vector<std::string> problems;
  EXPECT_EQ(restore_scripts(state.path, site.path, "test", &problems), 1u);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(mode_of(script), 0644u);
}

// Records written before the inode was kept: restored only for a single-link regular file of
// mode 000 that root does not own.
TEST(ScriptDisable, AnOlderRecordIsRestoredOnlyForAModeZeroFileOfTheAccount) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown of the test script)";
  TempDir state, site;
  std::string ok = make_script(site.path, "ok.php.spamwarden-held"), root = site.path + "/root.php.spamwarden-held";
  ASSERT_EQ(::chmod(ok.c_str(), 0), 0);
  std::ofstream(root) << "root's\n";
  ASSERT_EQ(::chmod(root.c_str(), 0600), 0);
  auto record = [&](const std::string& name) {
    return R"({"actor":"script:)" + site.path + R"(","original":")" + site.path + "/" + name + R"(","renamed":")" +
           site.path + "/" + name + R"(.spamwarden-held","mode":420,"time":1})" + "\n";
  };
  std::ofstream(disabled_scripts_path(state.path)) << record("ok.php") << record("root.php");
  std::vector<std::string> problems;
  EXPECT_EQ(restore_scripts(state.path, site.path, "test", &problems), 1u);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("owned by root"), std::string::npos) << problems[0];
  EXPECT_EQ(mode_of(site.path + "/ok.php"), 0644u);
  EXPECT_EQ(mode_of(root), 0600u);
  EXPECT_NE(sw::testing::file_bytes(disabled_scripts_path(state.path)).find("root.php"), std::string::npos);
}

TEST(ScriptDisable, FindsTheScriptsNamedByTheUsersHeldMail) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown of the test script)";
  TempDir state, site, spool;
  std::filesystem::create_directories(spool.path + "/input");
  auto put = [&](const std::string& id, const std::string& login, const std::string& php) {
    std::ofstream(spool.path + "/input/" + id + "-H") << spool_header(id, login, php);
    std::ofstream(spool.path + "/input/" + id + "-D") << id << "-D\nbody\n";
  };
  put("1xVCd7-0003gU-1w", "userx1", std::to_string(kScriptOwner) + ":mailer.php");
  put("1xVCd7-0003gU-2a", "userx1", std::to_string(kScriptOwner) + ":mailer.php");  // the same script
  put("1xVCd7-0003gU-3b", "userx1", std::to_string(kScriptOwner) + ":missing.php");
  put("1xVCd7-0003gU-4c", "someone", std::to_string(kScriptOwner) + ":other.php");  // not the held user's
  std::string mailer = make_script(site.path, "mailer.php"), other = make_script(site.path, "other.php");
  ScriptDisableResult r = disable_held_scripts(spool.path, state.path, "userx1", site.path, 100, "test");
  ASSERT_EQ(r.disabled.size(), 1u);
  EXPECT_EQ(r.disabled[0].original, mailer);
  EXPECT_EQ(r.problems.size(), 1u) << "missing.php is reported";
  EXPECT_EQ(mode_of(other), 0644u) << "another user's mail names it: left alone";
}

// The header's uid is written by the script: a user (uid 1000 here) who can run a script in
// another account's directory must not get that account's files disabled by naming its uid.
TEST(ScriptDisable, OnlyFilesOfTheSubmittingUidAreDisabled) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown of the test script)";
  TempDir state, site, spool;
  std::filesystem::create_directories(spool.path + "/input");
  const std::string id = "1xVCd7-0003gU-1w";
  std::ofstream(spool.path + "/input/" + id + "-H")
      << spool_header(id, "intruder", std::to_string(kScriptOwner) + ":mailer.php", 1000);
  std::ofstream(spool.path + "/input/" + id + "-D") << id << "-D\nbody\n";
  std::string mailer = make_script(site.path, "mailer.php");
  ScriptDisableResult r = disable_held_scripts(spool.path, state.path, "intruder", site.path, 100, "test");
  EXPECT_TRUE(r.disabled.empty());
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].find("owned by uid 65534, the mail was submitted by uid 1000"), std::string::npos)
      << r.problems[0];
  EXPECT_EQ(mode_of(mailer), 0644u);
}

// Runs disable_held_scripts in a child (a read that blocks would hang the test): how many
// scripts it disabled, or -1 when it did not finish within 5 s.
int disabled_by_child(const std::string& spool, const std::string& state, const std::string& site) {
  pid_t child = ::fork();
  if (child < 0) return -2;
  if (child == 0) ::_exit(int(disable_held_scripts(spool, state, "userx1", site, 100, "test").disabled.size()));
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(child, &status, WNOHANG) == child) return WIFEXITED(status) ? WEXITSTATUS(status) : -3;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  return -1;
}

// A -H planted as a link to a file elsewhere is not read (its headers would name any script),
// and a FIFO in its place does not block the freeze worker.
TEST(ScriptDisable, SpoolHeadersAreNotReadThroughLinksNorWaitedOn) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown of the test script)";
  TempDir state, site, spool, elsewhere;
  std::string input = spool.path + "/input/";
  std::filesystem::create_directories(input);
  const std::string linked = "1xVCd7-0003gU-1w", fifo = "1xVCd7-0003gU-2a";
  std::ofstream(elsewhere.path + "/fake-H") << spool_header(linked, "userx1", std::to_string(kScriptOwner) + ":a.php");
  std::filesystem::create_symlink(elsewhere.path + "/fake-H", input + linked + "-H");
  for (const std::string& id : {linked, fifo}) std::ofstream(input + id + "-D") << id << "-D\nbody\n";
  std::string script = make_script(site.path, "a.php");
  EXPECT_EQ(disabled_by_child(spool.path, state.path, site.path), 0) << "disabled through a linked -H";
  EXPECT_EQ(mode_of(script), 0644u);

  std::filesystem::remove(input + linked + "-H");
  ASSERT_EQ(::mkfifo((input + fifo + "-H").c_str(), 0600), 0);
  EXPECT_EQ(disabled_by_child(spool.path, state.path, site.path), 0) << "-1: blocked reading a FIFO";
}

}  // namespace
}  // namespace sw::contain
