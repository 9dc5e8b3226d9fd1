// Pure parsers of the TXT records the DNS checks read: SPF (RFC 7208), DMARC (RFC 7489) and DKIM
// keys (RFC 6376 3.6.1). Text in, structure or a one-line error out; no I/O, any input is safe.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::audit {

struct SpfTerm {
  enum class Kind { all, include, a, mx, ptr, ip4, ip6, exists, redirect, exp, modifier };
  Kind kind = Kind::all;
  char qualifier = '+';     // + - ~ ?
  std::string domain_spec;  // include/a/mx/ptr/exists/redirect/exp target; empty: the current domain
  std::string address;      // ip4/ip6: the network address as written
  int cidr4 = 32;           // a/mx/ip4 prefix
  int cidr6 = 128;          // a/mx/ip6 prefix
  std::string text;         // the term as written, for evidence
};

struct SpfRecord {
  std::vector<SpfTerm> terms;
};

// True when a TXT record is an SPF record: "v=spf1" alone or followed by a space (case-insensitive).
bool is_spf_record(std::string_view txt);
// Parses an SPF record; an empty optional with `error` set is a permerror (syntax).
std::optional<SpfRecord> parse_spf(std::string_view txt, std::string* error);

// "tag=value; tag=value" lists of DMARC and DKIM; nullopt (with error) for a malformed list.
std::optional<std::map<std::string, std::string>> parse_tag_list(std::string_view txt, std::string* error);

struct DmarcRecord {
  std::string policy;            // p: none, quarantine, reject
  std::string subdomain_policy;  // sp: empty if not given
  std::string rua;
  int pct = 100;
};
bool is_dmarc_record(std::string_view txt);  // starts with "v=DMARC1"
std::optional<DmarcRecord> parse_dmarc(std::string_view txt, std::string* error);

struct DkimKeyRecord {
  std::string key_type = "rsa";  // k=
  std::string public_key;        // p= decoded (DER SubjectPublicKeyInfo for rsa, 32 raw bytes for ed25519)
  bool revoked = false;          // p= present but empty
  bool testing = false;          // t=y
};
std::optional<DkimKeyRecord> parse_dkim_key(std::string_view txt, std::string* error);

// Base64 (RFC 4648) ignoring whitespace; nullopt for anything else that is not base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace sw::audit
