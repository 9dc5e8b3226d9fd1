#include "audit/relay_probe.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "base/text.h"

namespace sw::audit {
namespace {

bool is_reply_line(std::string_view line) {
  return line.size() >= 4 && std::isdigit(static_cast<unsigned char>(line[0])) &&
         std::isdigit(static_cast<unsigned char>(line[1])) && std::isdigit(static_cast<unsigned char>(line[2])) &&
         (line[3] == ' ' || line[3] == '-');
}

std::string domain_of(std::string_view address) {
  size_t at = address.rfind('@');
  std::string d(at == std::string_view::npos ? "" : address.substr(at + 1));
  for (char& c : d) c = char(std::tolower(static_cast<unsigned char>(c)));
  return d;
}

// TEST-NET client addresses (RFC 5737), a fresh one per probe: hints databases (ratelimit,
// seen) written by -bh then never meet the same client twice.
class ClientAddresses {
 public:
  std::string next() {
    static constexpr const char* kNets[] = {"198.51.100.", "203.0.113.", "192.0.2."};
    std::string ip = kNets[(n_ / 250) % 3] + std::to_string(2 + n_ % 250);
    ++n_;
    return ip;
  }

 private:
  int n_ = 0;
};

}  // namespace

std::vector<SmtpReply> parse_smtp_replies(std::string_view out) {
  std::vector<SmtpReply> replies;
  bool open = false;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t end = out.find('\n', pos);
    if (end == std::string_view::npos) end = out.size();
    std::string_view line = out.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!is_reply_line(line)) continue;
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    std::string text(trim(line.substr(4)));
    if (open && replies.back().code == code) {
      replies.back().text += " / " + text;
    } else {
      replies.push_back({code, text});
    }
    open = line[3] == '-';
  }
  return replies;
}

Grant parse_acl_trace(std::string_view err, std::string_view acl) {
  Grant grant;
  std::string last_file;
  int last_line = 0;
  size_t pos = 0;
  const std::string succeeded = fmt::format(">>> accept: condition test succeeded in ACL \"{}\"", acl);
  while (pos < err.size()) {
    size_t end = err.find('\n', pos);
    if (end == std::string_view::npos) end = err.size();
    std::string_view line = trim(err.substr(pos, end - pos));
    pos = end + 1;
    if (line.starts_with("LOG: ")) {
      if (grant.log_lines.size() < 20) grant.log_lines.emplace_back(line.substr(0, 300));
    } else if (line.starts_with(">>> processing \"")) {
      size_t open = line.find(" (");
      size_t close = line.rfind(')');
      if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
        std::string_view where = line.substr(open + 2, close - open - 2);
        size_t space = where.rfind(' ');
        if (space != std::string_view::npos) {
          last_file = std::string(where.substr(0, space));
          last_line = std::atoi(std::string(where.substr(space + 1)).c_str());
        }
      }
    } else if (line == succeeded) {
      grant.file = last_file;
      grant.line = last_line;
    }
  }
  return grant;
}

ProbeOutcome classify_probe(const std::vector<SmtpReply>& replies) {
  ProbeOutcome outcome;
  if (replies.empty() || replies[0].code >= 400 || replies.size() < 3 || replies[1].code >= 400) {
    outcome.verdict = ProbeClass::blocked_early;
    if (!replies.empty()) outcome.rcpt_reply = replies.back();
    return outcome;
  }
  if (replies[2].code >= 400) {  // MAIL refused: the recipient was never tried
    outcome.rcpt_reply = replies[2];
    outcome.verdict = replies[2].code >= 500 ? ProbeClass::refused : ProbeClass::deferred;
    return outcome;
  }
  if (replies.size() < 4) return outcome;
  outcome.rcpt_reply = replies[3];
  int code = replies[3].code;
  outcome.verdict = code < 300 ? ProbeClass::accepted : code < 500 ? ProbeClass::deferred : ProbeClass::refused;
  return outcome;
}

std::string probe_dialogue(const Probe& probe) {
  return fmt::format("EHLO {}\r\nMAIL FROM:<{}>\r\nRCPT TO:<{}>\r\nQUIT\r\n", probe.helo, probe.sender,
                     probe.recipient);
}

std::string describe_probe(const Probe& probe) {
  return fmt::format("exim -bh {} -oMi SERVER.{}{}: MAIL FROM:<{}> RCPT TO:<{}>", probe.client_ip, probe.port,
                     probe.authenticated ? " -oMaa PLAIN -oMai ID" : "", probe.sender, probe.recipient);
}

