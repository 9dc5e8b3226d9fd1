#include "audit/dns_inputs.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/text.h"

namespace sw::audit {
namespace {

bool read_text(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  out = text.str();
  return true;
}

}  // namespace

std::map<std::string, std::string> parse_colon_map(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = trim(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
    size_t colon = line.find(':');
    if (line.empty() || line[0] == '#' || colon == std::string_view::npos) continue;
    std::string key = to_lower(trim(line.substr(0, colon)));
    std::string value(trim(line.substr(colon + 1)));
    if (!key.empty() && !value.empty()) out.emplace(key, value);
  }
  return out;
}

DnsAuditInput cpanel_dns_input(const std::string& root, std::vector<std::string>& problems) {
  DnsAuditInput input;
  auto path = [&](const char* p) { return (std::filesystem::path(root) / p).string(); };
  std::string text;
  if (read_text(path("var/cpanel/mainip"), text) && !trim(text).empty()) {
    input.outbound_ips.emplace_back(trim(text));
  } else {
    problems.push_back(path("var/cpanel/mainip") + ": unreadable or empty (the server's main IP)");
  }
  std::map<std::string, std::string> mailips, mailhelo;
  if (read_text(path("etc/mailips"), text)) mailips = parse_colon_map(text);
  if (read_text(path("etc/mailhelo"), text)) mailhelo = parse_colon_map(text);
  for (const auto& [domain, ip] : mailips) {
    if (std::find(input.outbound_ips.begin(), input.outbound_ips.end(), ip) == input.outbound_ips.end()) {
      input.outbound_ips.push_back(ip);
    }
  }
  if (auto any = mailhelo.find("*"); any != mailhelo.end()) input.helo_name = any->second;
  else if (read_text(path("etc/hostname"), text)) input.helo_name = std::string(trim(text));
  if (!read_text(path("etc/localdomains"), text)) {
    problems.push_back(path("etc/localdomains") + ": unreadable (the hosted domains)");
    return input;
  }
  std::istringstream lines(text);
  std::string line;
  std::string keys = path("var/cpanel/domain_keys/private");
  while (std::getline(lines, line)) {
    std::string name = to_lower(trim(line));
    if (name.empty() || name[0] == '#') continue;
    HostedDomain d{name, "", "", ""};
    if (auto ip = mailips.find(name); ip != mailips.end()) d.sending_ip = ip->second;
    else if (auto any = mailips.find("*"); any != mailips.end()) d.sending_ip = any->second;
    std::error_code ec;
    if (std::filesystem::exists(keys + "/" + name, ec)) {
      d.dkim_selector = "default";
      d.dkim_private_key = keys + "/" + name;
    }
    input.domains.push_back(std::move(d));
  }
  return input;
}

}  // namespace sw::audit
