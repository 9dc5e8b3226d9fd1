#include "audit/dns_records.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/text.h"

namespace sw::audit {
namespace {

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && to_lower(text.substr(0, prefix.size())) == prefix;
}

bool parse_prefix(std::string_view digits, int max, int& out) {
  if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) return false;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc() && ptr == digits.data() + digits.size() && out <= max;
}

// Splits "domain/24//64" into the domain-spec and the two prefix lengths.
bool split_cidr(std::string_view arg, SpfTerm& term, bool allow4, bool allow6) {
  size_t dual = arg.find("//");
  if (dual != std::string_view::npos) {
    if (!allow6 || !parse_prefix(arg.substr(dual + 2), 128, term.cidr6)) return false;
    arg = arg.substr(0, dual);
  }
  size_t slash = arg.rfind('/');
  if (slash != std::string_view::npos) {
    int& target = allow4 ? term.cidr4 : term.cidr6;
    if (!parse_prefix(arg.substr(slash + 1), allow4 ? 32 : 128, target)) return false;
    arg = arg.substr(0, slash);
  }
  term.domain_spec = std::string(arg);
  return true;
}

bool valid_domain_spec(std::string_view spec) {
  if (spec.empty() || spec.size() > 253 * 2) return false;
  for (char c : spec) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

bool parse_mechanism(std::string_view name, std::string_view arg, bool has_arg, SpfTerm& term) {
  using K = SpfTerm::Kind;
  static const std::pair<std::string_view, K> kinds[] = {{"all", K::all}, {"include", K::include}, {"a", K::a},
                                                         {"mx", K::mx},   {"ptr", K::ptr},         {"ip4", K::ip4},
                                                         {"ip6", K::ip6}, {"exists", K::exists}};
  auto it = std::find_if(std::begin(kinds), std::end(kinds), [&](const auto& k) { return k.first == name; });
  if (it == std::end(kinds)) return false;
  term.kind = it->second;
  bool bare = !has_arg && arg.empty();
  switch (term.kind) {
    case K::all: return bare;
    case K::include:
    case K::exists: term.domain_spec = std::string(arg); return has_arg && valid_domain_spec(arg);
    case K::ptr: term.domain_spec = std::string(arg); return bare || (has_arg && valid_domain_spec(arg));
    case K::a:
    case K::mx:
      if (bare) return true;
      if (!has_arg) return split_cidr(arg, term, true, true) && term.domain_spec.empty();  // "a/24"
      return split_cidr(arg, term, true, true) && valid_domain_spec(term.domain_spec);
    case K::ip4:
    case K::ip6: {
      bool v4 = term.kind == K::ip4;
      if (!has_arg || !split_cidr(arg, term, v4, !v4)) return false;
      term.address = std::move(term.domain_spec);
      term.domain_spec.clear();
      unsigned char buf[16];
      return inet_pton(v4 ? AF_INET : AF_INET6, term.address.c_str(), buf) == 1;
    }
    default: return false;
  }
}

}  // namespace

bool is_spf_record(std::string_view txt) { return iequals_prefix(txt, "v=spf1") && (txt.size() == 6 || txt[6] == ' '); }

std::optional<SpfRecord> parse_spf(std::string_view txt, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<SpfRecord> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (!is_spf_record(txt)) return fail("not an SPF record (no v=spf1)");
  SpfRecord record;
  bool seen_redirect = false, seen_exp = false;
  for (size_t pos = 6; pos < txt.size();) {
    if (txt[pos] == ' ') {
      ++pos;
      continue;
    }
    size_t end = std::min(txt.find(' ', pos), txt.size());
    std::string_view raw = txt.substr(pos, end - pos);
    pos = end;
    SpfTerm term;
    term.text = std::string(raw);
    size_t eq = raw.find('='), colon = raw.find(':'), slash = raw.find('/');
    size_t name_end = std::min({eq, colon, slash, raw.size()});
    if (eq != std::string_view::npos && eq == name_end) {  // a modifier
      std::string name = to_lower(raw.substr(0, eq));
      std::string_view value = raw.substr(eq + 1);
      if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0])))
        return fail("bad term '" + term.text + "'");
      if (name == "redirect" || name == "exp") {
        bool& seen = name == "redirect" ? seen_redirect : seen_exp;
        if (seen) return fail("more than one " + name + "= modifier");
        if (!valid_domain_spec(value)) return fail("bad " + name + "= domain in '" + term.text + "'");
        seen = true;
        term.kind = name == "redirect" ? SpfTerm::Kind::redirect : SpfTerm::Kind::exp;
        term.domain_spec = std::string(value);
      } else {
        term.kind = SpfTerm::Kind::modifier;
      }
      record.terms.push_back(std::move(term));
      continue;
    }
    std::string_view body = raw;
    if (!body.empty() && std::string_view("+-~?").find(body[0]) != std::string_view::npos) {
      term.qualifier = body[0];
      body.remove_prefix(1);
      --name_end;
    }
    std::string name = to_lower(body.substr(0, std::min(name_end, body.size())));
    bool has_arg = name_end < body.size() && body[name_end] == ':';
    std::string_view arg = name_end < body.size() ? body.substr(name_end + (has_arg ? 1 : 0)) : std::string_view();
    if (!parse_mechanism(name, arg, has_arg, term)) return fail("bad mechanism '" + term.text + "'");
    record.terms.push_back(std::move(term));
  }
  return record;
}

