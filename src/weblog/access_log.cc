#include "weblog/access_log.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <vector>

#include "base/ip_cidr.h"
#include "base/text.h"
#include "weblog/block_commands.h"

namespace sw::weblog {
namespace {

using sv = std::string_view;

// The next space-delimited word of `s` from `pos`; pos moves past it and one space.
sv word(sv s, size_t& pos) {
  size_t end = s.find(' ', pos);
  if (end == sv::npos) end = s.size();
  sv w = s.substr(pos, end - pos);
  pos = end < s.size() ? end + 1 : end;
  return w;
}

// A "quoted" field at pos, whose quotes the server escapes as \" (and backslashes as \\).
// Returns false when it does not start with a quote or never ends.
bool quoted(sv s, size_t& pos, sv& out) {
  if (pos >= s.size() || s[pos] != '"') return false;
  size_t i = pos + 1;
  while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
  if (i >= s.size()) return false;
  out = s.substr(pos + 1, i - pos - 1);
  pos = i + 1;
  if (pos < s.size() && s[pos] == ' ') ++pos;
  return true;
}

std::string civil_text(int year, int month, int day, int hour, int minute, int second) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", year, month, day, hour, minute, second);
  return buf;
}

constexpr std::array<sv, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::optional<int> digits(sv s) {
  auto n = parse_uint(s);
  if (!n || *n > 1000000) return std::nullopt;
  return int(*n);
}

// "10/Oct/2026:13:55:36 -0700" (inside the brackets).
bool parse_time(sv t, AccessEntry& out) {
  if (t.size() != 26 || t[2] != '/' || t[6] != '/' || t[11] != ':' || t[14] != ':' || t[17] != ':' || t[20] != ' ')
    return false;
  int month = 0;
  while (month < 12 && kMonths[size_t(month)] != t.substr(3, 3)) ++month;
  if (month == 12) return false;
  auto day = digits(t.substr(0, 2)), year = digits(t.substr(7, 4)), hour = digits(t.substr(12, 2)),
       minute = digits(t.substr(15, 2)), second = digits(t.substr(18, 2)), zone = digits(t.substr(22, 4));
  if (!day || !year || !hour || !minute || !second || !zone || (t[21] != '+' && t[21] != '-')) return false;
  auto civil = parse_civil(civil_text(*year, month + 1, *day, *hour, *minute, *second));
  if (!civil) return false;
  out.time = *civil;
  out.utc_offset_minutes = (*zone / 100 * 60 + *zone % 100) * (t[21] == '-' ? -1 : 1);
  return true;
}

// The " [" that opens the time, from `from` on: the first followed by a well-formed
// "dd/Mon/yyyy:hh:mm:ss +zzzz] \"" (read into `out`). The server escapes a quote in every
// field before the request, so no user name can hold `] "`.
size_t time_opening(sv line, size_t from, AccessEntry& out) {
  for (size_t open = line.find(" [", from); open != sv::npos && open + 31 <= line.size();
       open = line.find(" [", open + 1))
    if (line.substr(open + 28, 3) == "] \"" && parse_time(line.substr(open + 2, 26), out)) return open;
  return sv::npos;
}

// The client of an X-Forwarded-For list ("203.0.113.60, 10.0.0.1": the client as it claims,
// then each proxy that passed it on): from the right, past our proxies (private, loopback, a
// CDN's edge), the first hop, whatever it is ("unknown" is no address, and blocks nobody). A
// client can write any addresses first; the one our proxy saw it come from it cannot, so no
// hop left of it is ever taken.
// Past kMaxProxies hops of ours the list is a forgery: its last one, a proxy's, blocks nobody.
constexpr int kMaxProxies = 16;
sv forwarded_client(sv list) {
  for (size_t end = list.size(), hops = 1;; ++hops) {
    size_t comma = end == 0 ? sv::npos : list.rfind(',', end - 1);
    size_t from = comma == sv::npos ? 0 : comma + 1;
    sv address = address_without_port(trim(list.substr(from, end - from)));
    bool proxy = address.size() <= 64 && parse_ip(address) && !blockable_address(address, {}, nullptr);
    if (!proxy || comma == sv::npos || hops == kMaxProxies) return address;
    end = comma;
  }
}

// One reading of "%h %l %u [%t]": the client and user it gives, and where the time's "]" is.
struct Head {
  sv client, user;
  size_t time_end = sv::npos;
};

// The reading with %h one word, which never ends with ',' (the TCP peer or its name). nginx logs
// a Basic-auth user name as the client sent it, spaces and brackets included (no auth_basic
// needed): "a [" as well as "a b". Then the user runs to the " [" that opens the time (`open`).
// Not when the ident field is set, which is a vhost_combined line read one field early.
std::optional<Head> plain_head(sv line, size_t pos, size_t open, AccessEntry& out) {
  sv client = word(line, pos);
  if (client.empty() || client.ends_with(',')) return std::nullopt;
  sv ident = word(line, pos);
  size_t user_start = pos;
  sv user = word(line, pos);
  if (ident == "-") {
    if (open == sv::npos || open < user_start) return std::nullopt;  // no user field: not this shape
    return Head{address_without_port(client), line.substr(user_start, open - user_start), open + 28};
  }
  if (pos >= line.size() || line[pos] != '[') return std::nullopt;
  size_t close = line.find(']', pos);
  if (close == sv::npos || !parse_time(line.substr(pos + 1, close - pos - 1), out)) return std::nullopt;
  return Head{address_without_port(client), user, close};
}

// The readings with an X-Forwarded-For list in %h's place: it runs to a comma followed by an
// address (our proxy's hop), then the ident and user fields, to the time. The client's part
// may hold anything, spaces too ("a b, 203.0.113.66"), and so may the user name: each comma is
// tried, from the right. Returns how many readings (at most two) name different clients; two
// as well past kMaxLists readings (a forgery that repeats one address to hide the real hop),
// so none is taken. Linear in the line: no address is longer than kMaxHop.
constexpr size_t kMaxLists = 16, kMaxHop = 64;
size_t forwarded_heads(sv line, size_t start, size_t open, Head (&heads)[2]) {
  if (open == sv::npos) return 0;
  sv before = line.substr(start, open - start);  // "LIST %l %u"
  size_t found = 0, lists = 0;
  for (size_t comma = before.rfind(','); comma != sv::npos && found < 2;
       comma = comma == 0 ? sv::npos : before.rfind(',', comma - 1)) {
    size_t hop = before.find_first_not_of(' ', comma + 1);
    size_t hop_length = hop == sv::npos ? sv::npos : before.substr(hop, kMaxHop + 1).find(' ');
    if (hop_length == sv::npos) continue;
    size_t hop_end = hop + hop_length;
    sv last_hop = before.substr(hop, hop_length);
    if (last_hop.empty() || last_hop.ends_with(',') || !parse_ip(address_without_port(last_hop))) continue;
    size_t user = before.find(' ', hop_end + 1);
    if (user == sv::npos || user == hop_end + 1 || user + 1 >= before.size()) continue;
    sv ident = before.substr(hop_end + 1, user - hop_end - 1), name = before.substr(user + 1);
    if (ident != "-" && name.find(' ') != sv::npos) continue;
    Head head{forwarded_client(before.substr(0, hop_end)), name, open + 28};
    if (head.client.empty()) continue;
    if (found == 0 || heads[0].client != head.client) heads[found++] = head;
    if (++lists == kMaxLists && found == 1) heads[found++] = heads[0];
  }
  return found;
}

// %h %l %u [%t], with the client as the readings that fit give it (see ClientReading).
bool parse_head(sv line, size_t& pos, AccessEntry& out) {
  size_t open = time_opening(line, pos, out);
  std::optional<Head> plain = plain_head(line, pos, open, out);
  Head forwarded[2];
  size_t lists = forwarded_heads(line, pos, open, forwarded);
  if (lists == 1 && plain && plain->client == forwarded[0].client) lists = 0;
  const Head* head = plain ? &*plain : lists ? &forwarded[0] : nullptr;
  if (!head) return false;
  out.reading = lists == 2 ? ClientReading::Unsure
                : !lists   ? ClientReading::Plain
                : plain    ? ClientReading::PlainOrForwarded
                           : ClientReading::Forwarded;
  if (out.reading == ClientReading::Unsure) head = &forwarded[0];
  if (out.reading == ClientReading::Unsure || out.reading == ClientReading::PlainOrForwarded)
    out.other_client = forwarded[out.reading == ClientReading::Unsure ? 1 : 0].client;
  out.forwarded_only = lists && !plain;
  out.client = head->client;
  out.user = head->user;
  pos = head->time_end + 1;
  return !out.client.empty();
}

bool parse_from(sv line, size_t pos, AccessEntry& out) {
  if (!parse_head(line, pos, out)) return false;
  if (pos >= line.size() || line[pos] != ' ') return false;
  ++pos;
  if (!quoted(line, pos, out.request)) return false;
  // Words of the request line apart by runs of spaces: nginx logs "POST  /x.php HTTP/1.1" as the
  // client sent it, and runs the script all the same.
  size_t r = 0;
  auto next_word = [&] {
    while (r < out.request.size() && out.request[r] == ' ') ++r;
    return word(out.request, r);
  };
  sv method = next_word(), target = next_word();
  while (r < out.request.size() && out.request[r] == ' ') ++r;
  sv protocol = out.request.substr(r);
  if (!method.empty() && !target.empty() && protocol.starts_with("HTTP/")) {
    out.method = method, out.target = target, out.protocol = protocol;
  }
  sv status = word(line, pos), bytes = word(line, pos);
  if (status != "-") {
    auto s = digits(status);
    if (!s || status.size() != 3) return false;
    out.status = *s;
  }
  if (bytes != "-") {
    auto b = parse_uint(bytes);
    if (!b) return false;
    out.bytes = *b;
  }
  if (pos >= line.size()) return true;                                                     // common
  if (!quoted(line, pos, out.referer) || !quoted(line, pos, out.user_agent)) return true;  // extra fields: kept common
  out.combined = true;
  return true;
}

}  // namespace

