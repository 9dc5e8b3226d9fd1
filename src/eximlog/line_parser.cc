#include "eximlog/line_parser.h"

#include <cstring>
#include <type_traits>
#include <utility>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/text.h"
#include "eximlog/message_id.h"

namespace sw::eximlog {
namespace {

using sv = std::string_view;
constexpr size_t npos = sv::npos;

// An equality test of a literal's length, which GCC expands inline (compare() calls memcmp).
bool starts_with(sv s, sv p) { return s.size() >= p.size() && std::memcmp(s.data(), p.data(), p.size()) == 0; }

int two_digits(const char* p) {
  if (!is_digit(p[0]) || !is_digit(p[1])) return -1;
  return (p[0] - '0') * 10 + (p[1] - '0');
}

// "YYYY-MM-DD HH:MM:SS" without allocation; hot path, so no std::optional detour.
bool parse_timestamp(sv s, CivilSeconds& out) {
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':') return false;
  const char* p = s.data();
  int y1 = two_digits(p), y2 = two_digits(p + 2), mo = two_digits(p + 5), d = two_digits(p + 8);
  int h = two_digits(p + 11), mi = two_digits(p + 14), sec = two_digits(p + 17);
  if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
      sec > 60)
    return false;
  // Consecutive lines nearly always share the date: remember the last one's day number.
  thread_local int last_date = -1;
  thread_local int64_t last_days = 0;
  int date = ((y1 * 100 + y2) * 100 + mo) * 100 + d;
  if (date != last_date) {
    last_days = days_from_civil(y1 * 100 + y2, unsigned(mo), unsigned(d));
    last_date = date;
  }
  out = last_days * 86400 + h * 3600 + mi * 60 + sec;
  return true;
}

// "[digits] " at s[pos]: the pid, and pos moved past it; false leaves both alone.
bool parse_pid(sv s, size_t& pos, uint32_t& pid) {
  uint64_t v = 0;
  size_t i = pos + 1, digits = 0;
  for (; i < s.size() && is_digit(s[i]) && digits < 10; ++i, ++digits) v = v * 10 + uint64_t(s[i] - '0');
  if (digits == 0 || v > 0xffffffffu || i + 1 >= s.size() || s[i] != ']' || s[i + 1] != ' ') return false;
  pid = uint32_t(v);
  pos = i + 2;
  return true;
}

// Skips a value at s[i]: a "quoted string" with backslash escapes, or up to the next space.
// Where the quoted string opened at s[i] ends (past its closing quote), or npos. A quote
// closes it unless an odd run of backslashes escapes it.
size_t closing_quote_end(sv s, size_t i) {
  for (size_t from = i + 1; from < s.size();) {
    const void* q = std::memchr(s.data() + from, '"', s.size() - from);
    if (!q) break;
    size_t at = size_t(static_cast<const char*>(q) - s.data()), run = 0;
    while (at - run > i + 1 && s[at - run - 1] == '\\') ++run;
    if (run % 2 == 0) return at + 1;
    from = at + 1;
  }
  return npos;
}

size_t value_end(sv s, size_t i) {
  if (i < s.size() && s[i] == '"') {
    size_t end = closing_quote_end(s, i);
    return end == npos ? s.size() : end;
  }
  size_t e = find_char(s, ' ', i);
  return e == npos ? s.size() : e;
}

// The end of an address as Exim logs it ("<...>" or bare): a quoted local part may hold
// spaces and text like " A=dovecot_login:ceo@shop.example" that a client chose
// (MAIL FROM:<"x A=... y"@evil.test>), which must not read as tags. An unclosed quote is
// taken as a character.
size_t address_end(sv s, size_t i) {
  for (size_t at = i; at < s.size();) {
    size_t space = find_char(s, ' ', at);
    if (space == npos) space = s.size();
    const void* q = std::memchr(s.data() + at, '"', space - at);
    if (!q) return space;
    size_t close = closing_quote_end(s, size_t(static_cast<const char*>(q) - s.data()));
    if (close == npos) return space;
    at = close;
  }
  return s.size();
}

