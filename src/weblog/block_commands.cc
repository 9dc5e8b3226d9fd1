#include "weblog/block_commands.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <utility>
#include <vector>

#include "base/ip_cidr.h"
#include "base/text.h"

namespace sw::weblog {

Firewall firewall_of(const std::string& root) {
  auto installed = [&](const char* path) { return ::access((root + path).c_str(), F_OK) == 0; };
  if (installed("/etc/csf/csf.conf") || installed("/usr/sbin/csf")) return Firewall::Csf;
  for (const char* iptables : {"/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"})
    if (installed(iptables)) return Firewall::Iptables;
  for (const char* nft : {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"})
    if (installed(nft)) return Firewall::Nft;
  return Firewall::Iptables;
}

std::string_view firewall_assumes(Firewall fw) {
  return fw == Firewall::Nft ? "nft: an inet table \"filter\" with an \"input\" chain (Debian's /etc/nftables.conf)"
                             : "";
}

std::string block_command(std::string_view ip, Firewall fw, std::string_view why) {
  bool v6 = ip.find(':') != std::string_view::npos;
  switch (fw) {
    case Firewall::Csf: return fmt::format("csf -d {} {}", shell_quote(ip), shell_quote(why));
    case Firewall::Nft:
      return fmt::format("nft add rule inet filter input {} saddr {} drop", v6 ? "ip6" : "ip", shell_quote(ip));
    case Firewall::Iptables: break;
  }
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

// Cloudflare's published edge ranges (cloudflare.com/ips): behind its proxy every client
// arrives from these, and blocking one cuts off a share of all visitors.
constexpr const char* kCloudflare =
    "a Cloudflare proxy: the real client is in CF-Connecting-IP, which this log does not record (mod_remoteip)";
constexpr const char* kCloudflareRanges[] = {
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22",  "103.31.4.0/22",   "141.101.64.0/18", "108.162.192.0/18",
    "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17", "162.158.0.0/15",  "104.16.0.0/13",
    "104.24.0.0/14",   "172.64.0.0/13",   "131.0.72.0/22",    "2400:cb00::/32",  "2606:4700::/32",  "2803:f800::/32",
    "2405:b500::/32",  "2405:8100::/32",  "2a06:98c0::/29",   "2c0f:f248::/32"};

// The public addresses cPanel records for a server behind a NAT, under root.
void cpanel_addresses(const std::string& root, std::vector<std::string>& out) {
  auto add = [&](std::string_view text) {
    if (auto ip = parse_ip(trim(text))) out.push_back(format_ip(without_v4_mapping(*ip)));
  };
  std::string line;
  for (std::ifstream in(root + "/var/cpanel/cpnat"); std::getline(in, line);)  // "PRIVATE PUBLIC"
    for (size_t pos = 0, end; pos < line.size(); pos = end + 1) {
      end = std::min(line.find_first_of(" \t", pos), line.size());
      add(std::string_view(line).substr(pos, end - pos));
    }
  for (std::ifstream in(root + "/var/cpanel/mainip"); std::getline(in, line);) add(line);
  for (std::ifstream in(root + "/etc/ips"); std::getline(in, line);)  // "IP:MASK:BROADCAST"
    add(std::string_view(line).substr(0, line.find(':')));
}

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
  static const std::vector<CidrRange> cloudflare = [] {
    std::vector<CidrRange> out;
    for (const char* range : kCloudflareRanges) out.push_back(*parse_cidr(range));
    return out;
  }();
  for (const auto& [range, why] : never_blocked)
    if (cidr_contains(range, *parsed)) return refuse(why);
  for (const auto& range : cloudflare)
    if (cidr_contains(range, *parsed)) return refuse(kCloudflare);
  // As the firewall wants it: an IPv4 client on a dual-stack socket is blocked by iptables.
  std::string address = format_ip(without_v4_mapping(*parsed));
  if (std::find(own.begin(), own.end(), address) != own.end()) return refuse("this server's own address");
  return address;
}

std::vector<std::string> own_addresses(const std::string& root) {
  std::vector<std::string> out;
  cpanel_addresses(root, out);
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

std::vector<CidrRange> denied_ranges(const std::string& root) {
  std::vector<CidrRange> out;
  std::string line;
  for (std::ifstream in(root + "/etc/csf/csf.deny"); std::getline(in, line);) {
    std::string_view text = trim(line);
    if (auto range = parse_cidr(text.substr(0, text.find_first_of(" \t#")))) out.push_back(*range);
  }
  return out;
}

bool is_denied(std::string_view address, const std::vector<CidrRange>& denied) {
  auto ip = parse_ip(address);
  return ip && std::any_of(denied.begin(), denied.end(), [&](const CidrRange& r) { return cidr_contains(r, *ip); });
}

}  // namespace sw::weblog
