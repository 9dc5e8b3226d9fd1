// IPv4/IPv6 addresses and CIDR ranges: --client-ip, the allow and deny lists, what is never
// blocked. Pure (inet_pton only).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sw {

struct IpAddress {
  std::array<uint8_t, 16> bytes{};  // IPv4 stored in the first 4 bytes
  bool v6 = false;
};

struct CidrRange {
  IpAddress network;
  int prefix = 0;
};

std::optional<IpAddress> parse_ip(std::string_view text);
// "192.0.2.0/24", "2001:db8::/32", or a bare address (full-length prefix).
std::optional<CidrRange> parse_cidr(std::string_view text);
// An IPv4-mapped IPv6 address ("::ffff:192.0.2.1") matches the IPv4 range.
bool cidr_contains(const CidrRange& range, const IpAddress& address);
// The IPv4 address an IPv4-mapped one stands for (an IPv4 client on a dual-stack socket);
// any other address as it is.
IpAddress without_v4_mapping(const IpAddress& address);
// 127.0.0.0/8, ::1, or an IPv4-mapped 127.x: this machine itself (a content filter handing
// mail back to Exim, a local relay). Text that is no address is not.
bool is_loopback_text(std::string_view ip);
// An endpoint as logs and headers write it, without its port: "203.0.113.66:51234" and
// "[2001:db8::1]:443" give the address, a bracketed address loses its brackets; anything else
// is returned as it is.
std::string_view address_without_port(std::string_view endpoint);
// The address as inet_ntop writes it ("192.0.2.1", "2001:db8::1").
std::string format_ip(const IpAddress& address);
// The range of `prefix` bits that holds the address: 2001:db8:1:2::/64 for 2001:db8:1:2::7.
CidrRange range_of(const IpAddress& address, int prefix);
// "2001:db8:1:2::/64"; a full-length range as its address alone.
std::string format_cidr(const CidrRange& range);
// Text that every address of the range starts with as inet_ntop (and Exim) writes it, for a
// byte search ahead of the exact test: "203.0.113." for 203.0.113.0/24, "2001:db8:1:2:" for
// 2001:db8:1:2::/64. Whole octets or groups only, and no zero group (which "::" may hide):
// "2001:db8:" for 2001:db8:0:5::/64. "" when nothing is certain (a /4, ::/0).
std::string range_text_prefix(const CidrRange& range);

}  // namespace sw
