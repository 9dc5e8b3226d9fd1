// The optional script rename: which header values name a script, which files qualify, that a
// disabled script is renamed and chmod 000 and that release's restore puts it back.
#include "contain/script_disable.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "base/temp_dir.h"

namespace sw::contain {
namespace {

constexpr uid_t kScriptOwner = 65534;  // nobody: a non-root owner the test can chown to as root

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

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

// A minimal -H file of a local submission by `login` carrying the PHP header.
std::string spool_header(const std::string& id, const std::string& login, const std::string& php_header) {
  std::string h = "Subject: hi\n", x = "X-PHP-Originating-Script: " + php_header + "\n";
  char a[16], b[16];
  std::snprintf(a, sizeof a, "%03zu  ", h.size());
  std::snprintf(b, sizeof b, "%03zu  ", x.size());
  return id + "-H\n" + login + " 1000 1000\n<" + login + "@host.example>\n1795361897 0\n-ident " + login +
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
  EXPECT_NE(read_file(disabled_scripts_path(state.path)).find("mailer.php.spamwarden-held"), std::string::npos);
  EXPECT_NE(read_file(state.path + "/audit.jsonl").find("\"disable_script\""), std::string::npos);

  // Again (the second freeze pass): already disabled, not a problem, nothing recorded twice.
  EXPECT_FALSE(disable_script(state.path, site.path, ScriptRef{kScriptOwner, "mailer.php"}, 101, "test", &problem));
  EXPECT_EQ(problem, "");

  std::vector<std::string> problems;
  EXPECT_EQ(restore_scripts(state.path, "/elsewhere", "test", &problems), 0u) << "another directory's hold";
  EXPECT_EQ(restore_scripts(state.path, site.path, "test", &problems), 1u);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(mode_of(script), 0644u);
  EXPECT_FALSE(std::filesystem::exists(script + ".spamwarden-held"));
  EXPECT_EQ(read_file(disabled_scripts_path(state.path)), "");
  EXPECT_NE(read_file(state.path + "/audit.jsonl").find("\"restore_script\""), std::string::npos);
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
  EXPECT_EQ(read_file(disabled_scripts_path(state.path)), "");
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

}  // namespace
}  // namespace sw::contain
