// IPv4/IPv6 addresses and CIDR ranges for --client-ip. Pure (inet_pton only).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sw::queue {

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

}  // namespace sw::queue