std::optional<std::map<std::string, std::string>> parse_tag_list(std::string_view txt, std::string* error) {
  std::map<std::string, std::string> tags;
  size_t pos = 0;
  while (pos <= txt.size()) {
    size_t end = std::min(txt.find(';', pos), txt.size());
    std::string_view spec = trim(txt.substr(pos, end - pos));
    pos = end + 1;
    if (spec.empty()) continue;  // a trailing ';' is allowed
    size_t eq = spec.find('=');
    if (eq == std::string_view::npos) {
      if (error) *error = "tag without '=': '" + std::string(spec) + "'";
      return std::nullopt;
    }
    std::string name = to_lower(trim(spec.substr(0, eq)));
    if (name.empty() || tags.count(name)) {
      if (error) *error = name.empty() ? "empty tag name" : "tag '" + name + "' given twice";
      return std::nullopt;
    }
    tags[name] = std::string(trim(spec.substr(eq + 1)));
  }
  return tags;
}

bool is_dmarc_record(std::string_view txt) {
  std::string_view t = trim(txt);
  if (!iequals_prefix(t, "v")) return false;
  t = trim(t.substr(1));
  if (t.empty() || t[0] != '=') return false;
  t = trim(t.substr(1));
  return t.size() >= 6 && t.substr(0, 6) == "DMARC1" && (t.size() == 6 || t[6] == ';' || t[6] == ' ');
}

std::optional<DmarcRecord> parse_dmarc(std::string_view txt, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<DmarcRecord> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (!is_dmarc_record(txt)) return fail("not a DMARC record (no v=DMARC1 first)");
  auto tags = parse_tag_list(txt, error);
  if (!tags) return std::nullopt;
  auto policy_ok = [](const std::string& p) { return p == "none" || p == "quarantine" || p == "reject"; };
  DmarcRecord record;
  auto p = tags->find("p");
  if (p == tags->end()) return fail("no p= policy");
  record.policy = to_lower(p->second);
  if (!policy_ok(record.policy)) return fail("bad policy p=" + p->second);
  if (auto sp = tags->find("sp"); sp != tags->end()) {
    record.subdomain_policy = to_lower(sp->second);
    if (!policy_ok(record.subdomain_policy)) return fail("bad subdomain policy sp=" + sp->second);
  }
  if (auto rua = tags->find("rua"); rua != tags->end()) record.rua = rua->second;
  if (auto pct = tags->find("pct"); pct != tags->end()) {
    if (!parse_prefix(pct->second, 100, record.pct)) return fail("bad pct=" + pct->second);
  }
  return record;
}

std::optional<std::string> base64_decode(std::string_view text) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0, padding = 0;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos || padding > 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (padding > 2 || bits >= 6) return std::nullopt;
  return out;
}

std::optional<DkimKeyRecord> parse_dkim_key(std::string_view txt, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<DkimKeyRecord> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  auto tags = parse_tag_list(txt, error);
  if (!tags) return std::nullopt;
  if (auto v = tags->find("v"); v != tags->end() && v->second != "DKIM1") return fail("bad version v=" + v->second);
  DkimKeyRecord record;
  if (auto k = tags->find("k"); k != tags->end()) record.key_type = to_lower(k->second);
  if (auto t = tags->find("t"); t != tags->end()) {
    std::string flags = t->second;
    std::replace(flags.begin(), flags.end(), ':', ' ');
    record.testing = (" " + flags + " ").find(" y ") != std::string::npos;
  }
  auto p = tags->find("p");
  if (p == tags->end()) return fail("no p= public key");
  if (p->second.empty()) {
    record.revoked = true;
    return record;
  }
  auto key = base64_decode(p->second);
  if (!key || key->empty()) return fail("p= is not base64");
  record.public_key = std::move(*key);
  return record;
}

}  // namespace sw::audit