sv unquote(sv v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  if (!v.empty() && v.front() == '"') return v.substr(1);  // cut off by truncation
  return v;
}

sv strip_angles(sv v) {
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') return v.substr(1, v.size() - 2);
  return v;
}

bool is_ip_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':';
}

// "[ip]" possibly followed by ":port", "*" or a trailing ':' (before a message). Returns the ip.
bool bracketed_ip(sv token, sv& ip, sv* port = nullptr) {
  if (token.size() < 3 || token[0] != '[') return false;
  size_t close = token.find(']');
  if (close == npos || close < 2) return false;
  for (size_t i = 1; i < close; ++i)
    if (!is_ip_char(token[i])) return false;
  for (size_t i = close + 1; i < token.size(); ++i)
    if (!is_digit(token[i]) && token[i] != ':' && token[i] != '*') return false;
  ip = token.substr(1, close - 1);
  if (port && close + 2 < token.size() && token[close + 1] == ':') *port = token.substr(close + 2);
  return true;
}

// Walks "NAME=value" tags and bare flags from s[pos] until `stop` or a terminator the
// callback reports by returning false. H= gets its multi-token host parse.
template <class Fn>
size_t scan_tags(sv s, size_t pos, LogLine& out, Fn&& on_tag) {
  while (pos < s.size()) {
    while (pos < s.size() && s[pos] == ' ') ++pos;
    if (pos >= s.size()) break;
    size_t tok_end = s[pos] == '<' ? address_end(s, pos) : value_end(s, pos);
    sv tok = s.substr(pos, tok_end - pos);
    size_t eq = find_char(tok, '=');
    if (eq == npos || eq == 0 || tok[0] == '"' || tok[0] == '<') {
      if (!on_tag(sv{}, tok, pos)) return pos;
      pos = tok_end;
      continue;
    }
    sv name = tok.substr(0, eq);
    size_t vstart = pos + eq + 1;
    if (name == "H") {
      pos = vstart + parse_host_field(s.substr(vstart), out);
      continue;
    }
    size_t vend = name == "F" ? address_end(s, vstart) : value_end(s, vstart);
    if (!on_tag(name, s.substr(vstart, vend - vstart), pos)) return pos;
    pos = vend;
  }
  return pos;
}

// The account of an A= value, "dovecot_login:ID" or "ID" after the authenticator's name,
// without +smtp_mailauth's ":auth_sender".
sv auth_id_of(sv auth) {
  size_t colon = auth.find(':');
  if (colon == npos) return {};
  sv rest = auth.substr(colon + 1);
  return rest.substr(0, rest.find(':'));
}

void parse_arrival(sv t, LogLine& out) {
  // t = "<= sender tags... [from <raw>] [for rcpts]"
  size_t pos = 3;
  size_t send = address_end(t, pos);  // "quoted lp"@domain, a."b c"@domain
  sv sender = t.substr(pos, send - pos);
  out.address = sender == "<>" ? sv{} : sender;
  scan_tags(t, send, out, [&](sv name, sv value, size_t at) {
    if (name.empty()) {
      if (value == "for") {
        out.recipients = t.substr(std::min(at + 4, t.size()));
        if (out.recipients.size() >= 7 && out.recipients.substr(out.recipients.size() - 7) == "<trunc>")
          out.truncated_rcpts = true;
        return false;
      }
      return true;  // bare flags: DS, K, PRDR, TFO, L, "from", "<raw sender>"
    }
    switch (name.size()) {
      case 1:
        switch (name[0]) {
          case 'U': out.ident = value; break;
          case 'P': out.protocol = value; break;
          case 'A': out.auth = value; break;
          case 'S': out.size = parse_uint(value).value_or(0); break;
          case 'T': out.subject = unquote(value); break;
          case 'R': out.router = value; break;  // id of the message this bounce is about
          case 'I':                             // "[ip]:port"
            if (value.size() > 2 && value[0] == '[') out.interface_ip = value.substr(1, value.find(']') - 1);
            break;
        }
        break;
      default: break;
    }
    return true;
  });
  out.auth_id = auth_id_of(out.auth);
}

