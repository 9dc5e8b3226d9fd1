#include "audit/check_table.h"

#include <array>

namespace sw::audit {
namespace {

constexpr std::array<CheckInfo, 27> kChecks = {{
    {"R1", Level::crit, kAllPlatforms, "Open relay (proven with exim -bh)",
     "Unauthenticated probes from outside TEST-NET clients must not get 2xx at RCPT for a non-local domain."},
    {"R2", Level::crit, kAllPlatforms, "Relay probe controls",
     "An authenticated probe must relay and an unauthenticated one to a local mailbox must be accepted, "
     "else the relay verdict is INCONCLUSIVE."},
    {"R3", Level::high, kAllPlatforms, "Sender- or client-controlled accept before the relay gate",
     "An accept in the RCPT ACL before the relay gate must restrict the recipient domain or require "
     "authentication."},
    {"R4", Level::high, kAllPlatforms, "Whitelists an early accept matches",
     "A non-empty list behind an R3 accept (e.g. DirectAdmin whitelist_domains) lets its entries relay."},
    {"R5", Level::high, kAllPlatforms, "Relay-granting hosts",
     "relay_from_hosts (and the panel's relay host files) must not hold 0.0.0.0/0, * or wide public prefixes."},
    {"R6", Level::crit, kAllPlatforms, "Masquerade (every client looks local)",
     "Many unauthenticated arrivals from 127.0.0.1 or a bridge IP to remote recipients mean NAT or a proxy."},
    {"R7", Level::high, kAllPlatforms, "Address-syntax hardening",
     "percent_hack_domains must be unset, allow_domain_literals off, and the RCPT ACL must refuse @%!/| "
     "local parts."},
    {"R8", Level::high, kAllPlatforms, "Submission port needs authentication",
     "Probes on port 587 must not relay without authentication."},
    {"S1", Level::med, kAllPlatforms, "log_selector for forensics",
     "log_selector must include +arguments and +subject (or +all); +received_recipients wanted."},
    {"S2", Level::med, kAllPlatforms, "Sender verification",
     "A sender in a nonexistent domain must be refused (verify = sender), probed with exim -bh."},
    {"S3", Level::info, kAllPlatforms, "Sender callouts", "Whether verify = sender/callout is used (report only)."},
    {"S4", Level::med, kAllPlatforms, "DNSBL present and enforcing",
     "A dnslists condition must deny or drop in the connect, MAIL or RCPT ACL, not only warn."},
    {"S5", Level::high, kAllPlatforms, "DNSBL return-code restriction",
     "Spamhaus dnslists items need =127.0.0.x or !&0.255.255.0, or resolver errors (127.255.255.x) reject."},
    {"S6", Level::high, kAllPlatforms, "DNSBL health",
     "Each list must answer 127.0.0.2 for its test point through the server's resolver; dead lists removed."},
    {"S7", Level::low, kAllPlatforms, "HELO checks",
     "A client greeting with the server's own name must be refused, probed with exim -bh."},
    {"S8", Level::med, kAllPlatforms, "Dictionary-attack protection",
     "The RCPT ACL must drop or delay clients with many failed recipients ($rcpt_fail_count)."},
    {"S9", Level::low, kAllPlatforms, "Over-quota reject at SMTP time",
     "Quota must be checked at RCPT (verify = recipient/quota, or cPanel's quota-status router)."},
    {"S10", Level::info, kAllPlatforms, "spamwarden's ACL snippets installed",
     "watch's hold lists (and any spamwarden readsocket call) must be wired into the ACLs."},
    {"C1", Level::high, kAllPlatforms, "Catch-all per local domain",
     "Each local domain should refuse unknown local parts (:fail:); :blackhole:, mailbox, forward and "
     "pipe catch-alls are reported."},
    {"C2", Level::info, kAllPlatforms, "Catch-all defeats other controls",
     "With a catch-all, dictionary-attack protection never fires and verify = sender passes any local part."},
    {"C3", Level::low, kCpanel, "Catch-all default for new accounts",
     "cPanel's default address for new accounts should be fail."},
    {"D1", Level::crit, kAllPlatforms, "Server IPs on DNS blocklists",
     "Outbound IPs against DNSBLs, return codes read right (listed / policy / resolver refused / not listed); "
     "dead lists reported."},
    {"D2", Level::crit, kAllPlatforms, "PTR, forward-confirmed rDNS and HELO",
     "Each outbound IP needs a PTR that resolves back and matches the HELO name."},
    {"D3", Level::crit, kAllPlatforms, "SPF per hosted domain",
     "SPF must exist, parse, stay within 10 lookups, not be +all, and pass for the IP the domain is sent from."},
    {"D4", Level::crit, kAllPlatforms, "DKIM per hosted domain",
     "The published key must match the key Exim signs with and be at least 2048 bits."},
    {"D5", Level::med, kAllPlatforms, "DMARC per hosted domain",
     "A valid DMARC record must exist; p=none is reported."},
    {"D6", Level::low, kAllPlatforms, "MX and local_domains consistency",
     "Local domains whose MX points elsewhere are reported."},
}};

}  // namespace

const char* level_name(Level level) {
  switch (level) {
    case Level::crit: return "CRIT";
    case Level::high: return "HIGH";
    case Level::med: return "MED";
    case Level::low: return "LOW";
    case Level::info: return "INFO";
  }
  return "?";
}

const char* platform_name(Platform platform) {
  switch (platform) {
    case kCpanel: return "cPanel";
    case kDirectAdmin: return "DirectAdmin";
    case kDebian: return "Debian";
    default: return "Exim";
  }
}

std::span<const CheckInfo> check_table() { return kChecks; }

const CheckInfo* find_check(std::string_view id) {
  for (const CheckInfo& check : kChecks)
    if (check.id == id) return &check;
  return nullptr;
}

namespace {
bool is_family(std::string_view word) {
  for (const CheckInfo& check : check_table())
    if (check.id.starts_with(word) && word.size() == 1) return true;
  return false;
}

bool parse_ids(const std::string& text, std::set<std::string, std::less<>>* ids, std::string* error) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string word = text.substr(start, comma - start);
    for (char& c : word) c = char(std::toupper(static_cast<unsigned char>(c)));
    if (!word.empty()) {
      if (!find_check(word) && !is_family(word)) {
        *error = "unknown check '" + word + "' (ids like R1, S5, C1, D3, or a family R, S, C, D)";
        return false;
      }
      ids->insert(word);
    }
    start = comma + 1;
  }
  return true;
}

bool matches(const std::set<std::string, std::less<>>& ids, std::string_view id) {
  return ids.contains(id) || ids.contains(id.substr(0, 1));
}
}  // namespace

bool CheckSelection::parse(const std::string& only, const std::string& skip, std::string* error) {
  return parse_ids(only, &only_, error) && parse_ids(skip, &skip_, error);
}

bool CheckSelection::wants(std::string_view id) const {
  if (!only_.empty() && !matches(only_, id)) return false;
  return !matches(skip_, id);
}

bool CheckSelection::wants_any(std::string_view family) const {
  for (const CheckInfo& check : check_table())
    if (check.id.starts_with(family) && wants(check.id)) return true;
  return false;
}

}  // namespace sw::audit
