// Relay proof by simulation: one `exim -bh CLIENT` session per probe (EHLO, MAIL, RCPT,
// QUIT written at once; nothing is delivered), the replies and the ACL trace read back. The
// parsing is pure; running the matrix needs an Exim.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "audit/exim_config.h"
#include "audit/exim_process.h"
#include "audit/finding.h"

namespace sw::audit {

struct SmtpReply {
  int code = 0;
  std::string text;  // the lines of a multi-line reply joined by " / "
};

// Numbered reply lines ("250-..." / "250 ...") of -bh stdout, multi-line replies grouped.
std::vector<SmtpReply> parse_smtp_replies(std::string_view out);

// From the -bh trace (stderr): the statement that accepted in ACL `acl` last
// (`>>> processing "accept" (FILE LINE)` before `>>> accept: condition test succeeded in ACL "acl"`).
struct Grant {
  std::string file;
  int line = 0;
  std::vector<std::string> log_lines;  // "LOG: ..." lines of the session
};
Grant parse_acl_trace(std::string_view err, std::string_view acl);

struct Probe {
  std::string client_ip;
  int port = 25;
  std::string helo = "relay-probe.example";
  std::string sender;     // without the angle brackets; "" is <>
  std::string recipient;  // as written in RCPT TO:<...>
  bool authenticated = false;
  std::string purpose;  // "forged local sender", "whitelisted sender", "%-hack" ...
};

enum class ProbeClass { accepted, refused, deferred, blocked_early, failed };

struct ProbeOutcome {
  ProbeClass verdict = ProbeClass::failed;
  SmtpReply rcpt_reply;  // the 4th reply
  Grant grant;
  std::string error;  // failed: why (timeout, exim did not run)
};

// Reply 1 banner, 2 EHLO, 3 MAIL, 4 RCPT.
ProbeOutcome classify_probe(const std::vector<SmtpReply>& replies);
std::string probe_dialogue(const Probe& probe);  // the SMTP text written to exim
std::string describe_probe(const Probe& probe);  // one line for evidence

ProbeOutcome run_probe(const Exim& exim, const Probe& probe, const std::string& server_ip, const std::string& rcpt_acl);

struct RelayOptions {
  std::string outside_domain = "gmail.com";  // routable: verify = recipient may route it
  std::string server_ip = "192.0.2.1";       // for -oMi and IP-literal probes
  std::string local_mailbox;                 // control recipient; default postmaster@<first local domain>
  std::string auth_id = "relay-probe";       // -oMai of the authenticated control
  int max_senders_per_list = 20;
  int timeout_ms = 20000;
};

struct RelayInputs {
  const EximFacts* facts = nullptr;
  std::vector<std::string> whitelist_senders;  // addresses drawn from lists an early accept matches
  std::string config_file;                     // the file traced lines point into (for the report)
};

// R1 (relay), R2 (controls), R8 (port 587): the probe matrix against the Exim.
std::vector<Finding> run_relay_checks(const Exim& exim, const RelayInputs& in, const RelayOptions& options);

// Probe senders from a list value (sender_domains or senders): "x@domain" per entry,
// wildcards made concrete ("*.foo" -> "probe.foo"), regexes and lookups of other kinds skipped.
std::vector<std::string> probe_senders_from_list(const std::string& value, bool domains_only,
                                                 std::vector<std::string>* unreadable, size_t limit);

}  // namespace sw::audit
