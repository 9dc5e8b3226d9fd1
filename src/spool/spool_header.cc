#include "spool/spool_header.h"

#include <charconv>
#include <optional>

#include "base/text.h"
#include "eximlog/message_id.h"

namespace sw::spool {
namespace {

// Walks the file line by line, or by exact byte counts where Exim stores lengths.
class Cursor {
 public:
  explicit Cursor(std::string_view data) : data_(data) {}

  // The next line without its '\n'; nullopt at the end or when the last line is unterminated.
  std::optional<std::string_view> line() {
    line_start_ = pos_;
    ++line_no_;
    size_t nl = data_.find('\n', pos_);
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view text = data_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return text;
  }
  // Exactly n bytes; nullopt when fewer remain.
  std::optional<std::string_view> bytes(size_t n) {
    if (data_.size() - pos_ < n) return std::nullopt;
    std::string_view text = data_.substr(pos_, n);
    for (char c : text) line_no_ += c == '\n';
    pos_ += n;
    return text;
  }
  bool at_end() const { return pos_ >= data_.size(); }
  char peek() const { return data_[pos_]; }
  HeaderParseStatus fail(HeaderParseError e) const { return {e, line_no_, line_start_}; }
  HeaderParseStatus fail_here(HeaderParseError e) const { return {e, line_no_ + 1, pos_}; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  size_t line_no_ = 0;
};

// Elements of the reused header and recipient vectors filled so far.
struct Used {
  size_t headers = 0, recipients = 0;
};

template <typename Int>
bool parse_int(std::string_view s, Int& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// "<login> <uid> <gid>", parsed from the right because a login may contain spaces.
bool parse_owner(std::string_view line, SpoolHeader& out) {
  size_t gid_space = line.rfind(' ');
  if (gid_space == std::string_view::npos || gid_space == 0) return false;
  size_t uid_space = line.rfind(' ', gid_space - 1);
  if (uid_space == std::string_view::npos) return false;
  out.login = line.substr(0, uid_space);
  return parse_int(line.substr(uid_space + 1, gid_space - uid_space - 1), out.uid) &&
         parse_int(line.substr(gid_space + 1), out.gid);
}

bool parse_time_line(std::string_view line, SpoolHeader& out) {
  size_t space = line.find(' ');
  if (space == std::string_view::npos) return false;
  return parse_int(line.substr(0, space), out.received_time) && parse_int(line.substr(space + 1), out.warning_count);
}

// "-aclm <name> <len>" (or pre-4.61 "-acl <n> <len>"); the value follows on the next lines.
bool read_acl_variable(std::string_view name, std::string_view rest, Cursor& cursor, SpoolHeader& out) {
  AclVariable var;
  size_t space = rest.rfind(' ');
  size_t length = 0;
  if (space == std::string_view::npos || !parse_int(rest.substr(space + 1), length)) return false;
  var.name = rest.substr(0, space);
  if (name == "acl") {  // 0-9 were acl_c0..9, 10-19 acl_m0..9
    int number = 0;
    if (!parse_int(std::string_view(var.name), number) || number < 0 || number > 19) return false;
    var.scope = number < 10 ? 'c' : 'm';
    var.name = std::to_string(number % 10);
  } else {
    var.scope = name[3];
  }
  auto value = cursor.bytes(length);
  auto newline = cursor.bytes(1);
  if (!value || !newline || *newline != "\n") return false;
  var.value = *value;
  out.acl_variables.push_back(std::move(var));
  return true;
}

bool set_string_option(std::string_view name, std::string_view value, SpoolHeader& out) {
  struct Field {
    std::string_view name;
    std::string SpoolHeader::*member;
  };
  static constexpr Field kFields[] = {
      {"helo_name", &SpoolHeader::helo_name},
      {"host_name", &SpoolHeader::host_name},
      {"host_auth", &SpoolHeader::host_auth},
      {"host_auth_pubname", &SpoolHeader::host_auth_pubname},
      {"auth_id", &SpoolHeader::auth_id},
      {"auth_sender", &SpoolHeader::auth_sender},
      {"ident", &SpoolHeader::ident},
      {"received_protocol", &SpoolHeader::received_protocol},
      {"active_hostname", &SpoolHeader::active_hostname},
  };
  for (const Field& field : kFields) {
    if (field.name == name) {
      out.*field.member = value;
      return true;
    }
  }
  return false;
}

bool set_flag_option(std::string_view name, SpoolHeader& out) {
  if (name == "localerror") return out.local_error = true;
  if (name == "local") return out.local = true;
  if (name == "deliver_firsttime") return out.deliver_firsttime = true;
  if (name == "manual_thaw") return out.manual_thaw = true;
  if (name == "spool_file_wireformat") return out.wireformat = true;
  return false;
}

// One "-name value" or "--name value" line (and "--(lookup)name value", 4.96+).
bool read_option(std::string_view line, Cursor& cursor, SpoolHeader& out) {
  std::string_view body = line.substr(1);
  bool tainted = !body.empty() && body[0] == '-';
  if (tainted) {
    body.remove_prefix(1);
    if (!body.empty() && body[0] == '(') {  // quoter annotation: not needed for reporting
      size_t close = body.find(')');
      if (close == std::string_view::npos) return false;
      body.remove_prefix(close + 1);
    }
  }
  size_t space = body.find(' ');
  std::string_view name = body.substr(0, space);
  std::string_view value = space == std::string_view::npos ? std::string_view() : body.substr(space + 1);
  if (tainted) out.tainted_options.emplace_back(name);

  if (name == "aclc" || name == "aclm" || name == "acl") return read_acl_variable(name, value, cursor, out);
  if (name == "host_address") {
    out.host_address = parse_host_address(value);
    return true;
  }
  if (name == "interface_address") {
    out.interface_address = parse_host_address(value);
    return true;
  }
  if (name == "frozen") {
    out.frozen = true;
    return parse_int(value, out.frozen_since) || value.empty();
  }
  if (set_string_option(name, value, out)) return true;
  if (value.empty() && set_flag_option(name, out)) return true;
  // Unknown options are kept and skipped, as Exim itself does.
  out.other_options.push_back({std::string(name), std::string(value), tainted});
  return true;
}

// Pre-order dump of a binary tree: "<L><R> <address>" where Y/N says whether a child follows.
// Read iteratively with a pending-node count so a hostile file cannot exhaust the stack.
HeaderParseStatus read_non_recipients(std::string_view first, Cursor& cursor, SpoolHeader& out) {
  if (first == "XX") return {};
  size_t pending = 1;
  std::optional<std::string_view> line = first;
  while (pending > 0) {
    if (!line) return cursor.fail(HeaderParseError::truncated);
    std::string_view node = *line;
    if (node.size() < 4 || (node[0] != 'Y' && node[0] != 'N') || (node[1] != 'Y' && node[1] != 'N') || node[2] != ' ' ||
        out.non_recipients.size() >= kMaxNonRecipients)
      return cursor.fail(HeaderParseError::non_recipients);
    out.non_recipients.emplace_back(node.substr(3));
    pending = pending - 1 + (node[0] == 'Y') + (node[1] == 'Y');
    if (pending > 0) line = cursor.line();
  }
  return {};
}

HeaderParseStatus read_recipients(Cursor& cursor, SpoolHeader& out, Used& used) {
  auto count_line = cursor.line();
  if (!count_line) return cursor.fail(HeaderParseError::truncated);
  size_t count = 0;
  if (!parse_int(*count_line, count) || count > kMaxRecipients) return cursor.fail(HeaderParseError::recipient_count);
  if (out.recipients.size() < count) out.recipients.resize(count);
  for (size_t i = 0; i < count; ++i) {
    auto line = cursor.line();
    if (!line) return cursor.fail(HeaderParseError::truncated);
    if (has_nul(*line)) return cursor.fail(HeaderParseError::binary);
    Recipient& recipient = out.recipients[used.recipients++];  // reused: reset every field
    recipient.address.clear(), recipient.errors_to.clear(), recipient.orcpt.clear();
    recipient.dsn_flags = 0, recipient.parent = -1;
    if (!parse_recipient_line(*line, recipient)) return cursor.fail(HeaderParseError::recipient_line);
  }
  return {};
}

// Headers: "%03d%c " then exactly that many bytes (the text spans folded lines).
HeaderParseStatus read_headers(Cursor& cursor, SpoolHeader& out, Used& used) {
  while (!cursor.at_end()) {
    size_t length = 0;
    size_t digits = 0;
    while (!cursor.at_end() && is_digit(cursor.peek()) && digits < 9) {
      length = length * 10 + size_t(cursor.peek() - '0');
      cursor.bytes(1);
      ++digits;
    }
    auto flag_and_space = cursor.bytes(2);
    if (digits < 3 || !flag_and_space || (*flag_and_space)[1] != ' ') return cursor.fail_here(HeaderParseError::header);
    auto text = cursor.bytes(length);
    if (!text || length == 0) return cursor.fail_here(HeaderParseError::header);
    Header& header = used.headers < out.headers.size() ? out.headers[used.headers] : out.headers.emplace_back();
    ++used.headers;
    header.flag = (*flag_and_space)[0];
    header.text.assign(*text);
    if (!header.deleted()) out.header_bytes += length;
  }
  return {};
}

HeaderParseStatus read_envelope_start(Cursor& cursor, SpoolHeader& out) {
  auto id_line = cursor.line();
  if (!id_line) return cursor.fail(HeaderParseError::truncated);
  if (id_line->size() < 3 || !id_line->ends_with("-H") ||
      !eximlog::is_message_id(id_line->substr(0, id_line->size() - 2)))
    return cursor.fail(HeaderParseError::id_line);
  out.id = id_line->substr(0, id_line->size() - 2);

  auto owner = cursor.line();
  if (!owner) return cursor.fail(HeaderParseError::truncated);
  if (has_nul(*owner) || !parse_owner(*owner, out)) return cursor.fail(HeaderParseError::owner_line);

  auto sender = cursor.line();
  if (!sender) return cursor.fail(HeaderParseError::truncated);
  if (has_nul(*sender) || sender->size() < 2 || sender->front() != '<' || sender->back() != '>')
    return cursor.fail(HeaderParseError::sender_line);
  out.sender = sender->substr(1, sender->size() - 2);

  auto time = cursor.line();
  if (!time) return cursor.fail(HeaderParseError::truncated);
  if (!parse_time_line(*time, out)) return cursor.fail(HeaderParseError::time_line);
  return {};
}

HeaderParseStatus parse_into(std::string_view bytes, SpoolHeader& out, Used& used) {
  Cursor cursor(bytes);
  if (auto status = read_envelope_start(cursor, out); !status.ok()) return status;

  std::optional<std::string_view> line;
  while ((line = cursor.line()) && !line->empty() && line->front() == '-') {
    if (has_nul(*line)) return cursor.fail(HeaderParseError::binary);
    if (!read_option(*line, cursor, out)) return cursor.fail(HeaderParseError::option_line);
  }
  if (!line) return cursor.fail(HeaderParseError::truncated);
  if (has_nul(*line)) return cursor.fail(HeaderParseError::binary);
  if (auto status = read_non_recipients(*line, cursor, out); !status.ok()) return status;
  if (auto status = read_recipients(cursor, out, used); !status.ok()) return status;

  auto separator = cursor.line();
  if (!separator) return cursor.fail(HeaderParseError::truncated);
  if (!separator->empty()) return cursor.fail(HeaderParseError::separator);
  return read_headers(cursor, out, used);
}

}  // namespace

HeaderParseStatus parse_spool_header(std::string_view bytes, SpoolHeader& out) {
  // A scanner parses thousands of files into one SpoolHeader: the header and recipient
  // elements of the previous file are overwritten in place (their strings keep their
  // buffers), and whatever was not reused is dropped at the end, on every path.
  std::vector<Header> headers = std::move(out.headers);
  std::vector<Recipient> recipients = std::move(out.recipients);
  out.clear();
  out.headers = std::move(headers);
  out.recipients = std::move(recipients);
  Used used;
  HeaderParseStatus status = parse_into(bytes, out, used);
  out.headers.resize(used.headers);
  out.recipients.resize(used.recipients);
  return status;
}

HostAddress parse_host_address(std::string_view text) {
  HostAddress address;
  if (text.empty()) return address;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      address.ip = text.substr(1);
      return address;
    }
    address.ip = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.size() > 1 && rest[0] == ':' && !parse_int(rest.substr(1), address.port)) address.port = -1;
    return address;
  }
  size_t dot = text.rfind('.');  // <= 4.95: the last dot separates the port, even for IPv6
  if (dot != std::string_view::npos && parse_int(text.substr(dot + 1), address.port)) {
    address.ip = text.substr(0, dot);
  } else {
    address.ip = text;
    address.port = -1;
  }
  return address;
}

