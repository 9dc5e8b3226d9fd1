#include "audit/config_checks.h"

#include <fmt/format.h>

#include <set>

namespace sw::audit {
namespace {

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

// Every statement of the ACLs the SMTP options name (connect/helo/mail/rcpt/data).
std::vector<std::pair<std::string, const AclStatement*>> smtp_statements(const EximFacts& facts,
                                                                         const StaticAnalysis& a) {
  std::vector<std::pair<std::string, const AclStatement*>> out;
  std::set<std::string> names;
  for (const char* opt : {"acl_smtp_connect", "acl_smtp_helo", "acl_smtp_mail", "acl_smtp_rcpt", "acl_smtp_data"})
    names.insert(facts.option(opt));
  // Statements in ACLs called with `acl = NAME` count as well (one level deep is what panels use).
  std::set<std::string> called;
  for (const Acl& acl : a.acls)
    if (names.contains(acl.name))
      for (const AclStatement& s : acl.statements)
        for (const AclCondition& c : s.conditions)
          if (c.name == "acl") called.insert(c.value);
  for (const Acl& acl : a.acls)
    if (names.contains(acl.name) || called.contains(acl.name))
      for (const AclStatement& s : acl.statements) out.push_back({acl.name, &s});
  return out;
}

std::string list_value(const StaticAnalysis& a, const EximFacts& facts, const std::string& name) {
  auto it = a.named_lists.find(name);
  return it != a.named_lists.end() ? it->second : facts.option(name);
}

std::string at(const std::string& acl, const AclStatement& s) {
  return fmt::format("ACL {} ({} line {})", acl, s.file, s.line);
}

}  // namespace

StaticAnalysis analyse_config(const EximFacts& facts, const Exim& exim, std::vector<std::string>* unreadable) {
  StaticAnalysis a;
  a.acls = read_acls(facts.config_text, "exim -bP config");
  if (const Acl* rcpt = find_acl(a.acls, facts.option("acl_smtp_rcpt"))) a.gate = analyse_relay_gate(*rcpt);
  std::set<std::string> seen;
  for (const Acl* rcpt = find_acl(a.acls, facts.option("acl_smtp_rcpt")); rcpt; rcpt = nullptr)
    for (int index : a.gate.early_accepts)
      for (const AclCondition& c : rcpt->statements[size_t(index)].conditions) {
        if ((c.name != "sender_domains" && c.name != "senders") || c.negated) continue;
        std::string value = c.value;
        for (const std::string& item : split_exim_list(c.value))
          if (item.starts_with("+")) {  // a named list: its items too
            auto listed = parse_bp_options(exim.run({"-bP", item}).out);
            a.named_lists[item] = listed.contains(item) ? listed[item] : facts.option(item);
            value += " : " + a.named_lists[item];
          }
        for (std::string& s : probe_senders_from_list(value, c.name == "sender_domains", unreadable, 20))
          if (seen.insert(s).second) a.whitelist_senders.push_back(std::move(s));
      }
  return a;
}

std::vector<Finding> relay_config_findings(const EximFacts& facts, const StaticAnalysis& a,
                                           const std::string& config_file, const std::string& config_file_text) {
  std::vector<Finding> out;
  const Acl* rcpt = find_acl(a.acls, facts.option("acl_smtp_rcpt"));
  if (!rcpt) {
    out.push_back({"R3",
                   Severity::warn,
                   "acl_smtp_rcpt",
                   "no RCPT ACL found (acl_smtp_rcpt unset or not readable): Exim then refuses all SMTP recipients",
                   {"acl_smtp_rcpt = " + facts.option("acl_smtp_rcpt")},
                   ""});
  } else {
    int from_line = 0;
    for (size_t k = 0; k < a.gate.early_accepts.size(); ++k) {
      const AclStatement& s = rcpt->statements[size_t(a.gate.early_accepts[k])];
      int file_line = config_file_text.empty() ? 0 : locate_statement(config_file_text, s, from_line);
      if (file_line > 0) from_line = file_line;
      std::string where = file_line > 0 ? fmt::format("{}:{}", config_file, file_line)
                                        : fmt::format("{} statement {}", rcpt->name, a.gate.early_accepts[k] + 1);
      Finding f{"R3",
                Severity::warn,
                where,
                fmt::format("accept before the relay gate tests only what the client controls ({})", a.gate.why[k]),
                {statement_text(s)},
                "add `domains = +local_domains : +relay_to_domains` to this accept, so it only skips checks for "
                "inbound mail"};
      if (a.gate.gate < 0) f.evidence.push_back("no relay gate (require domains = ...) found in " + rcpt->name);
      out.push_back(std::move(f));
    }
    if (a.gate.early_accepts.empty())
      out.push_back({"R3", Severity::ok, rcpt->name, "no client-controlled accept before the relay gate", {}, ""});
    // R4: the lists behind those accepts, with what is in them.
    for (const std::string& value : a.gate.sender_list_values) {
      std::vector<std::string> entries;
      for (const std::string& item : split_exim_list(value))
        for (std::string& e : expand_list_items(item.starts_with("+") ? list_value(a, facts, item) : item, nullptr))
          entries.push_back(std::move(e));
      if (entries.empty()) continue;
      Finding f{"R4",
                Severity::warn,
                value,
                fmt::format("{} entries in a list an early accept matches: each may relay by forging its sender",
                            entries.size()),
                {},
                "empty the list or restrict its accept to local recipient domains"};
      for (size_t i = 0; i < entries.size() && i < 5; ++i) f.evidence.push_back("entry: " + entries[i]);
      out.push_back(std::move(f));
    }
  }
  // R5: relay-granting hosts.
  std::string relay_hosts = facts.option("+relay_from_hosts");
  bool wide = false;
  for (const std::string& item : split_exim_list(relay_hosts)) {
    bool any = item == "*" || item == "0.0.0.0/0" || item == "::/0" || item == "0/0";
    size_t slash = item.find('/');
    int bits = slash == std::string::npos ? 32 : std::atoi(item.c_str() + slash + 1);
    bool private_net = item.starts_with("10.") || item.starts_with("192.168.") || item.starts_with("127.") ||
                       item.starts_with("172.") || item.find(':') != std::string::npos;
    if (any || (item.find('.') != std::string::npos && !private_net && bits < 24)) {
      out.push_back({"R5",
                     any ? Severity::crit : Severity::warn,
                     "relay_from_hosts",
                     fmt::format("relay_from_hosts grants relay to {}", any ? "every client" : item),
                     {"hostlist relay_from_hosts = " + relay_hosts},
                     "list only the hosts that must relay (Debian: dc_relay_nets in update-exim4.conf.conf)"});
      wide = true;
    }
  }
  if (!wide) out.push_back({"R5", Severity::ok, "relay_from_hosts", "relay_from_hosts = " + relay_hosts, {}, ""});
  // R7: address syntax.
  std::string percent = facts.option("percent_hack_domains");
  if (!percent.empty())
    out.push_back({"R7",
                   percent == "*" ? Severity::crit : Severity::warn,
                   "percent_hack_domains",
                   fmt::format("the %-hack is enabled for {}", percent == "*" ? "every domain" : percent),
                   {"percent_hack_domains = " + percent},
                   "remove percent_hack_domains from the main section"});
  if (facts.option("allow_domain_literals") == "true")
    out.push_back({"R7",
                   Severity::info,
                   "allow_domain_literals",
                   "domain literals (user@[IP]) are accepted",
                   {"allow_domain_literals = true"},
                   "set allow_domain_literals = false unless needed"});
  bool localpart_rule = false;
  if (rcpt)
    for (const AclStatement& s : rcpt->statements)
      if (const AclCondition* lp = s.find("local_parts"); lp && s.verb == "deny" && contains(lp->value, "%"))
        localpart_rule = true;
  if (rcpt && !localpart_rule)
    out.push_back({"R7",
                   Severity::info,
                   rcpt->name,
                   "no RCPT ACL rule refuses local parts with @ % ! / |",
                   {},
                   "add `deny local_parts = ^.*[@%!/|] : ^\\\\.` near the top of the RCPT ACL"});
  if (percent.empty() && localpart_rule)
    out.push_back({"R7", Severity::ok, "address syntax", "no %-hack; odd local parts refused", {}, ""});
  return out;
}

std::vector<Finding> inbound_config_findings(const EximFacts& facts, const StaticAnalysis& a) {
  std::vector<Finding> out;
  // S1
  std::string selector = facts.option("log_selector");
  std::vector<std::string> missing;
  bool all = contains(selector, "+all");
  for (const char* want : {"+arguments", "+subject"})
    if (!all && (!contains(selector, want) || contains(selector, std::string("-") + (want + 1))))
      missing.push_back(want);
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing) list += (list.empty() ? "" : " ") + m;
    out.push_back({"S1",
                   Severity::warn,
                   "log_selector",
                   "log_selector lacks " + list + ": spam sources stay hidden",
                   {"log_selector = " + selector},
                   "Debian: MAIN_LOG_SELECTOR in exim4.conf.localmacros; cPanel: remove the negation in "
                   "/etc/exim.conf.local and run buildeximconf; then exim -bV and reload"});
  } else {
    out.push_back({"S1", Severity::ok, "log_selector", "log_selector = " + selector, {}, ""});
  }
  auto statements = smtp_statements(facts, a);
  // S3, S4, S5, S8, S9, S10
  bool callout = false, dnsbl_enforcing = false, dnsbl_warn_only = false, dictionary = false, quota = false;
  bool holds_mail = false, holds_not_smtp = false, policy_socket = false;
  for (auto& [acl, s] : statements) {
    for (const AclCondition& c : s->conditions) {
      if (c.name == "verify" && c.value.starts_with("sender/callout")) callout = true;
      if (c.name == "verify" && contains(c.value, "recipient") && contains(c.value, "quota")) quota = true;
      if (contains(c.value, "rcpt_fail_count") ||
          (contains(c.value, "$rcpt_count") && contains(c.value, "recipients_count")))
        dictionary = true;
      if (contains(c.value, "readsocket") && contains(c.value, "spamwarden")) policy_socket = true;
      if (contains(c.value, "spamwarden") && contains(c.value, "holds") && acl == facts.option("acl_smtp_mail"))
        holds_mail = true;
      if (c.name != "dnslists") continue;
      if (s->verb == "deny" || s->verb == "drop" || s->verb == "defer") dnsbl_enforcing = true;
      else dnsbl_warn_only = true;
      for (const std::string& zone : split_exim_list(c.value)) {
        if (!contains(zone, "spamhaus")) continue;
        bool restricted = contains(zone, "=127.") || contains(zone, "&0.255.255.0") || contains(zone, "!&");
        if (!restricted)
          out.push_back({"S5",
                         Severity::warn,
                         zone,
                         "Spamhaus list without a return-code restriction: a resolver refusal (127.255.255.x) "
                         "rejects innocent clients",
                         {at(acl, *s) + ": " + statement_text(*s)},
                         "write `" + zone.substr(0, zone.find_first_of("/=&!")) + "!&0.255.255.0`"});
        else out.push_back({"S5", Severity::ok, zone, "return codes restricted", {}, ""});
      }
    }
  }
  for (const Acl& acl : a.acls)
    if (acl.name == facts.option("acl_not_smtp"))
      for (const AclStatement& s : acl.statements)
        for (const AclCondition& c : s.conditions)
          if (contains(c.value, "spamwarden") && contains(c.value, "holds")) holds_not_smtp = true;
  if (contains(facts.config_text, "quota-status") || contains(facts.config_text, "overquota")) quota = true;
  out.push_back({"S3",
                 Severity::info,
                 "verify = sender/callout",
                 callout ? "sender callouts are used" : "no sender callouts (fine: they cost time)",
                 {},
                 ""});
  if (dnsbl_enforcing)
    out.push_back({"S4", Severity::ok, "dnslists", "a DNS blocklist denies in the SMTP ACLs", {}, ""});
  else
    out.push_back({"S4",
                   Severity::warn,
                   "dnslists",
                   dnsbl_warn_only ? "DNS blocklists only warn (add a header); nothing is refused"
                                   : "no DNS blocklist in the SMTP ACLs",
                   {},
                   "deny dnslists = zen.spamhaus.org!&0.255.255.0 in the RCPT ACL (needs a non-public resolver)"});
  out.push_back(dictionary ? Finding{"S8", Severity::ok, "RCPT ACL", "failed-recipient counting is in place", {}, ""}
                           : Finding{"S8",
                                     Severity::warn,
                                     "RCPT ACL",
                                     "no dictionary-attack protection ($rcpt_fail_count rule)",
                                     {},
                                     "drop condition = ${if >{$rcpt_fail_count}{4}} in the RCPT ACL"});
  out.push_back(quota ? Finding{"S9", Severity::ok, "quota", "quota is checked at SMTP time", {}, ""}
                      : Finding{"S9",
                                Severity::info,
                                "quota",
                                "over-quota mail is not refused at RCPT: it bounces later (backscatter)",
                                {},
                                "verify = recipient/quota (Exim >= 4.95) or cPanel's Disk Quota Delivery Failure "
                                "Response"});
  std::vector<std::string> wired;
  if (holds_mail) wired.push_back("watch holds (MAIL ACL)");
  if (holds_not_smtp) wired.push_back("watch holds (non-SMTP ACL)");
  if (policy_socket) wired.push_back("spamwarden policy socket");
  if (holds_mail && holds_not_smtp) {
    std::string list;
    for (const std::string& w : wired) list += (list.empty() ? "" : ", ") + w;
    out.push_back({"S10", Severity::ok, "ACL snippets", "installed: " + list, {}, ""});
  } else {
    out.push_back({"S10",
                   Severity::info,
                   "ACL snippets",
                   std::string("spamwarden watch's hold snippets are not wired in (") +
                       (holds_mail ? "" : "MAIL ACL ") + (holds_not_smtp ? "" : "non-SMTP ACL") +
                       "): holds would not stop mail",
                   {},
                   "include contrib/exim/acl_smtp_mail.inc and acl_not_smtp.inc (docs/watch.md)"});
  }
  return out;
}

