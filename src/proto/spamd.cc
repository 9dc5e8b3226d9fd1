#include "proto/spamd.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "base/text.h"

namespace sw::proto::spamd {
namespace {

bool parse_command(std::string_view word, Command* command) {
  static constexpr std::pair<std::string_view, Command> kCommands[] = {
      {"CHECK", Command::kCheck},     {"SYMBOLS", Command::kSymbols},
      {"REPORT", Command::kReport},   {"REPORT_IFSPAM", Command::kReportIfSpam},
      {"PROCESS", Command::kProcess}, {"HEADERS", Command::kHeaders},
      {"PING", Command::kPing},       {"SKIP", Command::kSkip},
      {"TELL", Command::kTell}};
  for (const auto& [name, value] : kCommands) {
    if (word == name) {
      *command = value;
      return true;
    }
  }
  return false;
}

bool parse_version(std::string_view text, int* major, int* minor) {
  size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size() || text.size() > 7) return false;
  auto [p1, e1] = std::from_chars(text.data(), text.data() + dot, *major);
  auto [p2, e2] = std::from_chars(text.data() + dot + 1, text.data() + text.size(), *minor);
  return e1 == std::errc() && e2 == std::errc() && p1 == text.data() + dot && p2 == text.data() + text.size();
}

// "local, remote" -> the two flags; false on an unknown word.
bool parse_databases(std::string_view value, bool* local, bool* remote) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view word = trim(value.substr(0, comma));
    if (iequals(word, "local")) {
      *local = true;
    } else if (iequals(word, "remote")) {
      *remote = true;
    } else if (!word.empty()) {
      return false;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return true;
}

bool needs_message(Command command) { return command != Command::kPing && command != Command::kSkip; }

}  // namespace

RequestParser::State RequestParser::fail(ExitCode code, std::string message) {
  phase_ = Phase::kDone;
  error_code_ = code;
  error_ = std::move(message);
  return state_ = State::kError;
}

RequestParser::State RequestParser::complete() {
  phase_ = Phase::kDone;
  return state_ = State::kComplete;
}

RequestParser::State RequestParser::feed(std::string_view bytes) {
  while (!bytes.empty() && (phase_ == Phase::kCommandLine || phase_ == Phase::kHeaders)) {
    size_t newline = bytes.find('\n');
    size_t take = newline == std::string_view::npos ? bytes.size() : newline;
    if (line_.size() + take > limits_.max_header_line) {
      return fail(ExitCode::kProtocol, fmt::format("request line longer than {} bytes", limits_.max_header_line));
    }
    line_.append(bytes.substr(0, take));
    if (newline == std::string_view::npos) return state_;
    bytes.remove_prefix(newline + 1);
    std::string line = std::move(line_);
    line_.clear();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (take_line(line) != State::kNeedMore) return state_;
  }
  if (phase_ == Phase::kBody && !bytes.empty()) return take_body(bytes);
  return state_;
}

RequestParser::State RequestParser::finish() {
  if (phase_ == Phase::kDone) return state_;
  if (phase_ == Phase::kBody && !request_.has_content_length) return complete();
  if (phase_ == Phase::kBody) {
    return fail(ExitCode::kDataErr,
                fmt::format("client sent {} of its {} message bytes", request_.message_bytes, request_.content_length));
  }
  if (phase_ == Phase::kCommandLine && line_.empty()) return fail(ExitCode::kProtocol, "empty request");
  return fail(ExitCode::kProtocol, "request ended inside its headers");
}

RequestParser::State RequestParser::take_line(std::string_view line) {
  if (phase_ == Phase::kCommandLine) return parse_command_line(line);
  if (line.empty()) return end_of_headers();
  // Exim's rspamd variant sends a Rcpt: line per recipient, which is only counted: a message to
  // 5,000 is no reason to leave it unscanned (the header cap would make Exim fail open).
  bool recipient = line.size() >= 5 && iequals(line.substr(0, 5), "Rcpt:");
  if (recipient ? ++recipient_lines_ > limits_.max_recipient_lines : ++header_lines_ > limits_.max_header_lines) {
    return fail(ExitCode::kProtocol,
                fmt::format("more than {} {} lines", recipient ? limits_.max_recipient_lines : limits_.max_header_lines,
                            recipient ? "Rcpt" : "header"));
  }
  return parse_header(line);
}