// Scans left over "<len>,<number>" (digits, ',' and '-') ending just before `end`; returns the
// index of the space before it, or npos.
static size_t scan_length_pair(std::string_view line, size_t end, size_t& length, int& number) {
  size_t start = end;
  while (start > 0 && (is_digit(line[start - 1]) || line[start - 1] == ',' || line[start - 1] == '-')) --start;
  if (start == 0 || line[start - 1] != ' ') return std::string_view::npos;
  std::string_view pair = line.substr(start, end - start);
  size_t comma = pair.find(',');
  if (comma == std::string_view::npos || !parse_int(pair.substr(0, comma), length) ||
      !parse_int(pair.substr(comma + 1), number))
    return std::string_view::npos;
  return start - 1;
}

// Takes "<field> <len>,<n>" off the end of line[0, end): sets field and returns the new end
// (index of the space before the field), or npos when the lengths do not fit.
static size_t take_counted_field(std::string_view line, size_t end, std::string& field, int& number) {
  size_t length = 0;
  size_t space = scan_length_pair(line, end, length, number);
  if (space == std::string_view::npos || length > space || (space - length) == 0) return std::string_view::npos;
  size_t field_start = space - length;
  if (line[field_start - 1] != ' ') return std::string_view::npos;
  field = line.substr(field_start, length);
  return field_start - 1;
}

