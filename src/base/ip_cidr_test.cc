// Addresses and CIDR ranges (base/ip_cidr.h).
#include "base/ip_cidr.h"

#include <gtest/gtest.h>

namespace sw {
namespace {

TEST(IpCidr, V4V6AndMapped) {
  auto v4 = parse_cidr("192.0.2.0/25");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(cidr_contains(*v4, *parse_ip("192.0.2.127")));
  EXPECT_FALSE(cidr_contains(*v4, *parse_ip("192.0.2.128")));
  EXPECT_TRUE(cidr_contains(*v4, *parse_ip("::ffff:192.0.2.1")));
  auto v6 = parse_cidr("2001:db8::/33");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(cidr_contains(*v6, *parse_ip("2001:db8:7fff::1")));
  EXPECT_FALSE(cidr_contains(*v6, *parse_ip("2001:db8:8000::1")));
  EXPECT_FALSE(cidr_contains(*v6, *parse_ip("192.0.2.1")));
  EXPECT_TRUE(cidr_contains(*parse_cidr("0.0.0.0/0"), *parse_ip("203.0.113.9")));
  EXPECT_FALSE(parse_cidr("2001:db8::/129"));
  EXPECT_FALSE(parse_cidr("192.0.2.1/"));
}

TEST(IpCidr, Loopback) {
  for (const char* yes : {"127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"})
    EXPECT_TRUE(is_loopback_text(yes)) << yes;
  for (const char* no : {"128.0.0.1", "::2", "2001:db8::1", "", "localhost", "::ffff:192.0.2.1"})
    EXPECT_FALSE(is_loopback_text(no)) << no;
}

// Every address of the range, as inet_ntop writes it, starts with the prefix text: addresses
// whose zero groups "::" compresses included.
TEST(IpCidr, RangeTextPrefixStartsEveryAddressOfTheRange) {
  EXPECT_EQ(range_text_prefix(*parse_cidr("203.0.113.0/24")), "203.0.113.");
  EXPECT_EQ(range_text_prefix(*parse_cidr("203.0.113.0/20")), "203.0.");
  EXPECT_EQ(range_text_prefix(*parse_cidr("2001:db8:1:2::/64")), "2001:db8:1:2:");
  EXPECT_EQ(range_text_prefix(*parse_cidr("2001:db8:0:5::/64")), "2001:db8:");
  EXPECT_EQ(range_text_prefix(*parse_cidr("2001:db8::/127")), "2001:db8:");
  EXPECT_EQ(range_text_prefix(*parse_cidr("::/0")), "");
  EXPECT_EQ(range_text_prefix(*parse_cidr("192.0.2.40/32")), "192.0.2.40");  // as "[192.0.2.40]" holds it
  EXPECT_EQ(range_text_prefix(*parse_cidr("2001:db8:1:2:3:4:5:6/128")), "2001:db8:1:2:3:4:5:6");
  uint32_t seed = 11;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
  for (const char* text : {"2001:db8:1:2::/64", "2001:db8:0:5::/64", "2001:db8::/48", "198.51.100.0/24",
                           "198.51.100.7/32", "2001:db8:1:2:3:4:5:6/128"}) {
    CidrRange range = *parse_cidr(text);
    std::string prefix = range_text_prefix(range);
    for (int i = 0; i < 2000; ++i) {
      IpAddress a = range.network;
      size_t length = a.v6 ? 16 : 4;
      for (size_t byte = size_t(range.prefix) / 8; byte < length; ++byte)
        a.bytes[byte] = next() % 3 == 0 ? 0 : uint8_t(next() >> 8);  // zero groups often
      ASSERT_TRUE(cidr_contains(range, a));
      EXPECT_TRUE(format_ip(a).starts_with(prefix)) << format_ip(a) << " in " << text;
    }
  }
}

// The range that holds an address: a host's /64 (what the web report blocks when several of
// its addresses drove a mailer), written as a rule takes it.
TEST(IpCidr, AddressWithoutItsPort) {
  EXPECT_EQ(address_without_port("203.0.113.66:51234"), "203.0.113.66");
  EXPECT_EQ(address_without_port("[2001:db8::1]:443"), "2001:db8::1");
  EXPECT_EQ(address_without_port("[2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(address_without_port("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(address_without_port("host.example:http"), "host.example:http") << "no port number";
  EXPECT_EQ(address_without_port("[unclosed"), "[unclosed");
}

TEST(IpCidr, RangeOfAnAddress) {
  EXPECT_EQ(format_cidr(range_of(*parse_ip("2001:db8:1:2:aa:bb:cc:dd"), 64)), "2001:db8:1:2::/64");
  EXPECT_EQ(format_cidr(range_of(*parse_ip("198.51.100.77"), 24)), "198.51.100.0/24");
  EXPECT_EQ(format_cidr(range_of(*parse_ip("198.51.100.77"), 64)), "198.51.100.77");  // clamped: the address
  EXPECT_EQ(format_cidr(range_of(*parse_ip("2001:db8::ff"), 127)), "2001:db8::fe/127");
  EXPECT_TRUE(cidr_contains(range_of(*parse_ip("2001:db8:1:2::1"), 64), *parse_ip("2001:db8:1:2:ffff::9")));
}

}  // namespace
}  // namespace sw