ProbeOutcome run_probe(const Exim& exim, const Probe& probe, const std::string& server_ip,
                       const std::string& rcpt_acl) {
  std::vector<std::string> args = {"-bh", probe.client_ip, "-oMi", server_ip + "." + std::to_string(probe.port)};
  if (probe.authenticated) args.insert(args.end(), {"-oMaa", "PLAIN", "-oMai", "relay-probe"});
  ProcessResult run = exim.run(args, probe_dialogue(probe));
  if (!run.spawn_error.empty() || run.timed_out) {
    ProbeOutcome failed;
    failed.error = run.timed_out ? "exim -bh did not finish in time" : run.spawn_error;
    return failed;
  }
  ProbeOutcome outcome = classify_probe(parse_smtp_replies(run.out));
  outcome.grant = parse_acl_trace(run.err, rcpt_acl);
  if (outcome.verdict == ProbeClass::failed) {
    std::string err(trim(run.err));
    outcome.error =
        "no RCPT reply from exim -bh" + (err.empty() ? "" : ": " + err.substr(err.size() > 200 ? err.size() - 200 : 0));
  }
  return outcome;
}

std::vector<std::string> probe_senders_from_list(const std::string& value, bool domains_only,
                                                 std::vector<std::string>* unreadable, size_t limit) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::vector<std::string> items = expand_list_items(value, unreadable);
  for (std::string item : items) {
    if (out.size() >= limit) break;
    if (item.empty() || item[0] == '!' || item[0] == '^' || item[0] == '+' || item.find(';') != std::string::npos ||
        item.find('$') != std::string::npos)
      continue;
    std::string address;
    size_t at = item.rfind('@');
    if (domains_only || at == std::string::npos) {
      std::string domain = at == std::string::npos ? item : item.substr(at + 1);
      if (domain.starts_with("*.")) domain = "probe" + domain.substr(1);
      else if (domain.starts_with("*")) domain = "probe" + domain.substr(1);
      if (domain.empty() || domain.find('*') != std::string::npos) continue;
      address = "WTSEGRFTDM@" + domain;
    } else {
      std::string local = item.substr(0, at), domain = item.substr(at + 1);
      if (local.empty() || local == "*") local = "WTSEGRFTDM";
      if (domain.starts_with("*.")) domain = "probe" + domain.substr(1);
      if (local.find('*') != std::string::npos || domain.find('*') != std::string::npos || domain.empty()) continue;
      address = local + "@" + domain;
    }
    if (seen.insert(address).second) out.push_back(address);
  }
  return out;
}

namespace {

struct Matrix {
  std::vector<Probe> probes;
};

std::vector<std::pair<std::string, std::string>> recipient_forms(const std::string& outside, const std::string& local,
                                                                 const std::string& server_ip) {
  return {
      {"r@" + outside, "plain outside recipient"},
      {"r%" + outside + "@" + local, "%-hack"},
      {"r%" + outside + "@[" + server_ip + "]", "%-hack to an IP literal"},
      {outside + "!r", "bang path"},
      {outside + "!r@" + local, "bang path via a local domain"},
      {"\"r@" + outside + "\"", "quoted local part"},
      {"\"r@" + outside + "\"@" + local, "quoted local part at a local domain"},
      {"r@" + outside + "@" + local, "double @"},
      {"@" + local + ":r@" + outside, "source route"},
      {"r@[192.0.2.25]", "IP literal"},
      {"r@" + outside + ".", "trailing dot"},
  };
}

bool recipient_is_local(const std::string& recipient, const std::set<std::string>& local_domains) {
  // Only a plain address at a local domain is a local recipient; the odd forms that end in
  // a local domain are exactly what the %-hack, bang-path and quoting probes test.
  std::string domain = domain_of(recipient);
  return local_domains.contains(domain) && recipient.find_first_of("%!\":") == std::string::npos &&
         std::count(recipient.begin(), recipient.end(), '@') == 1;
}

std::string where(const ProbeOutcome& o) {
  return o.grant.line > 0 ? fmt::format("{}:{}", o.grant.file, o.grant.line) : std::string("(no accept traced)");
}

}  // namespace

