// Which clients of a script get a block command, and the command.
#include "weblog/block_commands.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

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

TEST(BlockCommands, CloudflareEdgesAreNotBlocked) {
  std::string why;
  for (const char* edge :
       {"172.68.10.1", "104.16.0.1", "162.159.255.1", "::ffff:141.101.64.9", "2606:4700::1", "2a06:98c7::1"}) {
    EXPECT_EQ(blockable_address(edge, {}, &why), std::nullopt) << edge;
    EXPECT_NE(why.find("CF-Connecting-IP"), std::string::npos) << edge;
  }
  EXPECT_EQ(blockable_address("104.32.0.1", {}, &why), "104.32.0.1") << "past 104.24.0.0/14";
}

TEST(BlockCommands, CommandOfTheFirewallInstalled) {
  EXPECT_EQ(block_command("203.0.113.9", Firewall::Csf, "spamwarden: x"), "csf -d 203.0.113.9 'spamwarden: x'");
  EXPECT_EQ(block_command("203.0.113.9", Firewall::Iptables, ""), "iptables -I INPUT -s 203.0.113.9 -j DROP");
  EXPECT_EQ(block_command("2001:db8::1", Firewall::Iptables, ""), "ip6tables -I INPUT -s 2001:db8::1 -j DROP");
  EXPECT_EQ(block_command("203.0.113.9", Firewall::Nft, ""),
            "nft add rule inet filter input ip saddr 203.0.113.9 drop");
  EXPECT_EQ(block_command("2001:db8::1", Firewall::Nft, ""),
            "nft add rule inet filter input ip6 saddr 2001:db8::1 drop");
  EXPECT_FALSE(firewall_assumes(Firewall::Nft).empty());

  std::string r = testing::TempDir() + "/firewall_root";
  std::filesystem::remove_all(r);
  auto touch = [&](const std::string& path) {
    std::filesystem::create_directories(std::filesystem::path(r + path).parent_path());
    std::ofstream(r + path) << "";
  };
  std::filesystem::create_directories(r + "/usr/local/cpanel");  // cPanel without csf
  EXPECT_EQ(firewall_of(r), Firewall::Iptables) << "none found";
  touch("/usr/sbin/nft");
  EXPECT_EQ(firewall_of(r), Firewall::Nft);
  touch("/usr/sbin/iptables");
  EXPECT_EQ(firewall_of(r), Firewall::Iptables);
  touch("/etc/csf/csf.conf");
  EXPECT_EQ(firewall_of(r), Firewall::Csf);
  std::filesystem::remove_all(r);
}

TEST(BlockCommands, OwnAddressesBehindCpanelNat) {
  std::string r = testing::TempDir() + "/own_root";
  std::filesystem::remove_all(r);
  std::filesystem::create_directories(r + "/var/cpanel");
  std::filesystem::create_directories(r + "/etc");
  std::ofstream(r + "/var/cpanel/cpnat") << "172.31.5.10 54.93.10.20\n172.31.5.11\t54.93.10.21\n";
  std::ofstream(r + "/var/cpanel/mainip") << "54.93.10.22";
  std::ofstream(r + "/etc/ips") << "198.51.100.7:255.255.255.0:198.51.100.255\n";
  auto own = own_addresses(r);
  for (const char* ip : {"54.93.10.20", "54.93.10.21", "54.93.10.22", "198.51.100.7"}) {
    EXPECT_NE(std::find(own.begin(), own.end(), ip), own.end()) << ip;
    std::string why;
    EXPECT_EQ(blockable_address(ip, own, &why), std::nullopt) << ip;
    EXPECT_EQ(why, "this server's own address");
  }
  std::filesystem::remove_all(r);
}

}  // namespace
}  // namespace sw::weblog