// Where the address part of a delivery/defer/bounce line ends: at the first tag (" R=",
// " T=", " F=<", " P=<") or, except on deliveries, at ": " before the message. Delivery lines
// have no ": message" tail, and ":blackhole:" is an address there. One pass over the bytes.
size_t delivery_address_end(sv t, size_t pos, bool has_message) {
  const size_t n = t.size();
  for (size_t i = pos; i + 1 < n; ++i) {
    char c = t[i];
    if (c == ':') {
      if (has_message && t[i + 1] == ' ') return i;
    } else if (c == ' ' && i + 2 < n && t[i + 2] == '=') {
      char tag = t[i + 1];
      if (tag == 'R' || tag == 'T') return i;
      if ((tag == 'F' || tag == 'P') && i + 3 < n && t[i + 3] == '<') return i;
    }
  }
  return n;
}

// Splits "addr [<orig>] [(parents)]" at the start of a delivery/defer/bounce line.
size_t parse_delivery_address(sv t, size_t pos, LogLine& out) {
  size_t end = delivery_address_end(t, pos, out.kind != LineKind::Delivery);
  sv part = t.substr(pos, end - pos);
  while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
  if (!part.empty() && part.back() == ')') {
    size_t open = part.rfind(" (");
    if (open != npos) part = part.substr(0, open);
  }
  if (!part.empty() && part.back() == '>') {
    size_t open = part.rfind(" <");
    if (open != npos) {
      out.original = part.substr(open + 2, part.size() - open - 3);
      part = part.substr(0, open);
    }
  }
  out.address = part;
  return end;
}

void parse_delivery_like(sv t, LogLine& out, LineFields fields) {
  size_t end = parse_delivery_address(t, 3, out);
  if (fields == LineFields::Essential) return;
  sv tags = t.substr(end);
  size_t reason_at = npos;
  if (out.kind != LineKind::Delivery) {
    reason_at = tags.find(": ");
    if (reason_at != npos) {
      out.reason = trim(tags.substr(reason_at + 2));
      tags = tags.substr(0, reason_at);
    }
  }
  scan_tags(tags, 0, out, [&](sv name, sv value, size_t) {
    if (name.size() != 1) return true;
    switch (name[0]) {
      case 'R': out.router = value; break;
      case 'T': out.transport = value; break;
      case 'F': out.sender = strip_angles(value); break;
      case 'C':
        if (out.kind == LineKind::Delivery) out.reason = unquote(value);
        break;
    }
    return true;
  });
}

// Host-information prefix of session lines: "H=... [I=..] [U=..] [F=<..>] [A=..]". An
// authenticated session's rejections name its account as its arrivals do.
void parse_host_info(sv s, LogLine& out) {
  scan_tags(s, 0, out, [&](sv name, sv value, size_t) {
    if (name == "F") out.sender = strip_angles(value);
    else if (name == "U") out.ident = value;
    else if (name == "A") out.auth = value;
    return true;
  });
  out.auth_id = auth_id_of(out.auth);
}

void parse_rejection(sv t, size_t at, LogLine& out, LineFields fields) {
  // at points at "rejected " or "temporarily rejected ".
  out.temporary = t.compare(at, 12, "temporarily ") == 0;
  sv what = t.substr(at + (out.temporary ? 21 : 9));
  bool rcpt = starts_with(what, "RCPT ");
  if (rcpt || fields == LineFields::All) parse_host_info(t.substr(0, at), out);
  size_t colon = what.find(": ");
  if (colon != npos) out.reason = what.substr(colon + 2);
  if (rcpt) {
    out.kind = LineKind::RejectRcpt;
    sv arg = what.substr(5, colon == npos ? npos : colon - 5);
    size_t lt = arg.find('<'), gt = arg.find('>');
    out.address = (lt != npos && gt != npos && gt > lt) ? arg.substr(lt + 1, gt - lt - 1) : arg;
  } else {
    out.kind = LineKind::Reject;
  }
}

