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

}  // namespace
}  // namespace sw
