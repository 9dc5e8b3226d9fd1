// eximlab_test.cc - proves the real-Exim lab works: start/stop, local and authenticated
// submissions, queued messages and rejected RCPTs all reach a real Exim main log.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>

#include "eximlab.h"

namespace {

using sw::testing::EximLab;
using sw::testing::read_file;

#define SKIP_WITHOUT_LAB()                              \
  do {                                                  \
    std::string why;                                    \
    if (!EximLab::available(&why)) GTEST_SKIP() << why; \
  } while (0)

bool contains(const std::string& text, const std::string& re) { return std::regex_search(text, std::regex(re)); }

int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

bool listed_in_trusted_configs(const std::string& path) {
  return contains(read_file("/etc/exim4/trusted_configs"), "(^|\n)" + path + "(\n|$)");
}

TEST(EximLabTest, StartsAndStopsCleanly) {
  SKIP_WITHOUT_LAB();
  std::string dir;
  {
    EximLab lab;
    dir = lab.dir();
    EXPECT_GT(lab.port(), 0);
    EXPECT_TRUE(std::filesystem::exists(lab.mainlog()));
    EXPECT_TRUE(listed_in_trusted_configs(dir + "/server.conf"));
    EXPECT_TRUE(contains(read_file(lab.mainlog()), "daemon started: pid=\\d+, no queue runs"));
    EXPECT_EQ(lab.exim({"-bpc"}), "0\n");
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(listed_in_trusted_configs(dir + "/server.conf"));
}

TEST(EximLabTest, SendmailAsLogsCwdArgumentsAndUser) {
  SKIP_WITHOUT_LAB();
  EximLab lab;
  lab.sendmail_as("userx1", "/home/userx1/public_html", "To: someone@gmail.example\nSubject: lab test\n\nhello\n");
  lab.settle();
  std::string log = read_file(lab.mainlog());
  EXPECT_TRUE(contains(log, R"(\[\d+\] cwd=/home/userx1/public_html 3 args: /usr/sbin/sendmail -t -i\n)")) << log;
  EXPECT_TRUE(
      contains(log, R"(<= userx1@host\.lab\.example U=userx1 P=local S=\d+ .*T="lab test" for someone@gmail\.example)"))
      << log;
  EXPECT_TRUE(contains(log, R"(=> someone@gmail\.example F=<userx1@host\.lab\.example> R=lookuphost T=remote_smtp)"))
      << log;
}

TEST(EximLabTest, AuthBurstLogsDovecotAuthenticator) {
  SKIP_WITHOUT_LAB();
  EximLab lab({.pid = false, .split_spool = true, .acl_includes = {}});
  lab.play("auth-burst", {"--count", "2", "--rcpts", "30", "--failed-logins", "2", "--seed", "1"});
  lab.settle();
  std::string log = read_file(lab.mainlog());
  EXPECT_EQ(count(log, " P=esmtpa A=dovecot_login:sales@acme-shop.example "), 2) << log;
  EXPECT_EQ(count(log, "dovecot_login authenticator failed for (User) [127.0.0.66]:"), 2) << log;
  EXPECT_TRUE(contains(log, "535 Incorrect authentication data \\(set_id=sales@acme-shop.example\\)"));
  EXPECT_FALSE(contains(log, "\n\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\[\\d+\\]")) << "no +pid expected";
}

TEST(EximLabTest, DeferredMessageStaysInQueue) {
  SKIP_WITHOUT_LAB();
  EximLab lab;
  lab.play("queued", {"--count", "2", "--domain", "x.defer.test"});
  lab.settle();
  std::string queue = lab.exim({"-bp"});
  EXPECT_EQ(count(queue, "<alice@lab.example>"), 2) << queue;
  EXPECT_EQ(count(queue, "@x.defer.test"), 2) << queue;
  std::string log = read_file(lab.mainlog());
  EXPECT_TRUE(contains(log, R"( == \S+@x\.defer\.test R=lookuphost T=remote_smtp defer \(-44\) .*451 )")) << log;
}

TEST(EximLabTest, DictionaryAttackLogsRejectedRcpt) {
  SKIP_WITHOUT_LAB();
  EximLab lab;
  lab.play("dictionary", {"--count", "40", "--hit-pct", "0", "--domain", "acme-shop.example"});
  lab.settle();
  std::string log = read_file(lab.mainlog());
  int rejected = count(log, "rejected RCPT <");
  EXPECT_GE(rejected, 30) << log;  // "contact" and "postmaster" guesses are real aliases
  EXPECT_TRUE(contains(
      log,
      R"(H=\(mail\.bulk-sender\.example\) \[127\.0\.0\.99\]:\d+ F=<\S+> rejected RCPT <\S+@acme-shop\.example>: Unknown user)"))
      << log;
}

TEST(EximLabTest, AclIncludeHookIsUsed) {
  SKIP_WITHOUT_LAB();
  char path[] = "/tmp/eximlab-acl.XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  struct Unlink {  // removes the snippet even when an assertion or exception ends the test
    const char* p;
    ~Unlink() { unlink(p); }
  } unlink_guard{path};
  std::string snippet = "  warn logwrite = ACLHOOK sendmail by $sender_ident\n";
  ASSERT_EQ(write(fd, snippet.data(), snippet.size()), static_cast<ssize_t>(snippet.size()));
  close(fd);
  {
    EximLab lab({.acl_includes = {std::string("not_smtp:") + path}});
    lab.sendmail_as("userx2", "/home/userx2", "To: bob@lab.example\nSubject: hook\n\nhi\n");
    lab.settle();
    EXPECT_TRUE(contains(read_file(lab.mainlog()), "ACLHOOK sendmail by userx2"));
  }
}

}  // namespace
