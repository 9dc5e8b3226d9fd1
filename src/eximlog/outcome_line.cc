#include "eximlog/outcome_line.h"

#include <algorithm>

#include "base/text.h"

namespace sw::eximlog {
namespace {

// The end of a word from `at` that may hold "quoted" parts (escapes inside them) and ends at
// one of `stops` outside them.
size_t skip_quoted_until(std::string_view s, size_t at, std::string_view stops) {
  bool quoted = false;
  for (; at < s.size(); ++at) {
    char c = s[at];
    if (quoted && c == '\\') ++at;
    else if (c == '"') quoted = !quoted;
    else if (!quoted && stops.find(c) != std::string_view::npos) return at;
  }
  return s.size();
}

bool is_outcome_flag(std::string_view f) {
  return f == "=> " || f == "-> " || f == ">> " || f == "*> " || f == "** " || f == "== ";
}

// "addr[ (parents)][ <top-addr>] tags": what follows an outcome's flag.
OutcomeParts split_address_and_tags(std::string_view rest) {
  OutcomeParts parts;
  size_t end = skip_quoted_until(rest, 0, " ");
  parts.address = rest.substr(0, end);
  rest.remove_prefix(end);
  if (rest.starts_with(" (")) {  // the parents, with +all_parents
    end = skip_quoted_until(rest, 2, ")");
    rest.remove_prefix(std::min(rest.size(), end + 1));
  }
  if (rest.starts_with(" <")) {
    end = skip_quoted_until(rest, 2, ">");
    parts.original = rest.substr(2, end - 2);
    rest.remove_prefix(std::min(rest.size(), end + 1));
  }
  parts.tags = rest;
  return parts;
}

}  // namespace

std::optional<OutcomeParts> split_outcome(std::string_view line) {
  // The flag follows the timestamp and id: its first occurrence, found in one pass that stops
  // there (a search per flag would read to the end of every line without it).
  size_t flag = std::string_view::npos;
  for (size_t at = line.find(' '); at != std::string_view::npos && at + 3 < line.size(); at = line.find(' ', at + 1)) {
    if (is_outcome_flag(line.substr(at + 1, 3))) {
      flag = at;
      break;
    }
  }
  if (flag == std::string_view::npos) return std::nullopt;
  OutcomeParts parts = split_address_and_tags(line.substr(flag + 4));
  parts.flag_at = flag;
  return parts;
}

std::optional<OutcomeParts> split_msglog_outcome(std::string_view line) {
  // "<date> <time>[.mmm][ <zone>] ": the first two words, and a zone when one follows.
  size_t at = line.find(' ');
  at = at == std::string_view::npos ? at : line.find(' ', at + 1);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view text = line.substr(at + 1);
  if (text.size() > 6 && (text[0] == '+' || text[0] == '-') && text[5] == ' ' &&
      std::all_of(text.begin() + 1, text.begin() + 5, [](char c) { return c >= '0' && c <= '9'; }))
    text.remove_prefix(6);
  if (is_outcome_flag(text.substr(0, 3))) return split_outcome(line);  // a flag after all (the main log's form)
  OutcomeParts parts = split_address_and_tags(text);
  // An attempt's line names the router (and, for a failure, the sender F=<> first); the
  // reception, "*** Frozen" and an SMTP error's second line ("H=host [ip] SMTP error ...") do not.
  if (parts.address.empty() ||
      !(parts.tags.starts_with(" R=") || parts.tags.starts_with(" F=") || parts.tags.starts_with(" P=")))
    return std::nullopt;
  parts.flag_at = size_t(text.data() - line.data()) - 1;
  return parts;
}

bool outcome_on_this_host(std::string_view line) {
  auto parts = split_outcome(line);
  return parts && outcome_on_this_host(*parts);
}

bool outcome_on_this_host(const OutcomeParts& parts) {
  std::string_view tags = parts.tags;
  if (tags.find(" H=") != std::string_view::npos) return false;  // to a host, whatever the transport's name
  size_t at = tags.find(" T=");
  if (at == std::string_view::npos) return false;
  std::string_view transport = tags.substr(at + 3);
  transport = transport.substr(0, std::min(transport.find(' '), transport.find(':')));
  return !transport.empty() && !icontains(transport, "smtp");
}

bool outcome_is_for(const OutcomeParts& parts, std::string_view address) {
  return iequals(parts.address, address) || (!parts.original.empty() && iequals(parts.original, address));
}

}  // namespace sw::eximlog