void parse_auth_failure(sv t, size_t at, LogLine& out) {
  out.kind = LineKind::AuthFailure;
  out.auth = t.substr(0, at);
  sv rest = t.substr(at + 26);  // after " authenticator failed for "
  if (starts_with(rest, "H=")) {
    parse_host_field(rest.substr(2), out);
  } else {
    parse_host_field(rest, out);
  }
  size_t msg = rest.find(": ");
  if (msg != npos) out.reason = rest.substr(msg + 2);
  size_t set_id = rest.rfind("(set_id=");
  if (set_id != npos) {
    // "(set_id=ID)" ends the line, or is followed by ": MESSAGE" (435 defers), which may hold
    // parentheses of its own: the first ')' that ends the line or comes before ": " closes ID.
    sv id = rest.substr(set_id + 8);
    size_t close = id.find(')');
    while (close != npos && close + 1 != id.size() && id.substr(close + 1, 2) != ": ") close = id.find(')', close + 1);
    out.auth_id = close == npos ? id : id.substr(0, close);
  }
}

void parse_cwd(sv t, LogLine& out) {
  // "cwd=<dir> <N> args: <argv...>"; the directory may contain spaces.
  out.kind = LineKind::Cwd;
  size_t args = t.find(" args: ");
  if (args == npos) args = t.find(" args:");
  size_t dir_end = args;
  if (args != npos) {
    size_t d = args;
    while (d > 4 && is_digit(t[d - 1])) --d;
    if (d < args && d > 4 && t[d - 1] == ' ') dir_end = d - 1;
    out.args = t.substr(std::min(args + 7, t.size()));
  }
  out.cwd = t.substr(4, dir_end == npos ? npos : dir_end - 4);
}

void parse_cpanel_identification(sv t, LogLine& out) {
  out.kind = LineKind::CpanelIdentification;
  // The first of each tag, even empty: cPanel writes U= first, before the sender's own text.
  bool user = false, sender = false, address = false, port = false, by = false;
  scan_tags(t, 0, out, [&](sv name, sv value, size_t) {
    if (name == "U" && !std::exchange(user, true)) out.ident = value;
    else if (name == "S" && !std::exchange(sender, true)) out.sender = value;
    else if (name == "A" && !std::exchange(address, true)) out.host_ip = value;  // cPanel's A= is the client IP
    else if (name == "P" && !std::exchange(port, true)) out.host_port = value;   // and P= its port
    else if (name == "B" && !std::exchange(by, true)) out.local_connection = value == "identify_local_connection";
    return true;
  });
}