bool parse_recipient_line(std::string_view line, Recipient& out) {
  size_t p = line.size();
  while (p > 0 && is_digit(line[p - 1])) --p;
  if (p == 0 || p == line.size() || line[p - 1] != '#') {
    if (p > 0 && p < line.size() && line[p - 1] == ' ') {  // early Exim 4: "addr pno"
      out.address = line.substr(0, p - 1);
      parse_int(line.substr(p), out.parent);
      return !out.address.empty();
    }
    out.address = line;  // plain address (Exim 3 "a,b,c" data is not worth modelling)
    return !out.address.empty();
  }
  int flags = 0;
  if (!parse_int(line.substr(p), flags)) return false;
  size_t end = p - 1;  // index of '#'
  if (flags & 0x01) {
    end = take_counted_field(line, end, out.errors_to, out.parent);
    if (end == std::string_view::npos) return false;
  }
  if (flags & 0x02) {
    end = take_counted_field(line, end, out.orcpt, out.dsn_flags);
    if (end == std::string_view::npos) return false;
  }
  out.address = line.substr(0, end);
  return !out.address.empty();
}

std::string_view Header::name() const {
  size_t colon = text.find(':');
  return colon == std::string::npos ? std::string_view() : trim(std::string_view(text).substr(0, colon));
}