RequestParser::State RequestParser::parse_command_line(std::string_view line) {
  line = trim(line);
  size_t space = line.find(' ');
  if (space == std::string_view::npos) return fail(ExitCode::kProtocol, "request line without a protocol");
  std::string_view word = line.substr(0, space);
  std::string_view protocol = trim(line.substr(space + 1));
  if (!parse_command(word, &request_.command)) return fail(ExitCode::kProtocol, "unknown command");
  std::string_view version;
  if (protocol.starts_with("SPAMC/")) {
    request_.dialect = Dialect::kSpamc;
    version = protocol.substr(6);
  } else if (protocol.starts_with("RSPAMC/")) {
    request_.dialect = Dialect::kRspamc;
    version = protocol.substr(7);
  } else {
    return fail(ExitCode::kProtocol, "unknown protocol (SPAMC/x.y or RSPAMC/x.y expected)");
  }
  if (!parse_version(version, &request_.version_major, &request_.version_minor)) {
    return fail(ExitCode::kProtocol, "bad protocol version");
  }
  if (request_.command == Command::kPing || request_.command == Command::kSkip) return complete();
  phase_ = Phase::kHeaders;
  return state_;
}

RequestParser::State RequestParser::parse_header(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return fail(ExitCode::kProtocol, "header line without a name");
  std::string_view name = line.substr(0, colon);
  std::string_view value = trim(line.substr(colon + 1));
  Request& r = request_;
  if (iequals(name, "Content-length")) {
    uint64_t length = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
      return fail(ExitCode::kProtocol, "bad Content-length");
    }
    if (r.has_content_length && r.content_length != length) return fail(ExitCode::kProtocol, "two Content-lengths");
    r.has_content_length = true;
    r.content_length = length;
  } else if (iequals(name, "User")) {
    r.user = value;
  } else if (iequals(name, "Message-class")) {
    if (!iequals(value, "spam") && !iequals(value, "ham")) return fail(ExitCode::kProtocol, "bad Message-class");
    r.message_class = iequals(value, "spam") ? "spam" : "ham";
  } else if (iequals(name, "Set")) {
    if (!parse_databases(value, &r.set_local, &r.set_remote)) return fail(ExitCode::kProtocol, "bad Set header");
  } else if (iequals(name, "Remove")) {
    if (!parse_databases(value, &r.remove_local, &r.remove_remote)) {
      return fail(ExitCode::kProtocol, "bad Remove header");
    }
  } else if (iequals(name, "Compress")) {
    return fail(ExitCode::kProtocol, "compressed requests are not supported");
  } else if (iequals(name, "Queue-Id")) {
    r.queue_id = value.substr(0, 64);
  } else if (iequals(name, "From")) {
    r.from = value.substr(0, 512);
  } else if (iequals(name, "IP")) {
    r.ip = value.substr(0, 64);
  } else if (iequals(name, "Helo")) {
    r.helo = value.substr(0, 255);
  } else if (iequals(name, "Rcpt")) {
    ++r.recipients;
  }
  return state_;  // other headers (Recipient-Number, Hostname, Pass, ...) are not needed
}

RequestParser::State RequestParser::end_of_headers() {
  Request& r = request_;
  if (r.command == Command::kTell) {
    bool sets = r.set_local || r.set_remote;
    if (sets && r.message_class.empty()) return fail(ExitCode::kProtocol, "TELL Set without Message-class");
    if (!sets && !r.remove_local && !r.remove_remote) {
      return fail(ExitCode::kProtocol, "TELL without Set or Remove");
    }
  }
  if (r.has_content_length && r.content_length > limits_.max_message) {
    return fail(ExitCode::kDataErr,
                fmt::format("message of {} bytes is over the {} byte limit", r.content_length, limits_.max_message));
  }
  phase_ = Phase::kBody;
  if (!needs_message(r.command) || (r.has_content_length && r.content_length == 0)) return complete();
  r.message.reserve(std::min<uint64_t>(r.has_content_length ? r.content_length : 64 * 1024, limits_.scan_bytes));
  return state_;
}

RequestParser::State RequestParser::take_body(std::string_view bytes) {
  Request& r = request_;
  if (r.has_content_length) bytes = bytes.substr(0, r.content_length - r.message_bytes);  // extra bytes ignored
  if (r.message.size() < limits_.scan_bytes) {
    r.message.append(bytes.substr(0, limits_.scan_bytes - r.message.size()));
  }
  r.message_bytes += bytes.size();
  if (r.has_content_length && r.message_bytes == r.content_length) return complete();
  if (r.message_bytes > limits_.max_message) {
    return fail(ExitCode::kDataErr, fmt::format("message over the {} byte limit", limits_.max_message));
  }
  return state_;
}

// ---------------------------------------------------------------------------------------------
// Replies