void classify_text(sv t, LogLine& out, LineFields fields) {
  const bool all = fields == LineFields::All;
  if (t.size() >= 3 && t[2] == ' ') {
    char a = t[0], b = t[1];
    if (a == '<' && b == '=') {
      out.kind = LineKind::Arrival;
      return parse_arrival(t, out);
    }
    if (a == '(' && b == '=') {
      out.kind = LineKind::Arrival;
      out.fake_reject = true;
      return parse_arrival(t, out);
    }
    DeliveryFlag flag = DeliveryFlag::None;
    if (b == '>') {
      if (a == '=') flag = DeliveryFlag::Normal;
      else if (a == '-') flag = DeliveryFlag::Further;
      else if (a == '>') flag = DeliveryFlag::Cutthrough;
      else if (a == '*') flag = DeliveryFlag::Suppressed;
    }
    if (flag != DeliveryFlag::None) {
      out.kind = LineKind::Delivery;
      out.delivery = flag;
      return parse_delivery_like(t, out, fields);
    }
    if (a == '=' && b == '=') {
      out.kind = LineKind::Defer;
      return parse_delivery_like(t, out, fields);
    }
    if (a == '*' && b == '*') {
      out.kind = LineKind::Bounce;
      return parse_delivery_like(t, out, fields);
    }
  }
  switch (t.empty() ? '\0' : t[0]) {
    case 'C':
      if (starts_with(t, "Completed")) {
        out.kind = LineKind::Completed;
        return;
      }
      break;
    case 'F':
      if (starts_with(t, "Frozen")) {
        out.kind = LineKind::Frozen;
        return;
      }
      break;
    case 'f':
      // Exim's own freezes at reception; "frozen by root" is an admin's (or our hold's) `-Mf`,
      // which says nothing of whether the mail could be delivered, and is thawed again by
      // the same hand: the engine keeps it as an ordinary line.
      if (starts_with(t, "frozen by ACL") || starts_with(t, "frozen by local_scan()")) {
        out.kind = LineKind::Frozen;
        return;
      }
      break;
    case 'c':
      if (starts_with(t, "cwd=")) return parse_cwd(t, out);
      break;
    case 'S':
      // The engine needs a message's cPanel user (the login behind an SMTP connection from
      // this host, which the arrival line does not name): named by the message, or by the
      // connection's client port before it.
      if (starts_with(t, "Sender identification ") || starts_with(t, "SMTP connection identification "))
        return parse_cpanel_identification(t, out);
      if (starts_with(t, "SMTP connection from ")) {
        out.kind = LineKind::Connection;
        if (all) parse_host_field(t.substr(21), out);
        return;
      }
      if (starts_with(t, "Start queue run") || starts_with(t, "Start [")) {
        out.kind = LineKind::QueueRun;
        return;
      }
      break;
    case 'E':
      if (starts_with(t, "End queue run") || starts_with(t, "End [")) {
        out.kind = LineKind::QueueRun;
        return;
      }
      break;
    case 'n':
      if (starts_with(t, "no MAIL in ")) {
        out.kind = LineKind::Connection;
        size_t from = all ? t.find(" from ") : npos;
        if (from != npos) parse_host_field(t.substr(from + 6), out);
        return;
      }
      break;
    default: break;
  }
  // "<authenticator> authenticator failed for ...": driver names are one token.
  if (size_t sp = find_char(t, ' '); sp != npos && t.compare(sp, 26, " authenticator failed for ") == 0)
    return parse_auth_failure(t, sp, out);
  if (starts_with(t, "rejected ") || starts_with(t, "temporarily rejected ")) return parse_rejection(t, 0, out, fields);
  if (starts_with(t, "H=")) {  // "H=... [temporarily ]rejected ..."
    size_t rej = t.find(" rejected ");
    if (rej != npos) {
      size_t start = rej + 1;
      if (rej >= 12 && t.compare(rej - 12, 13, " temporarily ") == 0) start = rej - 11;
      return parse_rejection(t, start, out, fields);
    }
  }
  if (starts_with(t, "refused connection from ") || starts_with(t, "Connection from ")) {
    out.kind = LineKind::Reject;
    return;
  }
  out.kind = LineKind::Other;
}

// A LogLine is reset for every line: GCC turns `out = LogLine{}` into `rep stos`, whose
// start-up cost was a quarter of parsing a short line. Plain vector stores instead.
void clear_line(LogLine& out) {
  static_assert(std::is_trivially_copyable_v<LogLine> && sizeof(LogLine) % 16 == 0);
#if defined(__SSE2__)
  auto* p = reinterpret_cast<__m128i*>(&out);
  for (size_t i = 0; i < sizeof(LogLine) / 16; ++i) {
    _mm_storeu_si128(p + i, _mm_setzero_si128());
    asm("" : "+r"(p));  // hides the loop from GCC's memset idiom recognition
  }
#else
  out = LogLine{};
#endif
}

}  // namespace

size_t parse_host_field(std::string_view s, LogLine& out) {
  // Up to three tokens: [name] [(helo)] [ip]; the bracketed IP ends the field.
  size_t pos = 0;
  for (int token = 0; token < 3 && pos < s.size(); ++token) {
    size_t end = find_char(s, ' ', pos);
    if (end == npos) end = s.size();
    sv tok = s.substr(pos, end - pos);
    if (!tok.empty() && tok[0] == '(') {
      // HELO: normally one token; tolerate spaces up to the closing parenthesis.
      size_t close = s.find(") ", pos);
      if (tok.back() != ')' && close != npos) {
        end = close + 1;
        tok = s.substr(pos, end - pos);
      }
      out.helo = tok.substr(1, tok.size() >= 2 && tok.back() == ')' ? tok.size() - 2 : tok.size() - 1);
    } else if (sv ip; bracketed_ip(tok, ip, &out.host_port)) {
      out.host_ip = ip;
      return end;
    } else if (token == 0) {
      out.host_name = tok;
    } else {
      break;  // not part of the host field
    }
    pos = end + 1;
  }
  return pos > s.size() ? s.size() : pos;
}

