#include "audit/dns_spf.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "audit/dns_records.h"

namespace sw::audit {

using dns::Outcome;
using dns::RecordType;

std::string_view spf_result_name(SpfResult result) {
  switch (result) {
    case SpfResult::none: return "none";
    case SpfResult::neutral: return "neutral";
    case SpfResult::pass: return "pass";
    case SpfResult::fail: return "fail";
    case SpfResult::softfail: return "softfail";
    case SpfResult::temperror: return "temperror";
    case SpfResult::permerror: return "permerror";
  }
  return "?";
}

std::string reversed_ip(const std::string& ip) {
  unsigned char b[16];
  std::string out;
  if (inet_pton(AF_INET, ip.c_str(), b) == 1) {
    for (int i = 3; i >= 0; --i) out += std::to_string(b[i]) + (i ? "." : "");
  } else if (inet_pton(AF_INET6, ip.c_str(), b) == 1) {
    static const char* hex = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
      out += hex[b[i] & 0xF];
      out += '.';
      out += hex[b[i] >> 4];
      if (i) out += '.';
    }
  }
  return out;
}

namespace {

constexpr int kMaxLookups = 10;
constexpr int kMaxVoidLookups = 2;
constexpr int kMaxNames = 10;  // MX names and PTR names looked at per mechanism

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// Whether `ip` is inside `network`/`prefix` (same family only).
bool in_network(const std::string& ip, const std::string& network, int prefix4, int prefix6) {
  unsigned char a[16], n[16];
  int family = std::strchr(ip.c_str(), ':') ? AF_INET6 : AF_INET;
  if (inet_pton(family, ip.c_str(), a) != 1 || inet_pton(family, network.c_str(), n) != 1) return false;
  int prefix = family == AF_INET ? prefix4 : prefix6;
  for (int bit = 0; bit < prefix; bit += 8) {
    int take = std::min(8, prefix - bit);
    unsigned char mask = static_cast<unsigned char>(0xFF << (8 - take));
    if ((a[bit / 8] & mask) != (n[bit / 8] & mask)) return false;
  }
  return true;
}

struct Abort {};  // thrown inside the evaluator when it must stop (needs a lookup, or an error)

class Evaluator {
 public:
  Evaluator(const SpfQuery& q, const AnswerCache& cache, SpfEvaluation& out) : q_(q), cache_(cache), out_(out) {
    v6_ = q.ip.find(':') != std::string::npos;
  }

  SpfResult check_host(const std::string& domain, int depth) {
    if (depth > kMaxLookups) return error(SpfResult::permerror, "include/redirect loop");
    const dns::Answer& txt = fetch({lower(domain), RecordType::txt}, false);
    if (txt.outcome == Outcome::nxdomain || txt.outcome == Outcome::nodata) return SpfResult::none;
    if (dns::lookup_failed(txt.outcome)) {
      return error(SpfResult::temperror, "TXT " + domain + ": " + std::string(dns::outcome_name(txt.outcome)));
    }
    std::vector<const std::string*> spf;
    for (const auto& r : txt.records) {
      if (is_spf_record(r)) spf.push_back(&r);
    }
    if (spf.empty()) return SpfResult::none;
    if (spf.size() > 1)
      return error(SpfResult::permerror, domain + " has " + std::to_string(spf.size()) + " SPF records");
    if (txt.capped) return error(SpfResult::permerror, domain + ": TXT answer too large, cut");
    if (depth == 0) out_.record = *spf[0];
    if (spf[0]->size() > 450)
      out_.warnings.push_back(domain + ": SPF record is " + std::to_string(spf[0]->size()) +
                              " bytes (> 450 risks UDP truncation)");
    std::string parse_error;
    auto record = parse_spf(*spf[0], &parse_error);
    if (!record) return error(SpfResult::permerror, domain + ": " + parse_error);
    return run_record(*record, domain, depth);
  }

