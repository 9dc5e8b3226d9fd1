#include "base/ip_cidr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>

#include "base/text.h"

namespace sw {

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return std::nullopt;  // inet_pton would stop there
  std::string copy(text);
  IpAddress address;
  if (copy.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) != 1) return std::nullopt;
    address.v6 = true;
    return address;
  }
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) != 1) return std::nullopt;
  return address;
}

std::optional<CidrRange> parse_cidr(std::string_view text) {
  size_t slash = text.find('/');
  auto address = parse_ip(text.substr(0, slash));
  if (!address) return std::nullopt;
  int max_prefix = address->v6 ? 128 : 32;
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 || prefix > max_prefix)
      return std::nullopt;
  }
  return CidrRange{*address, prefix};
}

namespace {

bool mapped_v4(const IpAddress& a, IpAddress& out) {
  for (int i = 0; i < 10; ++i)
    if (a.bytes[i] != 0) return false;
  if (a.bytes[10] != 0xff || a.bytes[11] != 0xff) return false;
  out = IpAddress();
  for (int i = 0; i < 4; ++i) out.bytes[i] = a.bytes[12 + i];
  return true;
}

}  // namespace

bool cidr_contains(const CidrRange& range, const IpAddress& address) {
  IpAddress candidate = address;
  if (candidate.v6 != range.network.v6) {
    if (!candidate.v6 || !mapped_v4(address, candidate)) return false;
  }
  int bits = range.prefix;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : uint8_t(0xff << (8 - bits));
    if ((candidate.bytes[i] & mask) != (range.network.bytes[i] & mask)) return false;
  }
  return true;
}

IpAddress without_v4_mapping(const IpAddress& address) {
  IpAddress v4;
  return address.v6 && mapped_v4(address, v4) ? v4 : address;
}

bool is_loopback_text(std::string_view ip) {
  auto a = parse_ip(ip);
  if (!a) return false;
  IpAddress v = without_v4_mapping(*a);
  if (!v.v6) return v.bytes[0] == 127;
  for (size_t i = 0; i < 15; ++i)
    if (v.bytes[i] != 0) return false;
  return v.bytes[15] == 1;
}

std::string range_text_prefix(const CidrRange& range) {
  std::string out;
  const auto& b = range.network.bytes;
  // The separator after each whole part, but not after the address's last (a /32, a /128).
  if (!range.network.v6) {
    for (int i = 0; i < range.prefix / 8; ++i) out += std::to_string(b[size_t(i)]) + (i < 3 ? "." : "");
    return out;
  }
  for (int i = 0; i < range.prefix / 16; ++i) {
    unsigned group = unsigned(b[size_t(2 * i)]) << 8 | b[size_t(2 * i + 1)];
    if (group == 0) break;
    char hex[8];
    std::snprintf(hex, sizeof hex, i < 7 ? "%x:" : "%x", group);
    out += hex;
  }
  return out;
}

std::string format_ip(const IpAddress& address) {
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), buf, sizeof buf) ? buf : "";
}

CidrRange range_of(const IpAddress& address, int prefix) {
  CidrRange range{address, std::clamp(prefix, 0, address.v6 ? 128 : 32)};
  for (int bit = range.prefix; bit < 128; ++bit) range.network.bytes[size_t(bit / 8)] &= uint8_t(~(0x80u >> (bit % 8)));
  return range;
}

std::string format_cidr(const CidrRange& range) {
  std::string text = format_ip(range.network);
  return range.prefix == (range.network.v6 ? 128 : 32) ? text : text + "/" + std::to_string(range.prefix);
}

std::string_view address_without_port(std::string_view endpoint) {
  if (endpoint.starts_with('[')) {
    size_t close = endpoint.find(']');
    return close == std::string_view::npos ? endpoint : endpoint.substr(1, close - 1);
  }
  size_t colon = endpoint.find(':');
  if (colon != std::string_view::npos && endpoint.find(':', colon + 1) == std::string_view::npos &&
      parse_uint(endpoint.substr(colon + 1)))
    return endpoint.substr(0, colon);  // IPv4:port
  return endpoint;
}

}  // namespace sw