namespace {

constexpr std::string_view kSpamdStatusOk = "SPAMD/1.1 0 EX_OK\r\n";
constexpr std::string_view kRspamdStatusOk = "RSPAMD/1.3 0 EX_OK\r\n";

double finite_or_zero(double x) { return std::isfinite(x) ? std::clamp(x, -9999.0, 9999.0) : 0; }

// Exim decides with the numbers it reads back (score >= threshold), so the printed, rounded
// score must fall on the same side of the printed threshold as the scanner's verdict.
struct WireNumbers {
  double score, threshold;
};
WireNumbers wire_numbers(const ScanResult& result, double step) {
  auto round_to = [step](double x) { return std::round(x / step) * step; };
  double threshold = round_to(finite_or_zero(result.threshold));
  double score = round_to(finite_or_zero(result.score));
  if (result.is_spam && score < threshold) score = threshold;
  if (!result.is_spam && score >= threshold) score = threshold - step;
  return {score, threshold};
}

std::string symbols_list(const ScanResult& result) {
  std::string out;
  for (const Symbol& symbol : result.symbols) {
    if (!out.empty()) out += ',';
    out += symbol_name(symbol.name);
  }
  return out;
}

std::string spam_status_header(const ScanResult& result) {
  std::string names = symbols_list(result);
  return fmt::format("X-Spam-Flag: {}\r\nX-Spam-Status: {}, score={} required={} tests={}\r\n",
                     result.is_spam ? "YES" : "NO", result.is_spam ? "Yes" : "No", format_score(result.score),
                     format_score(result.threshold), names.empty() ? "none" : names);
}

// PROCESS/HEADERS: the message (or its header section) with our status headers in front.
std::string rewritten_message(const Request& request, const ScanResult& result) {
  std::string_view message = request.message;
  if (request.command == Command::kHeaders) {
    size_t end = message.find("\n\n");
    size_t crlf_end = message.find("\r\n\r\n");
    if (crlf_end != std::string_view::npos && (end == std::string_view::npos || crlf_end < end)) {
      message = message.substr(0, crlf_end + 4);
    } else if (end != std::string_view::npos) {
      message = message.substr(0, end + 2);
    }
  }
  // Headers go after an mbox "From " line, as SpamAssassin puts them.
  size_t insert_at = 0;
  if (message.starts_with("From ")) {
    size_t newline = message.find('\n');
    insert_at = newline == std::string_view::npos ? message.size() : newline + 1;
  }
  std::string out(message.substr(0, insert_at));
  out += spam_status_header(result);
  out += message.substr(insert_at);
  return out;
}

}  // namespace

std::string format_score(double score) { return fmt::format("{:.1f}", finite_or_zero(score) + 0.0); }

std::string symbol_name(std::string_view name) {
  std::string out;
  for (unsigned char c : name.substr(0, 60)) {
    if (c <= ' ' || c >= 0x7f) {
      out += '?';
    } else if (c == ',' || c == '(' || c == ')' || c == ';') {
      out += '_';
    } else {
      out += static_cast<char>(c);
    }
  }
  return out.empty() ? "_" : out;
}

std::string render_report(const ScanResult& result, const ReplyOptions& options) {
  WireNumbers n = wire_numbers(result, 0.1);
  std::string out = fmt::format(
      "Content analysis details:   ({:.1f} points, {:.1f} required) on {}\r\n\r\n"
      " pts rule name\r\n---- ------------------------------------------------------------\r\n",
      n.score, n.threshold, symbol_name(options.host_name));
  for (const Symbol& symbol : result.symbols) {
    out += fmt::format("{:4.1f} {}\r\n", finite_or_zero(symbol.weight), symbol_name(symbol.name));
  }
  return out;
}

