#include "eximlog/cwd_matcher.h"

#include <gtest/gtest.h>

namespace sw::eximlog {
namespace {

TEST(HomeLogin, NamesTheLoginWhoseHomeHoldsTheDirectory) {
  EXPECT_EQ(home_login("/home/userx1/public_html/wp"), "userx1");
  EXPECT_EQ(home_login("/home/userx2"), "userx2");
  EXPECT_EQ(home_login("/home3/bob/public_html"), "bob");
  EXPECT_EQ(home_login("/home/virtfs/carol/home/carol"), "carol");
  for (const char* none : {"/var/www/html", "/home", "/home/", "/homes/x/y", "/home//x", "/home/../etc", "/root"})
    EXPECT_EQ(home_login(none), "") << none;
}

TEST(CwdMatcher, WithoutPidTheOldestPendingLineIsTaken) {
  CwdMatcher m;
  m.add(100, 0, 1, "/var/www/a");
  m.add(100, 0, 2, "/var/www/b");
  EXPECT_EQ(m.take(100, 0, "www-data"), 1u);
  EXPECT_EQ(m.take(101, 0, "www-data"), 2u);
  EXPECT_EQ(m.take(101, 0, "www-data"), CwdMatcher::kNone);
  m.add(100, 0, 3, "/var/www/a");
  EXPECT_EQ(m.take(106, 0, "www-data"), CwdMatcher::kNone);  // older than 5 s: not credible
}

TEST(CwdMatcher, WithoutPidALineInTheLoginsOwnHomeIsPreferred) {
  CwdMatcher m;
  m.add(100, 0, 1, "/home/userx1/public_html");
  m.add(100, 0, 2, "/home/news/public_html/newsletter");
  m.add(100, 0, 3, "/home/userx1/public_html");
  EXPECT_EQ(m.take(100, 0, "news"), 2u);
  EXPECT_EQ(m.take(100, 0, "userx1"), 1u);
  EXPECT_EQ(m.take(100, 0, "root"), 3u);  // nothing of root's pending: the oldest
}

TEST(CwdMatcher, WithPidThePairingIsExact) {
  CwdMatcher m;
  m.add(100, 77, 1, "/home/userx1/public_html");
  m.add(100, 78, 2, "/home/news/public_html");
  EXPECT_EQ(m.take(100, 78, "userx1"), 2u);  // the pid decides, whatever the login
  EXPECT_EQ(m.take(100, 77, "news"), 1u);
  EXPECT_EQ(m.take(100, 77, "news"), CwdMatcher::kNone);
}

}  // namespace
}  // namespace sw::eximlog