bool parse_access_line(sv line, AccessEntry& out) {
  out = AccessEntry{};
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  // Apache's vhost_combined ("%v:%p " first) and vhost_common ("%v " first): a host, not an
  // address. With its port it is read first (a list behind a proxy would take it for a forged
  // hop and lose the host); without, only when the line reads no other way.
  size_t pos = 0;
  sv vhost = word(line, pos);
  bool host = !vhost.empty() && !vhost.ends_with(',') && !parse_ip(address_without_port(vhost)) && pos < line.size();
  bool with_port = host && vhost.find(':') != sv::npos;
  auto shifted = [&] {
    AccessEntry entry;
    if (!parse_from(line, pos, entry)) return false;
    out = entry;
    out.vhost = vhost;
    return true;
  };
  if (with_port && shifted()) return true;
  if (parse_from(line, 0, out)) return true;
  out = AccessEntry{};
  return host && !with_port && shifted();
}

bool is_script_name(sv name) {
  // Apache's handlers match an extension anywhere in the name, in any case: "mailer.php.jpg"
  // and "mailer.PHP" run as PHP.
  static constexpr std::array<sv, 10> kRun = {"php",  "php3",  "php4", "php5", "php7",
                                              "php8", "phtml", "phar", "cgi",  "pl"};
  for (size_t dot = name.find('.'); dot != sv::npos;) {
    size_t next = name.find('.', dot + 1);
    sv ext = name.substr(dot + 1, next == sv::npos ? sv::npos : next - dot - 1);
    for (sv run : kRun)
      if (iequals(ext, run)) return true;
    dot = next;
  }
  return false;
}