 private:
  SpfResult run_record(const SpfRecord& record, const std::string& domain, int depth) {
    const SpfTerm* redirect = nullptr;
    for (const auto& term : record.terms) lint(term, domain);  // "+a +mx +all" is wide open even when +a matches
    for (const auto& term : record.terms) {
      if (term.kind == SpfTerm::Kind::redirect) redirect = &term;
      if (term.kind == SpfTerm::Kind::redirect || term.kind == SpfTerm::Kind::exp ||
          term.kind == SpfTerm::Kind::modifier) {
        continue;
      }
      std::optional<SpfResult> inner;
      if (matches(term, domain, depth, inner)) {
        if (inner) return *inner;
        out_.reason = "matched '" + term.text + "' in " + domain;
        return qualifier_result(term.qualifier);
      }
    }
    if (redirect) {
      count_lookup();
      std::string target = expand(redirect->domain_spec, domain);
      SpfResult r = check_host(target, depth + 1);
      if (r == SpfResult::none) return error(SpfResult::permerror, "redirect to " + target + ": no SPF record");
      return r;
    }
    out_.reason = "no mechanism matched in " + domain;
    return SpfResult::neutral;
  }

  void lint(const SpfTerm& term, const std::string& domain) {
    if (term.kind == SpfTerm::Kind::all && term.qualifier == '+') {
      out_.warnings.push_back(domain + ": '" + term.text + "' authorises every host on the Internet");
    } else if (term.kind == SpfTerm::Kind::all && term.qualifier == '?') {
      out_.warnings.push_back(domain + ": '?all' is neutral: forged mail is not marked");
    } else if (term.kind == SpfTerm::Kind::ptr) {
      out_.warnings.push_back(domain + ": 'ptr' is slow and discouraged (RFC 7208 5.5)");
    }
  }

  static SpfResult qualifier_result(char q) {
    switch (q) {
      case '-': return SpfResult::fail;
      case '~': return SpfResult::softfail;
      case '?': return SpfResult::neutral;
      default: return SpfResult::pass;
    }
  }

  // True when the mechanism matches; `inner` set when an include ended the evaluation with an error.
  bool matches(const SpfTerm& term, const std::string& domain, int depth, std::optional<SpfResult>& inner) {
    using K = SpfTerm::Kind;
    std::string target = term.domain_spec.empty() ? domain : expand(term.domain_spec, domain);
    switch (term.kind) {
      case K::all: return true;
      case K::ip4:
      case K::ip6: return in_network(q_.ip, term.address, term.cidr4, term.cidr6);
      case K::a: count_lookup(); return address_matches(target, term);
      case K::mx: {
        count_lookup();
        const dns::Answer& mx = fetch({target, RecordType::mx}, true);
        if (mx.records.size() > kMaxNames) error(SpfResult::permerror, target + ": more than 10 MX names");
        for (const auto& rec : mx.records) {
          if (address_matches(lower(rec.substr(rec.find(' ') + 1)), term, false)) return true;
        }
        return false;
      }
      case K::exists: {
        count_lookup();
        return !fetch({target, RecordType::a}, true).records.empty();
      }
      case K::ptr: {
        count_lookup();
        const dns::Answer& ptr =
            fetch({lower(reversed_ip(q_.ip) + (v6_ ? ".ip6.arpa" : ".in-addr.arpa")), RecordType::ptr}, true);
        for (size_t i = 0; i < ptr.records.size() && i < kMaxNames; ++i) {
          std::string name = lower(ptr.records[i]);
          if (name != target && !name.ends_with("." + target)) continue;
          if (address_matches(name, SpfTerm{}, false)) return true;
        }
        return false;
      }
      case K::include: {
        count_lookup();
        SpfResult r = check_host(target, depth + 1);
        if (r == SpfResult::pass) return true;
        if (r == SpfResult::none) inner = error(SpfResult::permerror, "include:" + target + " has no SPF record");
        if (r == SpfResult::temperror || r == SpfResult::permerror) inner = r;
        return inner.has_value();
      }
      default: return false;
    }
  }

  bool address_matches(const std::string& name, const SpfTerm& term, bool count_void = true) {
    const dns::Answer& a = fetch({name, v6_ ? RecordType::aaaa : RecordType::a}, count_void);
    for (const auto& addr : a.records) {
      if (in_network(q_.ip, addr, term.cidr4, term.cidr6)) return true;
    }
    return false;
  }

  void count_lookup() {
    if (++out_.lookups > kMaxLookups) error(SpfResult::permerror, "more than 10 DNS lookups (RFC 7208 4.6.4)");
  }

