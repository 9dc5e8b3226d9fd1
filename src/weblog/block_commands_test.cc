// Which clients of a script get a block command, and the command.
#include "weblog/block_commands.h"

#include <gtest/gtest.h>

namespace sw::weblog {
namespace {

TEST(BlockCommands, OnlyPublicAddressesAreBlocked) {
  std::vector<std::string> own = {"192.0.2.2"};
  std::string why;
  EXPECT_EQ(blockable_address("203.0.113.9", own, &why), "203.0.113.9");
  EXPECT_EQ(blockable_address("::ffff:203.0.113.9", own, &why), "203.0.113.9") << "iptables, not ip6tables";
  EXPECT_EQ(blockable_address("2001:DB8:0::1", own, &why), "2001:db8::1");
  for (const char* no : {"127.0.0.1",   "0:0:0:0:0:0:0:1",  "::ffff:127.0.0.1",
                         "0.0.0.0",     "10.1.2.3",         "172.20.0.1",
                         "192.168.1.1", "169.254.1.1",      "fe80::1",
                         "fd00::5",     "fe80::1%eth0",     "0.0.0.0/0",
                         "10.0.0.0/8",  "evil.example.com", "-h",
                         "192.0.2.2",   "localhost",        "",
                         "240.0.0.1",   "255.255.255.255",  "198.18.0.1",
                         "192.0.0.8",   "64:ff9b::a00:1",   "::ffff:100.64.0.1"}) {
    EXPECT_EQ(blockable_address(no, own, &why), std::nullopt) << no;
    EXPECT_FALSE(why.empty()) << no;
  }
  EXPECT_EQ(blockable_address(std::string("203.0.113.9\0x", 13), own, &why), std::nullopt) << "a NUL inside";
  blockable_address("192.0.2.2", own, &why);
  EXPECT_EQ(why, "this server's own address");
}

TEST(BlockCommands, CsfOnCpanelIptablesElsewhere) {
  EXPECT_EQ(block_command("203.0.113.9", true, "spamwarden: x"), "csf -d 203.0.113.9 'spamwarden: x'");
  EXPECT_EQ(block_command("203.0.113.9", false, ""), "iptables -I INPUT -s 203.0.113.9 -j DROP");
  EXPECT_EQ(block_command("2001:db8::1", false, ""), "ip6tables -I INPUT -s 2001:db8::1 -j DROP");
}

}  // namespace
}  // namespace sw::weblog