std::string served_path(sv path) {
  // The server takes out "." and ".." first, then runs the first script on the way.
  std::vector<sv> segments;
  for (size_t pos = 0; pos < path.size();) {
    size_t slash = path.find('/', pos);
    if (slash == sv::npos) slash = path.size();
    sv seg = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(seg);
  }
  bool dir = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
  std::string out;
  for (sv seg : segments) {
    out += "/" + std::string(seg);
    if (is_script_name(seg)) return out;
  }
  if (out.empty() || dir) out += "/";
  return out;
}

std::string target_path(sv written) {
  std::string unescaped = unescape_bytes(written);
  sv target = unescaped;
  if (size_t scheme = target.find("://"); scheme != sv::npos && scheme < 8) {
    size_t slash = target.find('/', scheme + 3);
    target = slash == sv::npos ? sv("/") : target.substr(slash);
  }
  target = target.substr(0, std::min(target.find('?'), target.find('#')));
  std::string out;
  out.reserve(target.size());
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == '%' && i + 2 < target.size()) {
      int hi = hex_value(target[i + 1]), lo = hex_value(target[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += char(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += target[i];
  }
  return out;
}

std::string unescape_field(sv field) { return printable(unescape_bytes(field), 300); }

std::string unescape_bytes(sv field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\' || i + 1 >= field.size()) {
      out += field[i];
      continue;
    }
    char c = field[++i];
    if (c == 'x' && i + 2 < field.size()) {
      int hi = hex_value(field[i + 1]), lo = hex_value(field[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += char(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
  }
  return out;
}

}  // namespace sw::weblog
