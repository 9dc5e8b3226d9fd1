// SPF check_host() (RFC 7208 4-6) as a pure function over a cache of DNS answers: it returns the
// result, or the next lookup it needs. The caller fetches that answer and calls again; replaying
// from the start is cheap (at most ~30 lookups) and keeps evaluation free of I/O, so thousands of
// domains can be evaluated at once over one concurrent resolver.
#pragma once
#include <compare>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "audit/dns_resolver.h"

namespace sw::audit {

struct DnsKey {
  std::string name;  // lower case, no final dot
  dns::RecordType type;
  auto operator<=>(const DnsKey&) const = default;
};
using AnswerCache = std::map<DnsKey, dns::Answer>;

enum class SpfResult { none, neutral, pass, fail, softfail, temperror, permerror };
std::string_view spf_result_name(SpfResult result);

struct SpfEvaluation {
  std::optional<DnsKey> needed;  // set: fetch this answer and evaluate again
  SpfResult result = SpfResult::none;
  std::string reason;                 // why: the matching term, the error
  std::vector<std::string> warnings;  // "+all", "?all", "ptr", record size, per domain
  std::string record;                 // the domain's own SPF record text
  int lookups = 0;                    // DNS-querying terms (limit 10)
  int void_lookups = 0;               // lookups that found nothing (limit 2)
};

struct SpfQuery {
  std::string domain;  // the MAIL FROM domain
  std::string ip;      // the client IP (v4 or v6 text)
  std::string sender;  // "postmaster@domain"
  std::string helo;
};

SpfEvaluation evaluate_spf(const SpfQuery& query, const AnswerCache& cache);

// SPF macro expansion (RFC 7208 7) of a domain-spec; nullopt for a malformed macro.
std::optional<std::string> expand_spf_macros(const std::string& spec, const SpfQuery& query,
                                             const std::string& current_domain);

// "1.2.3.4" -> "4.3.2.1", an IPv6 address -> its 32 reversed nibbles; empty for a bad address.
std::string reversed_ip(const std::string& ip);

}  // namespace sw::audit
