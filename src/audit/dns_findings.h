// The pure half of the DNS checks: findings D1-D6 computed from the answers already fetched (an
// AnswerCache), plus the list of lookups each check needs. dns_checks.cc does the fetching.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "audit/dns_checks.h"
#include "audit/dns_spf.h"

namespace sw::audit {

// Queries whose answers the checks read without following them further.
std::vector<DnsKey> dnsbl_lookups(const DnsAuditInput& input);
std::string dnsbl_query_name(const std::string& ip, const std::string& zone);
std::string dmarc_name(const std::string& domain);
std::string dkim_name(const HostedDomain& domain);
// The domain whose _dmarc record applies when the domain has none (RFC 7489 6.6.3), without the
// Public Suffix List: the last two labels, or three under a two-letter TLD's short second level
// (example.co.uk). Empty when the domain is already that.
std::string dmarc_fallback_domain(const std::string& domain);

// Reads a private key file (the DKIM signing key); error set when unreadable.
using KeyFileReader = std::function<std::string(const std::string& path, std::string& error)>;

void dnsbl_findings(const DnsAuditInput& input, const AnswerCache& cache, std::vector<Finding>& out);
void rdns_findings(const DnsAuditInput& input, const AnswerCache& cache, std::vector<Finding>& out);
void spf_findings(const DnsAuditInput& input, const AnswerCache& cache, std::vector<Finding>& out);
void dkim_findings(const DnsAuditInput& input, const AnswerCache& cache, const KeyFileReader& read_key,
                   std::vector<Finding>& out);
void dmarc_findings(const DnsAuditInput& input, const AnswerCache& cache, std::vector<Finding>& out);
void mx_findings(const DnsAuditInput& input, const AnswerCache& cache, std::vector<Finding>& out);

// The IPs a domain is sent from: its own, else every outbound IP.
std::vector<std::string> sending_ips(const HostedDomain& domain, const DnsAuditInput& input);
// A DNS name as the answer cache keys it: lowercase, no trailing dot.
std::string canonical_dns_name(std::string name);
// The PTR query name of an IP ("10.2.0.192.in-addr.arpa").
std::string ptr_name(const std::string& ip);

}  // namespace sw::audit
