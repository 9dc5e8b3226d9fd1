// Containment without a store, Exim or alerts: hold lists appear on hold, and only the lists
// whose content changed are rewritten (each write is two fsyncs inside the read loop).
#include "base/temp_dir.h"
#include "contain/containment.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace sw::contain {
namespace {

int64_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? int64_t(st.st_ino) : -1;
}

detect::Trip trip(detect::ActorType type, const std::string& key, const std::string& user = "") {
  return detect::Trip{detect::ActorRef{type, key}, "21 messages in 10s (limit 20)", user, 0};
}

TEST(ContainmentTest, RewritesOnlyChangedListsAndRestoresMissingOnes) {
  TempDir d;
  Containment c({.state_dir = d.path, .spool_dir = "", .freeze_queued = false}, nullptr, nullptr, nullptr,
                [](const std::string&) {});
  c.start();
  std::string script = hold_list_path(d.path, detect::ActorType::Script);
  std::string user = hold_list_path(d.path, detect::ActorType::LocalUser);
  std::string ip = hold_list_path(d.path, detect::ActorType::ClientIp);
  ASSERT_GE(inode_of(ip), 0) << "every list exists from the start (Exim's lsearch needs them)";
  int64_t ip_inode = inode_of(ip), script_inode = inode_of(script);

  EXPECT_TRUE(c.hold(trip(detect::ActorType::Script, "/home/u1/public_html", "u1"), 100));
  EXPECT_NE(inode_of(script), script_inode) << "the script list was rewritten (temp + rename)";
  EXPECT_EQ(inode_of(ip), ip_inode) << "the unchanged client_ip list was left alone";
  std::string users;
  {
    std::ifstream in(user);
    users.assign(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_NE(users.find("u1"), std::string::npos) << users;

  std::filesystem::remove(ip);  // somebody removed a list: the next hold puts it back
  EXPECT_TRUE(c.hold(trip(detect::ActorType::AuthAccount, "a@b.example"), 101));
  EXPECT_GE(inode_of(ip), 0);
  EXPECT_FALSE(c.hold(trip(detect::ActorType::AuthAccount, "a@b.example"), 102)) << "already held";
  EXPECT_EQ(c.active(), 2u);
}

}  // namespace
}  // namespace sw::contain
