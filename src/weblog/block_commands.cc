#include "weblog/block_commands.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "base/ip_cidr.h"
#include "base/text.h"

namespace sw::weblog {

std::string block_command(std::string_view ip, bool cpanel, std::string_view why) {
  if (cpanel) return fmt::format("csf -d {} {}", shell_quote(ip), shell_quote(why));
  bool v6 = ip.find(':') != std::string_view::npos;
  return fmt::format("{} -I INPUT -s {} -j DROP", v6 ? "ip6tables" : "iptables", shell_quote(ip));
}

namespace {

constexpr const char* kPrivate = "a private address (a proxy or the local network?)";
constexpr const char* kNotAHost = "not a host address";

// Addresses that are never one attacker's: blocking them would cut off the server itself, its
// proxy or its network. An IPv4-mapped address falls in the IPv4 ranges.
struct NeverBlocked {
  const char* range;
  const char* why;
};
constexpr NeverBlocked kNeverBlocked[] = {
    {"127.0.0.0/8", "loopback"},
    {"::1/128", "loopback"},
    {"0.0.0.0/8", kNotAHost},
    {"::/128", kNotAHost},
    {"224.0.0.0/4", kNotAHost},
    {"240.0.0.0/4", kNotAHost},
    {"ff00::/8", kNotAHost},
    {"10.0.0.0/8", kPrivate},
    {"172.16.0.0/12", kPrivate},
    {"192.168.0.0/16", kPrivate},
    {"100.64.0.0/10", kPrivate},
    {"fc00::/7", kPrivate},
    {"198.18.0.0/15", kPrivate},
    {"192.0.0.0/24", kPrivate},
    {"64:ff9b::/96", "a NAT64 gateway's address (its clients share it)"},
    {"169.254.0.0/16", "link-local"},
    {"fe80::/10", "link-local"},
};

}  // namespace

std::optional<std::string> blockable_address(std::string_view client, const std::vector<std::string>& own,
                                             std::string* why_not) {
  auto refuse = [&](const char* why) -> std::optional<std::string> {
    if (why_not) *why_not = why;
    return std::nullopt;
  };
  auto parsed = client.size() <= 64 ? parse_ip(client) : std::nullopt;
  if (!parsed) {
    if (client == "localhost") return refuse("loopback");
    return refuse(client.find('/') != std::string_view::npos ? "a range, not one address" : "not an IP address");
  }
  // The table's ranges parsed once, not for every client.
  static const std::vector<std::pair<CidrRange, const char*>> never_blocked = [] {
    std::vector<std::pair<CidrRange, const char*>> out;
    for (const auto& [range, why] : kNeverBlocked) out.emplace_back(*parse_cidr(range), why);
    return out;
  }();
  for (const auto& [range, why] : never_blocked)
    if (cidr_contains(range, *parsed)) return refuse(why);
  // As the firewall wants it: an IPv4 client on a dual-stack socket is blocked by iptables.
  std::string address = format_ip(without_v4_mapping(*parsed));
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
