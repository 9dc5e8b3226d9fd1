// The DNS and reputation checks of `spamwarden audit` (D1-D6): the server's outbound IPs on DNS
// blocklists, PTR/FCrDNS/HELO, and SPF, DKIM, DMARC and MX of every hosted domain. All lookups go
// through one concurrent resolver (src/audit/dns_resolver.h) at a configurable server; a lookup
// that fails is reported as a DNS failure (Severity::inconclusive), never as a pass.
#pragma once
#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "audit/finding.h"

namespace sw::audit {

// One meaning of a blocklist's answer: the A record `first`..`last` (inclusive, dotted quads).
struct DnsblCode {
  std::string first;
  std::string last;     // empty: same as first
  std::string meaning;  // "SBL", "PBL (policy)"
  Severity severity;    // crit: listed for spam; warn: policy list; info: wide-net lists
};

struct Dnsbl {
  std::string zone;              // "zen.spamhaus.org"
  std::vector<DnsblCode> codes;  // empty: any 127.0.0.2-127.0.0.255 means "listed" (crit)
};

// Spamhaus ZEN's return codes as documented (SBL, CSS, XBL, DROP, PBL); 127.255.255.x is an error
// of the query (typo, open resolver, excessive queries) and never counts as listed.
Dnsbl spamhaus_zen();
// A small self-check set of live, widely used lists (no SORBS: shut down in 2024).
std::vector<Dnsbl> default_dnsbls();

struct HostedDomain {
  std::string name;              // "example.com"
  std::string sending_ip;        // the IP Exim sends this domain's mail from; empty: every outbound IP
  std::string dkim_selector;     // empty: DKIM not configured for this domain (D4 says so)
  std::string dkim_private_key;  // path of the PEM key Exim signs with; empty: compare nothing, only check DNS
};

struct DnsAuditInput {
  std::vector<HostedDomain> domains;
  std::vector<std::string> outbound_ips;  // every IP the server sends from (IPv4 or IPv6)
  std::string helo_name;                  // what Exim says in HELO (primary_hostname or helo_data)
  std::vector<Dnsbl> dnsbls = default_dnsbls();
  std::vector<std::string> resolvers;       // "127.0.0.1:53", "[::1]:5353"; empty: /etc/resolv.conf
  std::chrono::milliseconds timeout{2000};  // per try
  int tries = 2;
  int max_in_flight = 200;  // queries outstanding at once: thousands overrun a small server (timeouts)
  bool check_mx = true;     // D6
};

// Runs D1-D6 and returns every finding, passes included (Severity::ok), in check-id order, then by
// subject. Throws std::runtime_error only when no resolver can be set up (bad address, c-ares init).
std::vector<Finding> run_dns_checks(const DnsAuditInput& input);

}  // namespace sw::audit
