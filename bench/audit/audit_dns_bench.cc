// audit_dns_bench: the DNS checks of `spamwarden audit` (D1-D6) over a domain list, timed.
//
//   audit_dns_bench --domains FILE --ip IP [--ip IP]... --helo NAME --resolver 127.0.0.1:53
//                   [--dnsbl ZONE]... [--in-flight N] [--timeout-ms N] [--findings]
//
// FILE: one hosted domain a line: "DOMAIN [SENDING_IP|-] [DKIM_SELECTOR|-] [DKIM_KEY_FILE|-]".
// Prints the wall time and the number of findings per check and severity (and every finding
// that is not ok with --findings). Exit 0 on success, 2 on bad usage, 3 when the checks cannot run.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "audit/dns_checks.h"

namespace {

const char* severity_name(sw::audit::Severity s) {
  switch (s) {
    case sw::audit::Severity::ok: return "ok";
    case sw::audit::Severity::info: return "info";
    case sw::audit::Severity::warn: return "warn";
    case sw::audit::Severity::crit: return "crit";
    case sw::audit::Severity::inconclusive: return "inconclusive";
  }
  return "?";
}

int usage(const std::string& why) {
  std::cerr << "audit_dns_bench: " << why
            << "\nusage: audit_dns_bench --domains FILE --ip IP --helo NAME --resolver IP:PORT [--dnsbl ZONE]... "
               "[--in-flight N] [--timeout-ms N] [--findings]\n";
  return 2;
}

bool read_domains(const std::string& path, std::vector<sw::audit::HostedDomain>& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    sw::audit::HostedDomain d;
    std::string ip, selector, key;
    if (!(fields >> d.name)) continue;
    fields >> ip >> selector >> key;
    d.sending_ip = ip == "-" ? "" : ip;
    d.dkim_selector = selector == "-" ? "" : selector;
    d.dkim_private_key = key == "-" ? "" : key;
    out.push_back(std::move(d));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  sw::audit::DnsAuditInput input;
  std::vector<sw::audit::Dnsbl> lists;
  bool print_findings = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--domains") {
      std::string path = value();
      if (!read_domains(path, input.domains)) return usage("cannot read " + path);
    } else if (arg == "--ip") {
      input.outbound_ips.push_back(value());
    } else if (arg == "--helo") {
      input.helo_name = value();
    } else if (arg == "--resolver") {
      input.resolvers.push_back(value());
    } else if (arg == "--dnsbl") {
      std::string zone = value();
      lists.push_back(zone == "zen.spamhaus.org" ? sw::audit::spamhaus_zen() : sw::audit::Dnsbl{zone, {}});
    } else if (arg == "--in-flight") {
      input.max_in_flight = std::atoi(value().c_str());
    } else if (arg == "--timeout-ms") {
      input.timeout = std::chrono::milliseconds(std::atoi(value().c_str()));
    } else if (arg == "--findings") {
      print_findings = true;
    } else {
      return usage("unknown argument " + arg);
    }
  }
  if (input.domains.empty() || input.outbound_ips.empty()) return usage("--domains and --ip are required");
  input.dnsbls = lists;
  auto start = std::chrono::steady_clock::now();
  std::vector<sw::audit::Finding> findings;
  try {
    findings = sw::audit::run_dns_checks(input);
  } catch (const std::exception& e) {
    std::cerr << "audit_dns_bench: " << e.what() << "\n";
    return 3;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::map<std::string, std::map<std::string, int>> counts;
  for (const auto& f : findings) {
    ++counts[f.check_id][severity_name(f.severity)];
    if (print_findings && f.severity != sw::audit::Severity::ok) {
      std::cout << f.check_id << " " << severity_name(f.severity) << " " << f.subject << ": " << f.message << "\n";
    }
  }
  std::printf("domains %zu  findings %zu  wall %.3f s\n", input.domains.size(), findings.size(), seconds);
  for (const auto& [id, by_severity] : counts) {
    std::printf("  %s", id.c_str());
    for (const auto& [severity, n] : by_severity) std::printf("  %s=%d", severity.c_str(), n);
    std::printf("\n");
  }
  return 0;
}
