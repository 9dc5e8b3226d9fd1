// Exim -H spool file: the envelope and headers of one queued message (exim-formats.md 3.2).
// parse_spool_header() is pure: bytes in, struct out, no file, clock or environment access.
// Input is untrusted (a corrupt or hostile spool must never crash us): every count and length
// is bounds-checked, and a malformed file yields an error kind plus the line where it broke.
// Known limit: -J journals are not merged here; the scanner does that if it wants to.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sw::spool {

inline constexpr size_t kMaxRecipients = 16384;     // Exim refuses larger files too
inline constexpr size_t kMaxNonRecipients = 65536;  // generous; bounds hostile trees

struct HostAddress {
  std::string ip;  // without brackets; empty when absent (local submission)
  int port = -1;
};

// One -aclc/-aclm variable; `name` is what follows acl_c/acl_m ("_note", "0").
struct AclVariable {
  char scope = 'm';  // 'c' connection, 'm' message
  std::string name;
  std::string value;  // exactly the stored bytes; may contain newlines
};

// An option line Exim wrote that we do not model explicitly ("-tls_cipher", "-spam_score", ...).
struct OptionLine {
  std::string name;  // without dashes
  std::string value;
  bool tainted = false;
};

struct Recipient {
  std::string address;
  std::string errors_to;  // #1/#3 forms
  std::string orcpt;      // #3 form (DSN ORCPT)
  int dsn_flags = 0;
  int parent = -1;  // index of the parent recipient, -1 when top level
};

struct Header {
  char flag = ' ';   // ' ', 'B','C','F','I','P','R','S','T' or '*' (deleted, not transmitted)
  std::string text;  // exactly as stored: name, folded lines, final newline
  bool deleted() const { return flag == '*'; }
  std::string_view name() const;  // text before ':' ("" if none)
  std::string value() const;      // after ':', unfolded and trimmed
};

struct SpoolHeader {
  std::string id;
  std::string login;  // caller: exim user for SMTP, the Unix user for local sendmail
  int64_t uid = 0;
  int64_t gid = 0;
  std::string sender;  // without <>, empty for a bounce
  int64_t received_time = 0;
  int warning_count = 0;

  std::string helo_name, host_name, host_auth, host_auth_pubname, auth_id, auth_sender;
  std::string ident, received_protocol, active_hostname;
  HostAddress host_address, interface_address;
  bool frozen = false;
  int64_t frozen_since = 0;
  bool local_error = false;  // Exim-generated bounce
  bool local = false;
  bool deliver_firsttime = false;
  bool manual_thaw = false;
  bool wireformat = false;                   // -D lines end in CRLF
  std::vector<std::string> tainted_options;  // names written with the "--" prefix
  std::vector<AclVariable> acl_variables;
  std::vector<OptionLine> other_options;

  std::vector<std::string> non_recipients;  // delivered or removed addresses
  std::vector<Recipient> recipients;
  std::vector<Header> headers;
  size_t header_bytes = 0;  // sum of live (not deleted) header lengths

  bool is_bounce() const { return sender.empty(); }
  bool delivered_to(std::string_view address) const;
  size_t pending_recipient_count() const;
  // First live header with this name (case-insensitive), or nullptr.
  const Header* find_header(std::string_view name) const;
  void clear();
};

enum class HeaderParseError {
  none,
  id_line,          // first line is not "<valid id>-H"
  owner_line,       // "<login> <uid> <gid>" malformed
  sender_line,      // not "<...>"
  time_line,        // "<epoch> <warnings>" malformed
  option_line,      // an option whose value we need is malformed (acl lengths, numbers)
  non_recipients,   // broken tree
  recipient_count,  // missing, not a number, or above kMaxRecipients
  recipient_line,   // a #1/#3 line whose lengths do not fit
  separator,        // no empty line before the headers
  header,           // bad "NNNf " prefix or length past the end
  binary,           // NUL byte in the envelope part
  truncated,        // the file ends before the envelope does
};

struct HeaderParseStatus {
  HeaderParseError error = HeaderParseError::none;
  size_t line = 0;    // 1-based line where the problem was found
  size_t offset = 0;  // byte offset of that line
  bool ok() const { return error == HeaderParseError::none; }
};

std::string_view describe(HeaderParseError error);

// Parses a whole -H file. `out` is cleared first and is only fully valid when ok().
HeaderParseStatus parse_spool_header(std::string_view bytes, SpoolHeader& out);

// "[ip]:port" (4.96+) or "ip.port" (<= 4.95, also for IPv6). Exposed for tests.
HostAddress parse_host_address(std::string_view text);

// One recipient line, parsed from the right as Exim does; false when lengths do not fit.
bool parse_recipient_line(std::string_view line, Recipient& out);

}  // namespace sw::spool
