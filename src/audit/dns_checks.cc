#include "audit/dns_checks.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "audit/dns_findings.h"
#include "audit/dns_resolver.h"
#include "audit/dns_spf.h"

namespace sw::audit {

using dns::RecordType;

Dnsbl spamhaus_zen() {
  return {"zen.spamhaus.org",
          {{"127.0.0.2", "", "SBL (spam source)", Severity::crit},
           {"127.0.0.3", "", "SBL CSS (snowshoe spam)", Severity::crit},
           {"127.0.0.4", "127.0.0.7", "XBL (exploited host)", Severity::crit},
           {"127.0.0.9", "", "DROP (hijacked network)", Severity::crit},
           {"127.0.0.10", "127.0.0.11", "PBL (policy: not meant to send direct-to-MX)", Severity::warn}}};
}

std::vector<Dnsbl> default_dnsbls() {
  return {spamhaus_zen(),
          {"bl.spamcop.net", {}},
          {"b.barracudacentral.org", {}},
          {"psbl.surriel.com", {}},
          {"dnsbl-1.uceprotect.net", {{"127.0.0.2", "", "UCEPROTECT level 1", Severity::warn}}}};
}

namespace {

// Answers by (name, type): each lookup is made once however many checks need it; callbacks wait
// for a lookup already in flight.
class LookupCache {
 public:
  using Callback = std::function<void(const dns::Answer&)>;
  explicit LookupCache(dns::Resolver& resolver) : resolver_(resolver) {}

  void fetch(const DnsKey& key, Callback callback) {
    if (auto it = answers_.find(key); it != answers_.end()) {
      if (callback) callback(it->second);
      return;
    }
    auto [waiting, first] = waiting_.try_emplace(key);
    if (callback) waiting->second.push_back(std::move(callback));
    if (!first) return;
    resolver_.query(key.name, key.type, [this, key](const dns::Answer& answer) {
      const dns::Answer& stored = answers_.emplace(key, answer).first->second;
      auto callbacks = std::move(waiting_[key]);
      waiting_.erase(key);
      for (auto& cb : callbacks) cb(stored);
    });
  }
  const AnswerCache& answers() const { return answers_; }

 private:
  dns::Resolver& resolver_;
  AnswerCache answers_;
  std::map<DnsKey, std::vector<Callback>> waiting_;
};

// One SPF evaluation that fetches what it needs, one lookup at a time, until it has a result.
void drive_spf(LookupCache& cache, std::shared_ptr<SpfQuery> query) {
  SpfEvaluation ev = evaluate_spf(*query, cache.answers());
  if (ev.needed) cache.fetch(*ev.needed, [&cache, query](const dns::Answer&) { drive_spf(cache, query); });
}

void fetch_forward(LookupCache& cache, const std::string& name, bool v6) {
  cache.fetch({canonical_dns_name(name), v6 ? RecordType::aaaa : RecordType::a}, nullptr);
}

void start_lookups(const DnsAuditInput& input, LookupCache& cache) {
  for (const auto& key : dnsbl_lookups(input)) cache.fetch(key, nullptr);
  for (const auto& ip : input.outbound_ips) {
    bool v6 = ip.find(':') != std::string::npos;
    if (!input.helo_name.empty()) fetch_forward(cache, input.helo_name, v6);
    cache.fetch({canonical_dns_name(ptr_name(ip)), RecordType::ptr}, [&cache, v6](const dns::Answer& ptr) {
      for (size_t i = 0; i < ptr.records.size() && i < 10; ++i) fetch_forward(cache, ptr.records[i], v6);
    });
  }
  for (const auto& d : input.domains) {
    for (const auto& ip : sending_ips(d, input)) {
      std::string domain = canonical_dns_name(d.name);
      drive_spf(cache, std::make_shared<SpfQuery>(SpfQuery{domain, ip, "postmaster@" + domain, input.helo_name}));
    }
    if (!d.dkim_selector.empty()) cache.fetch({dkim_name(d), RecordType::txt}, nullptr);
    std::string fallback = dmarc_fallback_domain(d.name);
    cache.fetch({dmarc_name(d.name), RecordType::txt}, [&cache, fallback](const dns::Answer& a) {
      if (a.records.empty() && !dns::lookup_failed(a.outcome) && !fallback.empty()) {
        cache.fetch({dmarc_name(fallback), RecordType::txt}, nullptr);
      }
    });
    if (input.check_mx) {
      cache.fetch({canonical_dns_name(d.name), RecordType::mx}, [&cache](const dns::Answer& mx) {
        for (size_t i = 0; i < mx.records.size() && i < 10; ++i) {
          std::string host = mx.records[i].substr(mx.records[i].find(' ') + 1);
          fetch_forward(cache, host, false);
          fetch_forward(cache, host, true);
        }
      });
    }
  }
}

std::string read_key_file(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot open";
    return {};
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::vector<Finding> run_dns_checks(const DnsAuditInput& input) {
  dns::Resolver resolver({.servers = input.resolvers,
                          .timeout = input.timeout,
                          .tries = input.tries,
                          .max_in_flight = std::max(1, input.max_in_flight)});
  LookupCache cache(resolver);
  start_lookups(input, cache);
  resolver.run();

  std::vector<Finding> findings;
  dnsbl_findings(input, cache.answers(), findings);
  rdns_findings(input, cache.answers(), findings);
  spf_findings(input, cache.answers(), findings);
  dkim_findings(input, cache.answers(), read_key_file, findings);
  dmarc_findings(input, cache.answers(), findings);
  mx_findings(input, cache.answers(), findings);
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.check_id, a.subject) < std::tie(b.check_id, b.subject);
  });
  return findings;
}

}  // namespace sw::audit
