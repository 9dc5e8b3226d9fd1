#include "base/loopback_listen.h"

#include <gtest/gtest.h>

namespace sw {
namespace {

TEST(LoopbackListen, OnlyNumeric127AndAWholePort) {
  std::string host, error;
  int port = 0;
  EXPECT_TRUE(parse_loopback_listen("127.0.0.1:9813", &host, &port, &error));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9813);
  EXPECT_FALSE(parse_loopback_listen("0.0.0.0:9813", &host, &port, &error));
  EXPECT_FALSE(parse_loopback_listen("127.0.0.1:0", &host, &port, &error));
  EXPECT_FALSE(parse_loopback_listen("127.0.0.1", &host, &port, &error));
  EXPECT_FALSE(parse_loopback_listen("127.0.0.1:80x", &host, &port, &error)) << "trailing junk";
  EXPECT_FALSE(parse_loopback_listen("127.0.0.1:65536", &host, &port, &error));
  EXPECT_FALSE(parse_loopback_listen("127.example.com:9813", &host, &port, &error)) << "a name, not 127/8";
  EXPECT_FALSE(parse_loopback_listen("127.0.0.300:9813", &host, &port, &error));
  EXPECT_TRUE(parse_loopback_listen("127.3.2.1:1", &host, &port, &error)) << error;
  EXPECT_EQ(host, "127.3.2.1");
  EXPECT_EQ(port, 1);
}

}  // namespace
}  // namespace sw
