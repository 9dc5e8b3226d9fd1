#include "audit/dns_wiring.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>

#include "base/text.h"

namespace sw::audit {
namespace {

bool is_literal_ip(const std::string& text) {
  in6_addr v6{};
  in_addr v4{};
  return ::inet_pton(AF_INET, text.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, text.c_str(), &v6) == 1;
}

void add_unique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

}  // namespace

std::vector<Dnsbl> blocklists_for(const std::vector<std::string>& zones) {
  if (zones.empty()) return default_dnsbls();
  std::vector<Dnsbl> known = default_dnsbls(), out;
  for (const std::string& raw : zones) {
    std::string zone = sw::to_lower(raw);
    while (!zone.empty() && zone.back() == '.') zone.pop_back();
    if (zone.empty()) continue;
    auto it = std::find_if(known.begin(), known.end(), [&](const Dnsbl& d) { return d.zone == zone; });
    out.push_back(it == known.end() ? Dnsbl{zone, {}} : *it);
  }
  return out;
}

std::vector<std::string> dnslists_zones(const std::vector<std::string>& dnslists_values) {
  std::vector<std::string> zones;
  for (const std::string& value : dnslists_values) {
    for (const std::string& item : split_exim_list(value)) {
      if (item.find('$') != std::string::npos) continue;
      std::string zone = sw::to_lower(item.substr(0, item.find_first_of("/=&!")));
      while (!zone.empty() && zone.back() == '.') zone.pop_back();
      if (zone.find('.') != std::string::npos) add_unique(zones, zone);
    }
  }
  return zones;
}

std::vector<std::string> host_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
      if ((ntohl(a->sin_addr.s_addr) >> 24) == 127) continue;
      if ((ntohl(a->sin_addr.s_addr) >> 16) == 0xa9fe) continue;  // 169.254/16
      ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
      if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) || IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr)) continue;
      ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    } else {
      continue;
    }
    add_unique(out, text);
  }
  ::freeifaddrs(list);
  return out;
}

TransportFacts smtp_transport_facts(const std::vector<std::string>& transport_outputs) {
  TransportFacts out;
  for (const std::string& text : transport_outputs) {
    auto options = parse_bp_options(text);
    if (options["driver"] != "smtp") continue;
    for (const std::string& ip : split_exim_list(options["interface"]))
      if (is_literal_ip(ip)) add_unique(out.interfaces, ip);
    const std::string& helo = options["helo_data"];
    if (out.helo_data.empty() && !helo.empty() && helo.find('$') == std::string::npos) out.helo_data = helo;
  }
  return out;
}

DnsAuditInput exim_dns_input(const EximFacts& facts, const Exim& exim, std::vector<std::string>& problems) {
  DnsAuditInput input;
  for (const std::string& d : facts.local_domains) input.domains.push_back({d, "", "", ""});
  if (facts.local_domains.empty()) problems.push_back("no hosted domains in local_domains: D3-D6 check nothing");
  std::vector<std::string> outputs;
  std::string names = exim.run({"-bP", "transport_list"}).out;
  for (size_t pos = 0, end; pos < names.size(); pos = end + 1) {
    end = names.find('\n', pos);
    if (end == std::string::npos) end = names.size();
    std::string name = names.substr(pos, end - pos);
    if (!name.empty() && name.find(' ') == std::string::npos)
      outputs.push_back(exim.run({"-bP", "transport", name}).out);
  }
  TransportFacts transports = smtp_transport_facts(outputs);
  input.helo_name = transports.helo_data.empty() ? facts.option("primary_hostname") : transports.helo_data;
  input.outbound_ips = transports.interfaces.empty() ? host_addresses() : transports.interfaces;
  if (input.outbound_ips.empty()) problems.push_back("no outbound IP found (no smtp interface, no host address)");
  return input;
}

}  // namespace sw::audit
