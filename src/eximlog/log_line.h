// One Exim main-log line, parsed. Every string_view points into the caller's buffer, so a
// LogLine is valid only as long as the bytes it was parsed from.
#pragma once
#include <cstdint>
#include <string_view>

#include "base/civil_time.h"
#include "base/ip_cidr.h"

namespace sw::eximlog {

enum class LineKind : uint8_t {
  Unparsed,              // no valid prefix: garbage, a truncated line, an unknown format
  Continuation,          // no timestamp but clearly continues the previous entry (indent, "...")
  Arrival,               // "<=" (and "(=", accepted with a fake rejection)
  Delivery,              // "=>" first address, "->" further address, ">>" cutthrough, "*>" suppressed
  Defer,                 // "==" temporary failure
  Bounce,                // "**" permanent failure
  Completed,             // spool files removed
  Frozen,                // "Frozen ...", "frozen by ACL", "frozen by local_scan()"; not `-Mf`'s "frozen by <user>"
  Cwd,                   // "cwd=<dir> N args: ..." (+arguments); carries no message id
  RejectRcpt,            // "[temporarily ]rejected RCPT <x>: ..."
  Reject,                // other ACL rejections: MAIL, connection, EHLO, DATA, after DATA, AUTH, ...
  AuthFailure,           // "<authenticator> authenticator failed for ..."
  Connection,            // "SMTP connection from ...", "no MAIL in ...", lost, refused
  QueueRun,              // "Start queue run" / "End queue run"
  CpanelIdentification,  // cPanel's "SMTP connection identification"/"Sender identification"
  Other,                 // valid prefix, text we keep but do not interpret
};

const char* line_kind_name(LineKind kind);

// Sub-kind of a Delivery line.
enum class DeliveryFlag : uint8_t { None, Normal, Further, Cutthrough, Suppressed };

struct LogLine {
  LineKind kind = LineKind::Unparsed;
  DeliveryFlag delivery = DeliveryFlag::None;
  bool fake_reject = false;  // "(=" arrival
  bool temporary = false;    // "temporarily rejected"
  bool has_timezone = false;
  bool truncated_rcpts = false;   // "for" list ended in <trunc>
  bool local_connection = false;  // cPanel's "SMTP connection identification ... B=identify_local_connection"

  CivilSeconds time = 0;  // wall clock as logged (zone applied when logged with one)
  uint16_t millis = 0;
  uint32_t pid = 0;             // 0 when +pid is not logged
  std::string_view message_id;  // empty when the line carries none
  std::string_view text;        // everything after the prefix and id

  // Addresses. Arrival: envelope sender ("" for a bounce "<>"). Delivery/Defer/Bounce: the
  // delivered address; original: the top-level address when it differs. RejectRcpt: the
  // rejected recipient; sender: F=<...> on rejection lines.
  std::string_view address;
  std::string_view original;
  std::string_view sender;

  // Host information (H=...): client IP is the last [..] of H=, without the port.
  std::string_view host_ip;
  std::string_view host_port;     // H=[ip]:port's port (+incoming_port); P= on cPanel's connection lines
  std::string_view helo;          // "(helo)" part when shown
  std::string_view host_name;     // verified name when shown
  std::string_view interface_ip;  // arrivals: I=[ip]:port, the address it came in on (+incoming_interface)

  std::string_view ident;  // U= (local login for local submissions)
  std::string_view auth;   // A= authenticator[:id]; auth_id is the part after ':'
  std::string_view auth_id;
  std::string_view protocol;    // P= on arrivals
  std::string_view subject;     // T="..." on arrivals, still escaped (see unescape_exim)
  std::string_view transport;   // T= on deliveries
  std::string_view router;      // R= on deliveries (on arrivals: the bounced message's id)
  std::string_view recipients;  // " for a b c" list on arrivals (+received_recipients)
  std::string_view cwd;         // Cwd lines: the directory
  std::string_view args;        // Cwd lines: the arguments after "args: "
  std::string_view reason;      // rejection / failure / defer message text
  uint64_t size = 0;            // S= on arrivals
};

// The users Exim's own processes run as: mail they hand in (bounces, Exim's reports) or take
// over SMTP is nobody's on this host.
inline bool is_exim_login(std::string_view login) {
  return login == "mailnull" || login == "Debian-exim" || login == "exim" || login == "mail";
}

// cPanel's Mailman, whose list deliveries talk SMTP to 127.0.0.1: this host's mail, and
// no user's (a post to 2,000 subscribers is no user's burst, and holding it would stop every list).
inline bool is_list_manager(std::string_view login) { return login == "mailman"; }

// Whether cPanel's identification names a user of this host: not Exim's own, nor one of its
// pseudo-users ("-system-"), nor its Mailman.
inline bool names_a_user(std::string_view login) {
  return !login.empty() && !login.starts_with('-') && !is_exim_login(login) && !is_list_manager(login);
}

// Mail over SMTP from a process of this host: from the loopback, or from this host's own
// address (the client's address is the one it came in on: a script connecting to the
// server's public name instead of 127.0.0.1).
inline bool from_this_host(const LogLine& l) {
  return is_loopback_text(l.host_ip) || (!l.host_ip.empty() && l.interface_ip == l.host_ip);
}

// A message handed to Exim on this host (sendmail, PHP mail()): a "local..." protocol and no
// client host.
inline bool is_local_submission(const LogLine& l) { return l.host_ip.empty() && l.protocol.starts_with("local"); }

// Mail another server sent us: over SMTP, not authenticated (a customer's server relaying its
// own bounces through us) and not from this host (a content filter handing mail back to Exim).
// The bounces Exim makes here have no client at all. The log's rule and the spool's.
inline bool is_from_other_server(std::string_view client_ip, bool authenticated) {
  return !client_ip.empty() && !authenticated && !is_loopback_text(client_ip);
}

// An arrival with sender <> that another server sent us.
inline bool is_bounce_from_elsewhere(const LogLine& l) {
  return l.address.empty() && is_from_other_server(l.host_ip, !l.auth_id.empty() || !l.auth.empty());
}

}  // namespace sw::eximlog
