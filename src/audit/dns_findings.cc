#include "audit/dns_findings.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "audit/dns_dkim.h"
#include "audit/dns_records.h"

namespace sw::audit {

using dns::Outcome;
using dns::RecordType;

namespace {

bool is_v6(const std::string& ip) { return ip.find(':') != std::string::npos; }

const dns::Answer* find(const AnswerCache& cache, const std::string& name, RecordType type) {
  auto it = cache.find({canonical_dns_name(name), type});
  return it == cache.end() ? nullptr : &it->second;
}

// "TXT _dmarc.example.com: NXDOMAIN" / "A x: 127.0.0.2, 127.0.0.4"
std::string describe(const std::string& name, RecordType type, const dns::Answer* a) {
  std::string text = std::string(dns::type_name(type)) + " " + name + ": ";
  if (!a) return text + "not looked up";
  if (a->outcome != Outcome::answer) {
    text += dns::outcome_name(a->outcome);
    if (!a->detail.empty()) text += " (" + a->detail + ")";
    return text;
  }
  for (size_t i = 0; i < a->records.size(); ++i) {
    std::string r = a->records[i].size() > 300 ? a->records[i].substr(0, 300) + "..." : a->records[i];
    text += (i ? ", " : "") + (type == RecordType::txt ? "\"" + r + "\"" : r);
  }
  return text;
}

Finding make(const char* id, Severity severity, std::string subject, std::string message,
             std::vector<std::string> evidence = {}, std::string fix = {}) {
  return Finding{id, severity, std::move(subject), std::move(message), std::move(evidence), std::move(fix)};
}

Finding dns_failure(const char* id, const std::string& subject, const std::string& name, RecordType type,
                    const dns::Answer* a) {
  return make(id, Severity::inconclusive, subject, "DNS lookup failed: the check could not run",
              {describe(name, type, a)}, "check the resolver (--resolver) and retry");
}

uint32_t ipv4_value(const std::string& text) {
  in_addr addr{};
  if (inet_pton(AF_INET, text.c_str(), &addr) != 1) return 0;
  return ntohl(addr.s_addr);
}

// How one blocklist answer is read: listed (with meaning), error of the query, or unexpected.
struct CodeReading {
  enum class Kind { listed, query_error, unexpected } kind;
  std::string meaning;
  Severity severity = Severity::crit;
};

CodeReading read_code(const Dnsbl& list, const std::string& answer) {
  uint32_t v = ipv4_value(answer);
  if ((v & 0xFFFFFF00u) == 0x7FFFFF00u) {  // 127.255.255.x
    std::string why = v == 0x7FFFFFFCu   ? "typo in the zone name"
                      : v == 0x7FFFFFFEu ? "query through a public/open resolver, refused"
                      : v == 0x7FFFFFFFu ? "excessive queries, refused"
                                         : "error code of the list";
    return {CodeReading::Kind::query_error, why, Severity::inconclusive};
  }
  if ((v & 0xFF000000u) != 0x7F000000u || v == 0x7F000001u || v == 0x7F000000u) {
    return {CodeReading::Kind::unexpected, "not a blocklist code", Severity::inconclusive};
  }
  for (const auto& code : list.codes) {
    uint32_t first = ipv4_value(code.first), last = code.last.empty() ? first : ipv4_value(code.last);
    if (v >= first && v <= last) return {CodeReading::Kind::listed, code.meaning, code.severity};
  }
  return {CodeReading::Kind::listed, "listed", Severity::crit};
}

const dns::Answer* test_point(const Dnsbl& list, const AnswerCache& cache) {
  return find(cache, "2.0.0.127." + list.zone, RecordType::a);
}

// RFC 5782 test points: 127.0.0.2 must be listed, 127.0.0.1 must not. Empty: the list is alive.
// A list whose test point fails while another list's answers is dead (its servers are gone); when
// every list fails, the resolver is the suspect and the results are unknown.
std::optional<Finding> dnsbl_health(const Dnsbl& list, const AnswerCache& cache, bool another_list_answers) {
  std::string positive = "2.0.0.127." + list.zone, negative = "1.0.0.127." + list.zone;
  const dns::Answer* p = find(cache, positive, RecordType::a);
  const dns::Answer* n = find(cache, negative, RecordType::a);
  std::vector<std::string> evidence = {describe(positive, RecordType::a, p), describe(negative, RecordType::a, n)};
  if (!p || dns::lookup_failed(p->outcome)) {
    if (another_list_answers) {
      return make("D1", Severity::warn, list.zone, "dead blocklist: no answer for its test point, other lists answer",
                  evidence, "remove " + list.zone + " from the DNS blocklists Exim queries");
    }
    return make("D1", Severity::inconclusive, list.zone, "blocklist did not answer its test point: results unknown",
                evidence, "check the resolver; a list that never answers should be removed");
  }
  for (const auto& r : p->records) {
    if (read_code(list, r).kind == CodeReading::Kind::query_error) {
      return make("D1", Severity::warn, list.zone,
                  "blocklist refuses this resolver (" + read_code(list, r).meaning + "): its answers mean nothing",
                  evidence, "query the list through a local recursive resolver (not a public one), or register");
    }
  }
  if (p->records.empty()) {
    return make("D1", Severity::warn, list.zone, "dead blocklist: test point 127.0.0.2 is not listed", evidence,
                "remove " + list.zone + " from the DNS blocklists Exim queries");
  }
  if (n && !n->records.empty()) {
    return make("D1", Severity::warn, list.zone, "blocklist lists everything (127.0.0.1 listed): parked or dead",
                evidence, "remove " + list.zone + " from the DNS blocklists Exim queries");
  }
  return std::nullopt;
}

}  // namespace

std::string ptr_name(const std::string& ip) { return reversed_ip(ip) + (is_v6(ip) ? ".ip6.arpa" : ".in-addr.arpa"); }

std::string dnsbl_query_name(const std::string& ip, const std::string& zone) { return reversed_ip(ip) + "." + zone; }

std::string dmarc_name(const std::string& domain) { return "_dmarc." + canonical_dns_name(domain); }

std::string dkim_name(const HostedDomain& d) {
  return canonical_dns_name(d.dkim_selector) + "._domainkey." + canonical_dns_name(d.name);
}

std::string dmarc_fallback_domain(const std::string& domain) {
  std::vector<std::string> labels(1);
  for (char c : canonical_dns_name(domain)) {
    if (c == '.') labels.emplace_back();
    else labels.back() += c;
  }
  size_t keep = 2;
  if (labels.size() >= 3 && labels.back().size() == 2 && labels[labels.size() - 2].size() <= 3) keep = 3;
  if (labels.size() <= keep) return {};
  std::string out;
  for (size_t i = labels.size() - keep; i < labels.size(); ++i) out += (out.empty() ? "" : ".") + labels[i];
  return out;
}

std::vector<std::string> sending_ips(const HostedDomain& domain, const DnsAuditInput& input) {
  if (!domain.sending_ip.empty()) return {domain.sending_ip};
  return input.outbound_ips;
}

std::vector<DnsKey> dnsbl_lookups(const DnsAuditInput& input) {
  std::vector<DnsKey> keys;
  for (const auto& list : input.dnsbls) {
    keys.push_back({canonical_dns_name("2.0.0.127." + list.zone), RecordType::a});
    keys.push_back({canonical_dns_name("1.0.0.127." + list.zone), RecordType::a});
    for (const auto& ip : input.outbound_ips) {
      if (!reversed_ip(ip).empty())
        keys.push_back({canonical_dns_name(dnsbl_query_name(ip, list.zone)), RecordType::a});
    }
  }
  return keys;
}

void dnsbl_findings(const DnsAuditInput& input, const AnswerCache& cache, std::vector<Finding>& out) {
  int answering = 0;
  for (const auto& list : input.dnsbls) {
    const dns::Answer* a = test_point(list, cache);
    if (a && !dns::lookup_failed(a->outcome)) ++answering;
  }
  for (const auto& list : input.dnsbls) {
    const dns::Answer* own = test_point(list, cache);
    bool others = answering > (own && !dns::lookup_failed(own->outcome) ? 1 : 0);
    if (auto unhealthy = dnsbl_health(list, cache, others)) {
      out.push_back(*unhealthy);
      continue;  // a dead or refusing list says nothing about our IPs
    }
    for (const auto& ip : input.outbound_ips) {
      std::string subject = ip + " on " + list.zone, name = dnsbl_query_name(ip, list.zone);
      if (reversed_ip(ip).empty()) {
        out.push_back(make("D1", Severity::inconclusive, subject, "not an IP address"));
        continue;
      }
      const dns::Answer* a = find(cache, name, RecordType::a);
      std::vector<std::string> evidence = {describe(name, RecordType::a, a)};
      if (!a || dns::lookup_failed(a->outcome)) {
        out.push_back(dns_failure("D1", subject, name, RecordType::a, a));
      } else if (a->records.empty()) {
        out.push_back(make("D1", Severity::ok, subject, "not listed", evidence));
      } else {
        Finding worst = make("D1", Severity::ok, subject, "", evidence);
        for (const auto& r : a->records) {
          CodeReading reading = read_code(list, r);
          std::string msg = reading.kind == CodeReading::Kind::listed
                                ? "listed: " + reading.meaning + " (" + r + ")"
                                : "not a listing: " + r + " is " + reading.meaning;
          if (worst.message.empty() || reading.severity == Severity::crit) {
            worst.severity = reading.severity;
            worst.message = msg;
          }
        }
        if (worst.severity == Severity::crit || worst.severity == Severity::warn) {
          worst.fix = "find and stop the source of the listing, then request delisting at " + list.zone;
        }
        out.push_back(worst);
      }
    }
  }
}

void rdns_findings(const DnsAuditInput& input, const AnswerCache& cache, std::vector<Finding>& out) {
  std::string helo = canonical_dns_name(input.helo_name);
  for (const auto& ip : input.outbound_ips) {
    std::string rname = ptr_name(ip);
    const dns::Answer* ptr = find(cache, rname, RecordType::ptr);
    if (!ptr || dns::lookup_failed(ptr->outcome)) {
      out.push_back(dns_failure("D2", ip, rname, RecordType::ptr, ptr));
      continue;
    }
    std::vector<std::string> evidence = {describe(rname, RecordType::ptr, ptr)};
    if (ptr->records.empty()) {
      out.push_back(make("D2", Severity::crit, ip, "no PTR record: many receivers refuse mail from this IP", evidence,
                         "ask the IP's owner (hosting provider) to set PTR " + ip + " -> " +
                             (helo.empty() ? "your mail host name" : helo)));
      continue;
    }
    std::string confirmed;
    bool failed = false;
    for (size_t i = 0; i < ptr->records.size() && i < 10; ++i) {
      std::string name = canonical_dns_name(ptr->records[i]);
      RecordType type = is_v6(ip) ? RecordType::aaaa : RecordType::a;
      const dns::Answer* fwd = find(cache, name, type);
      evidence.push_back(describe(name, type, fwd));
      if (!fwd || dns::lookup_failed(fwd->outcome)) failed = true;
      else if (std::find(fwd->records.begin(), fwd->records.end(), ip) != fwd->records.end()) confirmed = name;
    }
    if (confirmed.empty()) {
      if (failed) out.push_back(make("D2", Severity::inconclusive, ip, "DNS lookup failed: FCrDNS unknown", evidence));
      else
        out.push_back(make("D2", Severity::crit, ip, "PTR name does not resolve back to the IP (FCrDNS fails)",
                           evidence, "add an A/AAAA record for the PTR name pointing at " + ip));
      continue;
    }
    std::string octets = reversed_ip(ip);
    std::replace(octets.begin(), octets.end(), '.', '-');
    std::string dashed = ip;
    std::replace(dashed.begin(), dashed.end(), '.', '-');
    bool generic = confirmed.find(dashed) != std::string::npos || confirmed.find(octets) != std::string::npos ||
                   confirmed.find("dynamic") != std::string::npos || confirmed.find("dhcp") != std::string::npos ||
                   confirmed.find("pool") != std::string::npos;
    if (generic) {
      out.push_back(make("D2", Severity::warn, ip, "generic PTR " + confirmed + ": looks like an end-user address",
                         evidence, "set the PTR to the mail host's own name"));
    } else if (!helo.empty() && helo != confirmed) {
      const dns::Answer* ha = find(cache, helo, is_v6(ip) ? RecordType::aaaa : RecordType::a);
      evidence.push_back(describe(helo, is_v6(ip) ? RecordType::aaaa : RecordType::a, ha));
      bool helo_points_here = ha && std::find(ha->records.begin(), ha->records.end(), ip) != ha->records.end();
      out.push_back(make("D2", helo_points_here ? Severity::info : Severity::warn, ip,
                         "HELO " + helo + " differs from the PTR name " + confirmed +
                             (helo_points_here ? "" : " and does not resolve to the IP"),
                         evidence, "make the HELO name (helo_data / primary_hostname) the PTR name " + confirmed));
    } else {
      out.push_back(make("D2", Severity::ok, ip, "PTR " + confirmed + " is forward-confirmed", evidence));
    }
  }
}

void spf_findings(const DnsAuditInput& input, const AnswerCache& cache, std::vector<Finding>& out) {
  for (const auto& d : input.domains) {
    for (const auto& ip : sending_ips(d, input)) {
      SpfEvaluation ev = evaluate_spf(
          {canonical_dns_name(d.name), ip, "postmaster@" + canonical_dns_name(d.name), input.helo_name}, cache);
      std::string subject = input.outbound_ips.size() > 1 || !d.sending_ip.empty() ? d.name + " from " + ip : d.name;
      std::vector<std::string> evidence = {"SPF " + std::string(spf_result_name(ev.result)) + " for " + ip + ": " +
                                           ev.reason};
      if (!ev.record.empty()) evidence.push_back("TXT " + canonical_dns_name(d.name) + ": \"" + ev.record + "\"");
      evidence.insert(evidence.end(), ev.warnings.begin(), ev.warnings.end());
      std::string allow = "ip4:" + ip;
      if (is_v6(ip)) allow = "ip6:" + ip;
      Finding f = make("D3", Severity::ok, subject, "SPF passes for the IP this domain is sent from", evidence);
      bool plus_all = std::any_of(ev.warnings.begin(), ev.warnings.end(),
                                  [](const auto& w) { return w.find("authorises every host") != std::string::npos; });
      if (ev.needed || ev.result == SpfResult::temperror) {
        f.severity = Severity::inconclusive;
        f.message = "DNS lookup failed: SPF result unknown (temperror)";
      } else if (ev.result == SpfResult::none) {
        f.severity = Severity::crit;
        f.message = "no SPF record";
        f.fix = "publish TXT " + canonical_dns_name(d.name) + " \"v=spf1 " + allow + " -all\"";
      } else if (ev.result == SpfResult::permerror) {
        f.severity = Severity::crit;
        f.message = "SPF permerror: " + ev.reason;
        f.fix = "fix the record: receivers treat a permerror like no SPF at all";
      } else if (plus_all) {
        f.severity = Severity::crit;
        f.message = "SPF '+all' authorises every host on the Internet to send as this domain";
        f.fix = "replace '+all' with '-all' (or '~all')";
      } else if (ev.result != SpfResult::pass) {
        f.severity = Severity::crit;
        f.message = "SPF " + std::string(spf_result_name(ev.result)) + " for this server's IP " + ip;
        f.fix = "add " + allow + " to the SPF record of " + canonical_dns_name(d.name);
      } else if (!ev.warnings.empty()) {
        f.severity = Severity::warn;
        f.message = "SPF passes, but: " + ev.warnings.front();
      }
      out.push_back(std::move(f));
    }
  }
}

namespace {

Finding dkim_finding(const HostedDomain& d, const dns::Answer* a, const KeyFileReader& read_key) {
  std::string name = dkim_name(d);
  std::vector<std::string> evidence = {describe(name, RecordType::txt, a)};
  if (!a || dns::lookup_failed(a->outcome)) return dns_failure("D4", d.name, name, RecordType::txt, a);
  std::vector<const std::string*> keys;
  for (const auto& r : a->records) keys.push_back(&r);
  if (keys.empty()) {
    return make("D4", Severity::crit, d.name, "no DKIM key in DNS for selector " + d.dkim_selector, evidence,
                "publish the public key of the signing key at " + name);
  }
  std::string error;
  auto record = parse_dkim_key(*keys.front(), &error);
  if (!record) return make("D4", Severity::crit, d.name, "DKIM key record invalid: " + error, evidence);
  if (record->revoked) return make("D4", Severity::crit, d.name, "DKIM key revoked (empty p=)", evidence);
  std::string pem, key_error;
  if (!d.dkim_private_key.empty()) pem = read_key(d.dkim_private_key, key_error);
  DkimKeyInspection inspection = inspect_dkim_key(*record, pem);
  if (!inspection.error.empty())
    return make("D4", Severity::crit, d.name, "DKIM key unusable: " + inspection.error, evidence);
  evidence.push_back(record->key_type + " key, " + std::to_string(inspection.bits) + " bits");
  if (!key_error.empty() || !inspection.private_key_error.empty()) {
    return make("D4", Severity::inconclusive, d.name,
                "signing key " + d.dkim_private_key + " unreadable: " + key_error + inspection.private_key_error,
                evidence);
  }
  if (inspection.matches_private == false) {
    return make("D4", Severity::crit, d.name, "DKIM key in DNS does not match the key Exim signs with", evidence,
                "publish the public key of " + d.dkim_private_key + " at " + name);
  }
  if (record->key_type == "rsa" && inspection.bits < 1024) {
    return make(
        "D4", Severity::crit, d.name,
        "DKIM RSA key of " + std::to_string(inspection.bits) + " bits: receivers ignore keys under 1024 (RFC 8301)",
        evidence, "generate a 2048-bit key and publish it under a new selector");
  }
  if (record->key_type == "rsa" && inspection.bits < 2048) {
    return make("D4", Severity::warn, d.name, "DKIM RSA key of " + std::to_string(inspection.bits) + " bits is weak",
                evidence, "generate a 2048-bit key and publish it under a new selector");
  }
  if (record->testing) {
    return make("D4", Severity::warn, d.name, "DKIM key in test mode (t=y): receivers may ignore signatures", evidence,
                "remove t=y from " + name);
  }
  return make("D4", Severity::ok, d.name,
              inspection.matches_private ? "DKIM key in DNS matches the signing key" : "DKIM key published", evidence);
}

}  // namespace

void dkim_findings(const DnsAuditInput& input, const AnswerCache& cache, const KeyFileReader& read_key,
                   std::vector<Finding>& out) {
  for (const auto& d : input.domains) {
    if (d.dkim_selector.empty()) {
      out.push_back(make("D4", Severity::warn, d.name, "mail of this domain is not DKIM-signed", {},
                         "enable DKIM signing for the domain (cPanel: Email Deliverability; Exim: dkim_domain, "
                         "dkim_selector, dkim_private_key on the remote_smtp transport)"));
      continue;
    }
    out.push_back(dkim_finding(d, find(cache, dkim_name(d), RecordType::txt), read_key));
  }
}

void dmarc_findings(const DnsAuditInput& input, const AnswerCache& cache, std::vector<Finding>& out) {
  for (const auto& d : input.domains) {
    std::string name = dmarc_name(d.name);
    const dns::Answer* a = find(cache, name, RecordType::txt);
    std::vector<std::string> evidence = {describe(name, RecordType::txt, a)};
    std::string fallback = dmarc_fallback_domain(d.name);
    if (a && a->records.empty() && !dns::lookup_failed(a->outcome) && !fallback.empty()) {
      name = dmarc_name(fallback);  // the organizational domain's policy applies
      a = find(cache, name, RecordType::txt);
      evidence.push_back(describe(name, RecordType::txt, a));
    }
    if (!a || dns::lookup_failed(a->outcome)) {
      out.push_back(dns_failure("D5", d.name, name, RecordType::txt, a));
      continue;
    }
    std::vector<const std::string*> records;
    for (const auto& r : a->records) {
      if (is_dmarc_record(r)) records.push_back(&r);
    }
    std::string add = "publish TXT _dmarc." + canonical_dns_name(d.name) +
                      " \"v=DMARC1; p=quarantine; rua=mailto:postmaster@" + canonical_dns_name(d.name) + "\"";
    if (records.empty()) {
      out.push_back(make("D5", Severity::warn, d.name,
                         "no DMARC record: forged mail in this domain's name is not "
                         "rejected by receivers",
                         evidence, add));
      continue;
    }
    if (records.size() > 1) {
      out.push_back(make("D5", Severity::warn, d.name, "more than one DMARC record: receivers ignore both", evidence));
      continue;
    }
    std::string error;
    auto dmarc = parse_dmarc(*records.front(), &error);
    if (!dmarc) {
      out.push_back(make("D5", Severity::warn, d.name, "invalid DMARC record: " + error, evidence, add));
    } else if (dmarc->policy == "none" || dmarc->subdomain_policy == "none") {
      out.push_back(make("D5", Severity::info, d.name,
                         std::string(dmarc->policy == "none" ? "p=none" : "sp=none") +
                             ": DMARC only monitors, forged mail is delivered",
                         evidence, "raise the policy to p=quarantine, then p=reject, once reports show no loss"));
    } else {
      if (dmarc->rua.empty()) evidence.push_back("no rua=: no aggregate reports are sent to you");
      out.push_back(make("D5", Severity::ok, d.name, "DMARC p=" + dmarc->policy, evidence));
    }
  }
}

void mx_findings(const DnsAuditInput& input, const AnswerCache& cache, std::vector<Finding>& out) {
  if (!input.check_mx) return;
  for (const auto& d : input.domains) {
    std::string name = canonical_dns_name(d.name);
    const dns::Answer* mx = find(cache, name, RecordType::mx);
    if (!mx || dns::lookup_failed(mx->outcome)) {
      out.push_back(dns_failure("D6", d.name, name, RecordType::mx, mx));
      continue;
    }
    std::vector<std::string> evidence = {describe(name, RecordType::mx, mx)};
    if (mx->records.empty()) {
      out.push_back(make("D6", Severity::info, d.name, "no MX record: mail goes to the domain's A record", evidence));
      continue;
    }
    bool here = false, failed = false;
    for (size_t i = 0; i < mx->records.size() && i < 10; ++i) {
      std::string host = canonical_dns_name(mx->records[i].substr(mx->records[i].find(' ') + 1));
      for (RecordType type : {RecordType::a, RecordType::aaaa}) {
        const dns::Answer* a = find(cache, host, type);
        if (!a || dns::lookup_failed(a->outcome)) failed = true;
        for (const auto& ip : a ? a->records : std::vector<std::string>{}) {
          if (std::find(input.outbound_ips.begin(), input.outbound_ips.end(), ip) != input.outbound_ips.end()) {
            here = true;
          }
        }
      }
    }
    if (here) out.push_back(make("D6", Severity::ok, d.name, "MX points at this server", evidence));
    else if (failed)
      out.push_back(make("D6", Severity::inconclusive, d.name, "DNS lookup of the MX hosts failed", evidence));
    else
      out.push_back(make("D6", Severity::info, d.name,
                         "MX points elsewhere, but the domain is local here: mail from this server to it stays "
                         "local",
                         evidence, "if mail is hosted elsewhere, make the domain remote (cPanel: Email Routing)"));
  }
}

std::string canonical_dns_name(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

}  // namespace sw::audit