std::vector<Finding> inbound_probe_findings(const Exim& exim, const EximFacts& facts, const RelayOptions& options) {
  std::vector<Finding> out;
  std::string rcpt_acl = facts.option("acl_smtp_rcpt");
  std::string local = facts.local_domains.empty() ? facts.option("primary_hostname") : facts.local_domains[0];
  std::string mailbox = options.local_mailbox.empty() ? "postmaster@" + local : options.local_mailbox;
  // S2: a sender in a domain that cannot exist must be refused.
  Probe sender_probe{"198.51.100.250", 25,    "relay-probe.example", "nobody@no-such-domain.invalid",
                     mailbox,          false, "sender verification"};
  ProbeOutcome s2 = run_probe(exim, sender_probe, options.server_ip, rcpt_acl);
  std::vector<std::string> evidence = {describe_probe(sender_probe),
                                       fmt::format("reply: {} {}", s2.rcpt_reply.code, s2.rcpt_reply.text)};
  if (s2.verdict == ProbeClass::refused)
    out.push_back(
        {"S2", Severity::ok, "sender verification", "a sender in a nonexistent domain is refused", evidence, ""});
  else if (s2.verdict == ProbeClass::accepted)
    out.push_back({"S2", Severity::warn, "sender verification", "a sender in a nonexistent domain is accepted",
                   evidence, "require verify = sender in the RCPT ACL (Debian: CHECK_RCPT_VERIFY_SENDER)"});
  else
    out.push_back({"S2", Severity::inconclusive, "sender verification", "the probe got no clear answer", evidence, ""});
  // S7: a client greeting with the server's own name.
  Probe helo_probe{
      "198.51.100.251", 25, facts.option("primary_hostname"), "u@" + options.outside_domain, mailbox, false,
      "HELO check"};
  ProbeOutcome s7 = run_probe(exim, helo_probe, options.server_ip, rcpt_acl);
  evidence = {"EHLO " + helo_probe.helo + " from " + helo_probe.client_ip,
              fmt::format("reply: {} {}", s7.rcpt_reply.code, s7.rcpt_reply.text)};
  if (s7.verdict == ProbeClass::accepted)
    out.push_back({"S7", Severity::info, "HELO", "a client claiming to be this server is accepted", evidence,
                   "deny condition = ${if eq{$sender_helo_name}{$primary_hostname}} in the MAIL ACL"});
  else out.push_back({"S7", Severity::ok, "HELO", "a client claiming to be this server is refused", evidence, ""});
  return out;
}

}  // namespace sw::audit