namespace {

// The timestamp, its milliseconds (+millisec) and zone (log_timezone); returns where the
// prefix ends, or 0 when the line has no timestamp.
size_t parse_time_prefix(std::string_view line, CivilSeconds& time, uint16_t& millis, bool& zoned) {
  if (!parse_timestamp(line, time)) return 0;
  size_t pos = 19;
  if (pos + 4 <= line.size() && line[pos] == '.' && is_digit(line[pos + 1]) && is_digit(line[pos + 2]) &&
      is_digit(line[pos + 3])) {
    millis = uint16_t((line[pos + 1] - '0') * 100 + (line[pos + 2] - '0') * 10 + (line[pos + 3] - '0'));
    pos += 4;
  }
  if (pos + 6 <= line.size() && line[pos] == ' ' && (line[pos + 1] == '+' || line[pos + 1] == '-')) {
    int hh = two_digits(line.data() + pos + 2), mm = two_digits(line.data() + pos + 4);
    if (hh >= 0 && mm >= 0 && (pos + 6 == line.size() || line[pos + 6] == ' ')) {
      // Normalise to UTC so logs written with different zones order correctly.
      int offset = (hh * 60 + mm) * 60;
      time += line[pos + 1] == '+' ? -offset : offset;
      zoned = true;
      pos += 6;
    }
  }
  return pos;
}

}  // namespace

std::optional<CivilSeconds> line_time(std::string_view line) {
  CivilSeconds time = 0;
  uint16_t millis = 0;
  bool zoned = false;
  if (!parse_time_prefix(line, time, millis, zoned)) return std::nullopt;
  return time;
}

LineKind parse_line(std::string_view line, LogLine& out, LineFields fields) {
  clear_line(out);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t pos = parse_time_prefix(line, out.time, out.millis, out.has_timezone);
  if (pos == 0) {
    bool continuation = !line.empty() && (line[0] == ' ' || line[0] == '\t' || starts_with(line, "..."));
    out.kind = continuation ? LineKind::Continuation : LineKind::Unparsed;
    out.text = line;
    return out.kind;
  }
  if (pos >= line.size() || line[pos] != ' ') {
    out.kind = LineKind::Unparsed;
    out.text = line;
    return out.kind;
  }
  ++pos;
  if (pos < line.size() && line[pos] == '[') parse_pid(line, pos, out.pid);
  sv rest = line.substr(pos);
  if (size_t id_len = message_id_prefix(rest)) {
    out.message_id = rest.substr(0, id_len);
    rest = rest.substr(std::min(id_len + 1, rest.size()));
  }
  out.text = rest;
  classify_text(rest, out, fields);
  return out.kind;
}

const char* line_kind_name(LineKind kind) {
  switch (kind) {
    case LineKind::Unparsed: return "unparsed";
    case LineKind::Continuation: return "continuation";
    case LineKind::Arrival: return "arrival";
    case LineKind::Delivery: return "delivery";
    case LineKind::Defer: return "defer";
    case LineKind::Bounce: return "bounce";
    case LineKind::Completed: return "completed";
    case LineKind::Frozen: return "frozen";
    case LineKind::Cwd: return "cwd";
    case LineKind::RejectRcpt: return "reject_rcpt";
    case LineKind::Reject: return "reject";
    case LineKind::AuthFailure: return "auth_failure";
    case LineKind::Connection: return "connection";
    case LineKind::QueueRun: return "queue_run";
    case LineKind::CpanelIdentification: return "cpanel_identification";
    case LineKind::Other: return "other";
  }
  return "?";
}

}  // namespace sw::eximlog