  // The cached answer; throws Abort after naming the lookup when it is not cached yet.
  const dns::Answer& fetch(const DnsKey& key, bool count_void) {
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      out_.needed = key;
      throw Abort{};
    }
    const dns::Answer& a = it->second;
    if (dns::lookup_failed(a.outcome)) {
      error(SpfResult::temperror,
            std::string(dns::type_name(key.type)) + " " + key.name + ": " + std::string(dns::outcome_name(a.outcome)));
    }
    if (count_void && a.records.empty() && ++out_.void_lookups > kMaxVoidLookups) {
      error(SpfResult::permerror, "more than 2 lookups found nothing (RFC 7208 4.6.4)");
    }
    return a;
  }

  std::string expand(const std::string& spec, const std::string& domain) {
    auto expanded = expand_spf_macros(spec, q_, domain);
    if (!expanded) error(SpfResult::permerror, "bad macro in '" + spec + "'");
    return lower(*expanded);
  }

  SpfResult error(SpfResult result, std::string why) {
    out_.result = result;
    out_.reason = std::move(why);
    throw Abort{};
  }

  const SpfQuery& q_;
  const AnswerCache& cache_;
  SpfEvaluation& out_;
  bool v6_ = false;
};

std::vector<std::string> split_any(const std::string& s, const std::string& delimiters) {
  std::vector<std::string> parts(1);
  for (char c : s) {
    if (delimiters.find(c) != std::string::npos) parts.emplace_back();
    else parts.back() += c;
  }
  return parts;
}

std::string macro_letter(char letter, const SpfQuery& q, const std::string& domain) {
  std::string sender = q.sender.empty() ? "postmaster@" + q.domain : q.sender;
  size_t at = sender.rfind('@');
  switch (std::tolower(static_cast<unsigned char>(letter))) {
    case 's': return sender;
    case 'l': return at == std::string::npos ? "postmaster" : sender.substr(0, at);
    case 'o': return at == std::string::npos ? q.domain : sender.substr(at + 1);
    case 'd': return domain;
    case 'h': return q.helo;
    case 'p': return "unknown";
    case 'v': return q.ip.find(':') != std::string::npos ? "ip6" : "in-addr";
    case 'i': {
      std::string rev = reversed_ip(q.ip);  // i is the dotted form; for v6, nibbles
      auto labels = split_any(rev, ".");
      std::reverse(labels.begin(), labels.end());
      std::string out;
      for (const auto& l : labels) out += (out.empty() ? "" : ".") + l;
      return out;
    }
    default: return {};
  }
}

}  // namespace

std::optional<std::string> expand_spf_macros(const std::string& spec, const SpfQuery& query,
                                             const std::string& current_domain) {
  std::string out;
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != '%') {
      out += spec[i];
      continue;
    }
    if (++i >= spec.size()) return std::nullopt;
    char c = spec[i];
    if (c == '%') out += '%';
    else if (c == '_') out += ' ';
    else if (c == '-') out += "%20";
    else if (c == '{') {
      size_t close = spec.find('}', i);
      if (close == std::string::npos || close == i + 1) return std::nullopt;
      std::string body = spec.substr(i + 1, close - i - 1);
      i = close;
      char letter = body[0];
      if (std::string_view("slodiphvSLODIPHV").find(letter) == std::string_view::npos) return std::nullopt;
      size_t pos = 1;
      int keep = 0;
      while (pos < body.size() && std::isdigit(static_cast<unsigned char>(body[pos])) && keep < 1000) {
        keep = keep * 10 + (body[pos++] - '0');
      }
      bool reverse = pos < body.size() && (body[pos] == 'r' || body[pos] == 'R');
      if (reverse) ++pos;
      std::string delimiters = body.substr(pos);
      if (delimiters.find_first_not_of(".-+,/_=") != std::string::npos) return std::nullopt;
      auto parts = split_any(macro_letter(letter, query, current_domain), delimiters.empty() ? "." : delimiters);
      if (reverse) std::reverse(parts.begin(), parts.end());
      if (keep > 0 && static_cast<size_t>(keep) < parts.size()) parts.erase(parts.begin(), parts.end() - keep);
      std::string joined;
      for (const auto& p : parts) joined += (joined.empty() ? "" : ".") + p;
      out += joined;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

SpfEvaluation evaluate_spf(const SpfQuery& query, const AnswerCache& cache) {
  SpfEvaluation out;
  Evaluator evaluator(query, cache, out);
  try {
    out.result = evaluator.check_host(query.domain, 0);
  } catch (const Abort&) {
    // out.needed or out.result/reason were set before the throw
  }
  return out;
}

}  // namespace sw::audit