std::vector<Finding> run_relay_checks(const Exim& exim, const RelayInputs& in, const RelayOptions& options) {
  const EximFacts& facts = *in.facts;
  std::vector<Finding> findings;
  std::string rcpt_acl = facts.option("acl_smtp_rcpt");
  std::set<std::string> local(facts.local_domains.begin(), facts.local_domains.end());
  std::string first_local = facts.local_domains.empty() ? facts.option("primary_hostname") : facts.local_domains[0];
  std::string primary = facts.option("primary_hostname");
  ClientAddresses clients;

  // Positive controls (R2): without them a refusal proves nothing.
  std::string mailbox = options.local_mailbox.empty() ? "postmaster@" + first_local : options.local_mailbox;
  Probe auth_control{clients.next(),
                     587,
                     "relay-probe.example",
                     "u@" + options.outside_domain,
                     "r@" + options.outside_domain,
                     true,
                     "authenticated control"};
  Probe local_control{clients.next(), 25,    "relay-probe.example",  "u@" + options.outside_domain,
                      mailbox,        false, "local mailbox control"};
  std::vector<std::string> control_failures;
  for (const Probe* control : {&auth_control, &local_control}) {
    ProbeOutcome o = run_probe(exim, *control, options.server_ip, rcpt_acl);
    if (o.verdict != ProbeClass::accepted)
      control_failures.push_back(fmt::format("{}: {} -> {} {}", control->purpose, describe_probe(*control),
                                             o.rcpt_reply.code, o.error.empty() ? o.rcpt_reply.text : o.error));
  }

  // The matrix: every sender to the plain outside recipient, every recipient form from the
  // outside and a forged local sender; both on port 25 and 587.
  std::vector<std::pair<std::string, std::string>> senders = {{"", "null sender <>"},
                                                              {"u@" + options.outside_domain, "outside sender"},
                                                              {"postmaster@" + primary, "postmaster@primary_hostname"},
                                                              {"x@[" + options.server_ip + "]", "IP-literal sender"}};
  for (size_t i = 0; i < facts.local_domains.size() && i < 5; ++i)
    senders.push_back({"WTSEGRFTDM@" + facts.local_domains[i], "forged local sender"});
  for (const std::string& s : in.whitelist_senders) senders.push_back({s, "sender an early accept whitelists"});
  std::vector<Probe> probes;
  for (int port : {25, 587}) {
    for (auto& [sender, why] : senders)
      probes.push_back(
          {clients.next(), port, "relay-probe.example", sender, "r@" + options.outside_domain, false, why});
    for (auto& [rcpt, why] : recipient_forms(options.outside_domain, first_local, options.server_ip)) {
      if (rcpt == "r@" + options.outside_domain) continue;
      probes.push_back({clients.next(), port, "relay-probe.example", "u@" + options.outside_domain, rcpt, false, why});
      if (!facts.local_domains.empty())
        probes.push_back({clients.next(), port, "relay-probe.example", "WTSEGRFTDM@" + first_local, rcpt, false, why});
    }
  }
  int relays = 0, failed = 0, deferred = 0;
  std::set<std::string> reported;  // one finding per granting line and port
  for (const Probe& probe : probes) {
    ProbeOutcome o = run_probe(exim, probe, options.server_ip, rcpt_acl);
    if (o.verdict == ProbeClass::failed) {
      ++failed;
      continue;
    }
    if (o.verdict == ProbeClass::deferred) ++deferred;
    if (o.verdict != ProbeClass::accepted || recipient_is_local(probe.recipient, local)) continue;
    ++relays;
    std::string id = probe.port == 587 ? "R8" : "R1";
    std::string key = id + where(o) + probe.purpose;
    if (!reported.insert(key).second) continue;
    Finding f{
        id,       Severity::crit,
        where(o), fmt::format("open relay: {} relayed without authentication on port {}", probe.purpose, probe.port),
        {},       ""};
    f.evidence.push_back(describe_probe(probe));
    f.evidence.push_back(fmt::format("RCPT reply: {} {}", o.rcpt_reply.code, o.rcpt_reply.text));
    if (o.grant.line > 0) f.evidence.push_back(fmt::format("granted by the accept at {}", where(o)));
    for (const std::string& log : o.grant.log_lines) f.evidence.push_back(log);
    f.fix = o.grant.line > 0 ? fmt::format(
                                   "restrict the accept at {} to inbound mail (add "
                                   "`domains = +local_domains : +relay_to_domains`), then re-run "
                                   "`spamwarden audit --only R --exim-config CANDIDATE`",
                                   where(o))
                             : "put a relay gate (`require domains = +local_domains : +relay_to_domains`) before "
                               "every accept that does not require authentication";
    findings.push_back(std::move(f));
  }
  size_t ran = probes.size() - size_t(failed);
  if (!control_failures.empty()) {
    Finding f{"R2",
              Severity::inconclusive,
              "relay probes",
              "a positive control failed: the relay verdict is INCONCLUSIVE, not clean",
              control_failures,
              "check that an authenticated client may relay and that the control mailbox exists "
              "(--local-mailbox ADDRESS)"};
    findings.push_back(std::move(f));
  } else {
    findings.push_back(
        {"R2", Severity::ok, "relay probes", "positive controls passed (authenticated relay, local mailbox)", {}, ""});
  }
  if (failed > 0)
    findings.push_back({"R1",
                        Severity::inconclusive,
                        "relay probes",
                        fmt::format("{} of {} probes gave no answer from exim -bh", failed, probes.size()),
                        {},
                        ""});
  if (relays == 0 && control_failures.empty() && failed == 0) {
    findings.push_back({"R1",
                        Severity::ok,
                        "relay probes",
                        fmt::format("no relay: {} unauthenticated probes refused ({} deferred)", ran, deferred),
                        {},
                        ""});
    findings.push_back({"R8", Severity::ok, "port 587", "no relay without authentication on port 587", {}, ""});
  }
  return findings;
}

}  // namespace sw::audit
