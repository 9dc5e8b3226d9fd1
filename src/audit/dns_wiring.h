// Where the DNS checks (D1-D6, S6) get their input on each platform: cPanel's own files, else
// Exim's configuration (local_domains, the smtp transports' interface and helo_data) and the
// host's addresses. Also the blocklist set the command line asks for.
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "audit/dns_checks.h"
#include "audit/exim_config.h"

namespace sw::audit {

struct DnsOptions {
  bool enabled = true;                      // --no-dns turns it off
  std::vector<std::string> resolvers;       // --resolver IP[:PORT]; empty: /etc/resolv.conf
  std::chrono::milliseconds timeout{2000};  // --dns-timeout, per try
  std::vector<std::string> blocklists;      // --blocklist ZONE; empty: default_dnsbls()
};

// The blocklists named on the command line, with the return codes known for the ones in
// default_dnsbls() (zen.spamhaus.org's SBL/XBL/PBL); unknown zones read any 127.0.0.x as listed.
std::vector<Dnsbl> blocklists_for(const std::vector<std::string>& zones);

// The zones of every dnslists condition in the ACLs, without return-code restrictions and key
// suffixes ("zen.spamhaus.org!&0.255.255.0" -> "zen.spamhaus.org"); expanded zones skipped.
std::vector<std::string> dnslists_zones(const std::vector<std::string>& dnslists_values);

// The host's own non-loopback, non-link-local addresses (IPv4 and IPv6).
std::vector<std::string> host_addresses();

// Pure: the input from `exim -bP transport NAME` outputs of the smtp transports. HELO is the first
// literal helo_data, else primary_hostname; outbound IPs the literal `interface` values.
struct TransportFacts {
  std::vector<std::string> interfaces;
  std::string helo_data;
};
TransportFacts smtp_transport_facts(const std::vector<std::string>& transport_outputs);

// Debian and other Exims: hosted domains from local_domains, HELO and outbound IPs from the smtp
// transports, else primary_hostname and the host's addresses.
DnsAuditInput exim_dns_input(const EximFacts& facts, const Exim& exim, std::vector<std::string>& problems);

}  // namespace sw::audit