std::string encode_scan_reply(const Request& request, const ScanResult& result, const ReplyOptions& options) {
  if (request.dialect == Dialect::kRspamc) {
    WireNumbers n = wire_numbers(result, 0.01);
    double reject = std::max(finite_or_zero(options.reject_score), n.threshold);
    std::string_view action = n.score >= reject ? "reject" : result.is_spam ? "add header" : "no action";
    std::string out = fmt::format("{}Metric: default; {}; {:.2f} / {:.2f} / {:.2f}\r\nAction: {}\r\n", kRspamdStatusOk,
                                  result.is_spam ? "True" : "False", n.score, n.threshold, reject, action);
    for (const Symbol& symbol : result.symbols) {
      out += fmt::format("Symbol: {}({:.2f})\r\n", symbol_name(symbol.name), finite_or_zero(symbol.weight));
    }
    if (!request.queue_id.empty()) out += fmt::format("Message-ID: {}\r\n", symbol_name(request.queue_id));
    out += "\r\n";
    return out;
  }
  WireNumbers n = wire_numbers(result, 0.1);
  bool if_spam = request.command == Command::kReportIfSpam;
  std::string_view flag = result.is_spam ? (if_spam ? "Yes" : "True") : (if_spam ? "No" : "False");
  std::string spam_header = fmt::format("Spam: {} ; {:.1f} / {:.1f}\r\n", flag, n.score, n.threshold);
  std::string body;
  bool with_length = request.at_least(1, 3);
  switch (request.command) {
    case Command::kReport: body = render_report(result, options); break;
    case Command::kReportIfSpam:
      if (result.is_spam) body = render_report(result, options);
      break;
    case Command::kSymbols:
      body = symbols_list(result);
      if (!request.at_least(1, 3)) body += "\r\n";
      break;
    case Command::kProcess:
    case Command::kHeaders:
      body = rewritten_message(request, result);
      with_length = true;
      break;
    default: break;
  }
  std::string out(kSpamdStatusOk);
  if (with_length) out += fmt::format("Content-length: {}\r\n", body.size());
  out += spam_header;
  out += "\r\n";
  out += body;
  return out;
}

std::string encode_score_line_reply(const ScanResult& result, const ReplyOptions& options) {
  WireNumbers n = wire_numbers(result, 0.1);
  std::string body = fmt::format("{:.1f}/{:.1f}\r\n", n.score, n.threshold) + render_report(result, options);
  return fmt::format("{}Content-length: {}\r\n\r\n{}", kSpamdStatusOk, body.size(), body);
}

std::string encode_ping_reply() { return "SPAMD/1.5 0 PONG\r\n"; }

std::string encode_tell_reply(const Request& request, bool did_set, bool did_remove) {
  std::string out(kSpamdStatusOk);
  out += "Content-length: 0\r\n";
  if (did_set) out += request.set_remote && !request.set_local ? "DidSet: remote\r\n" : "DidSet: local\r\n";
  if (did_remove) out += "DidRemove: local\r\n";
  out += "\r\n";
  return out;
}

std::string encode_tell_request(std::string_view message, bool spam) {
  return fmt::format("TELL SPAMC/1.5\r\nMessage-class: {}\r\nSet: local\r\nContent-length: {}\r\n\r\n{}",
                     spam ? "spam" : "ham", message.size(), message);
}

std::string encode_forget_request(std::string_view message) {
  return fmt::format("TELL SPAMC/1.5\r\nRemove: local\r\nContent-length: {}\r\n\r\n{}", message.size(), message);
}

TellReply read_tell_reply(std::string_view reply) {
  size_t end = reply.find("\r\n\r\n");
  std::string_view head = reply.substr(0, end);
  if (head.starts_with("SPAMD/1.1 77 ")) return TellReply::kNotAllowed;
  if (head.starts_with("SPAMD/1.1 74 ")) return TellReply::kUnsaved;
  if (end == std::string_view::npos || !head.starts_with("SPAMD/1.1 0 EX_OK\r\n")) return TellReply::kRefused;
  bool changed =
      head.find("\r\nDidSet: ") != std::string_view::npos || head.find("\r\nDidRemove: ") != std::string_view::npos;
  return changed ? TellReply::kChanged : TellReply::kUnchanged;
}

std::string encode_error(Dialect dialect, ExitCode code) {
  std::string_view text;
  switch (code) {
    case ExitCode::kOk: text = "EX_OK"; break;
    case ExitCode::kUsage: text = "EX_USAGE"; break;
    case ExitCode::kDataErr: text = "EX_DATAERR"; break;
    case ExitCode::kNoInput: text = "EX_NOINPUT"; break;
    case ExitCode::kUnavailable: text = "EX_UNAVAILABLE"; break;
    case ExitCode::kSoftware: text = "EX_SOFTWARE"; break;
    case ExitCode::kIoErr: text = "EX_IOERR"; break;
    case ExitCode::kTempFail: text = "EX_TEMPFAIL"; break;
    case ExitCode::kProtocol: text = "EX_PROTOCOL"; break;
    case ExitCode::kNoPerm: text = "EX_NOPERM"; break;
  }
  return fmt::format("{} {} {}\r\n", dialect == Dialect::kRspamc ? "RSPAMD/1.3" : "SPAMD/1.1", static_cast<int>(code),
                     text);
}

}  // namespace sw::proto::spamd