std::string Header::value() const {
  size_t colon = text.find(':');
  if (colon == std::string::npos) return {};
  std::string unfolded;
  unfolded.reserve(text.size() - colon);
  for (char c : std::string_view(text).substr(colon + 1)) {
    if (c == '\r' || c == '\n') continue;
    unfolded += c == '\t' ? ' ' : c;
  }
  return std::string(trim(unfolded));
}

const Header* SpoolHeader::find_header(std::string_view name) const {
  for (const Header& header : headers)
    if (!header.deleted() && iequals(header.name(), name)) return &header;
  return nullptr;
}

bool SpoolHeader::delivered_to(std::string_view address) const {
  for (const std::string& done : non_recipients)
    if (done == address) return true;
  return false;
}

size_t SpoolHeader::pending_recipient_count() const {
  if (non_recipients.empty()) return recipients.size();
  size_t pending = 0;
  for (const Recipient& r : recipients) pending += !delivered_to(r.address);
  return pending;
}

// Resets every field but keeps the vectors' capacity: a scanner reuses one SpoolHeader.
void SpoolHeader::clear() {
  std::vector<std::string> keep_tainted = std::move(tainted_options);
  std::vector<AclVariable> keep_acl = std::move(acl_variables);
  std::vector<OptionLine> keep_other = std::move(other_options);
  std::vector<std::string> keep_non = std::move(non_recipients);
  std::vector<Recipient> keep_recipients = std::move(recipients);
  std::vector<Header> keep_headers = std::move(headers);
  *this = SpoolHeader();
  for (auto* v : {&keep_tainted, &keep_non}) v->clear();
  keep_acl.clear(), keep_other.clear(), keep_recipients.clear(), keep_headers.clear();
  tainted_options = std::move(keep_tainted), acl_variables = std::move(keep_acl);
  other_options = std::move(keep_other), non_recipients = std::move(keep_non);
  recipients = std::move(keep_recipients), headers = std::move(keep_headers);
}

std::string_view describe(HeaderParseError error) {
  switch (error) {
    case HeaderParseError::none: return "ok";
    case HeaderParseError::id_line: return "first line is not <id>-H";
    case HeaderParseError::owner_line: return "bad owner line (login uid gid)";
    case HeaderParseError::sender_line: return "bad sender line";
    case HeaderParseError::time_line: return "bad time line";
    case HeaderParseError::option_line: return "bad option line";
    case HeaderParseError::non_recipients: return "bad non-recipients tree";
    case HeaderParseError::recipient_count: return "bad or absurd recipient count";
    case HeaderParseError::recipient_line: return "bad recipient line";
    case HeaderParseError::separator: return "no blank line before headers";
    case HeaderParseError::header: return "bad header length or flag";
    case HeaderParseError::binary: return "binary bytes in envelope";
    case HeaderParseError::truncated: return "truncated";
  }
  return "unknown";
}

}  // namespace sw::spool
