#include "weblog/block_commands.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "base/text.h"

namespace sw::weblog {

std::string block_command(std::string_view ip, bool cpanel, std::string_view why) {
  if (cpanel) return fmt::format("csf -d {} {}", shell_quote(ip), shell_quote(why));
  bool v6 = ip.find(':') != std::string_view::npos;
  return fmt::format("{} -I INPUT -s {} -j DROP", v6 ? "ip6tables" : "iptables", shell_quote(ip));
}

namespace {

// Why an IPv4 address (host order) is not one to block, or nullptr.
const char* v4_not_blockable(uint32_t a) {
  auto in = [&](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  if (in(0x7F000000, 8)) return "loopback";
  if (in(0x00000000, 8)) return "not a host address";
  if (in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10))
    return "a private address (a proxy or the local network?)";
  if (in(0xA9FE0000, 16)) return "link-local";
  if (in(0xE0000000, 4) || a == 0xFFFFFFFF) return "not a host address";
  return nullptr;
}

std::string v4_text(const in_addr& a) {
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &a, buf, sizeof buf) ? buf : "";
}

}  // namespace

std::optional<std::string> blockable_address(std::string_view client, const std::vector<std::string>& own,
                                             std::string* why_not) {
  auto refuse = [&](const char* why) -> std::optional<std::string> {
    if (why_not) *why_not = why;
    return std::nullopt;
  };
  std::string text(client.substr(0, 64));
  std::string address;
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    if (const char* why = v4_not_blockable(ntohl(v4.s_addr))) return refuse(why);
    address = v4_text(v4);
  } else if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {  // an IPv4 client on a dual-stack socket: iptables blocks it
      std::memcpy(&v4.s_addr, v6.s6_addr + 12, 4);
      if (const char* why = v4_not_blockable(ntohl(v4.s_addr))) return refuse(why);
      address = v4_text(v4);
    } else {
      if (IN6_IS_ADDR_LOOPBACK(&v6)) return refuse("loopback");
      if (IN6_IS_ADDR_UNSPECIFIED(&v6) || IN6_IS_ADDR_MULTICAST(&v6)) return refuse("not a host address");
      if (IN6_IS_ADDR_LINKLOCAL(&v6)) return refuse("link-local");
      if ((v6.s6_addr[0] & 0xFE) == 0xFC) return refuse("a private address (a proxy or the local network?)");
      char buf[INET6_ADDRSTRLEN];
      address = inet_ntop(AF_INET6, &v6, buf, sizeof buf) ? buf : "";
    }
  } else {
    if (client == "localhost") return refuse("loopback");
    return refuse(client.find('/') != std::string_view::npos ? "a range, not one address" : "not an IP address");
  }
  if (std::find(own.begin(), own.end(), address) != own.end()) return refuse("this server's own address");
  return address;
}

std::vector<std::string> own_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    char buf[INET6_ADDRSTRLEN];
    if (i->ifa_addr->sa_family == AF_INET) {
      if (inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf))
        out.push_back(buf);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      if (inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, buf, sizeof buf))
        out.push_back(buf);
    }
  }
  freeifaddrs(list);
  return out;
}

}  // namespace sw::weblog
