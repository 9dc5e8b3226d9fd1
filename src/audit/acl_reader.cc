#include "audit/acl_reader.h"

#include <array>
#include <cctype>

#include "base/text.h"

namespace sw::audit {
namespace {

constexpr std::array<std::string_view, 7> kVerbs = {"accept", "defer", "deny", "discard", "drop", "require", "warn"};

bool is_verb(std::string_view word) {
  for (std::string_view v : kVerbs)
    if (word == v) return true;
  return false;
}

std::string_view first_word(std::string_view s) {
  size_t end = 0;
  while (end < s.size() && !std::isspace(static_cast<unsigned char>(s[end])) && s[end] != '=') ++end;
  return s.substr(0, end);
}

// "name = value", "!name = value", "set acl_m_x = 1", "endpass". Parses one condition off the
// front of `text` (the value runs to the end of the logical line).
bool parse_condition(std::string_view text, AclCondition* out) {
  text = trim(text);
  if (text.empty()) return false;
  out->negated = text.front() == '!';
  if (out->negated) text = trim(text.substr(1));
  std::string_view name = first_word(text);
  if (name.empty()) return false;
  out->name = std::string(name);
  std::string_view rest = trim(text.substr(name.size()));
  if (name == "set") {  // set acl_m_x = value
    out->value = std::string(rest);
    return true;
  }
  if (!rest.empty() && rest.front() == '=') rest = trim(rest.substr(1));
  out->value = std::string(rest);
  return true;
}

// `# 12 "/etc/exim4/conf.d/acl/30_exim4-config_check_rcpt"` (a line marker of -bP config).
bool parse_line_marker(std::string_view line, int* number, std::string* file) {
  if (!line.starts_with("# ")) return false;
  line.remove_prefix(2);
  int n = 0;
  size_t i = 0;
  while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])) && n < 100000000)
    n = n * 10 + (line[i++] - '0');
  if (i == 0 || i + 2 > line.size() || line[i] != ' ' || line[i + 1] != '"') return false;
  size_t close = line.find('"', i + 2);
  if (close == std::string_view::npos) return false;
  *number = n;
  *file = std::string(line.substr(i + 2, close - i - 2));
  return true;
}

bool references_only_client_data(std::string_view value) {
  for (std::string_view v : {"$domain", "$local_part", "$authenticated_id", "$received_port", "$interface",
                             "$received_ip_address", "${domain", "${local_part"})
    if (value.find(v) != std::string_view::npos) return false;
  return true;
}

bool matches_any_host(std::string_view value) {
  value = trim(value);
  return value == "*" || value == "0.0.0.0/0" || value == "::/0" || value == "<; 0.0.0.0/0 ; ::/0" ||
         value.find("0.0.0.0/0") != std::string_view::npos;
}

// Whether the condition alone (without an authenticated or recipient-domain test) is one
// the client controls: the sender, a sender-derived flag, its HELO, or any host at all.
bool is_client_controlled(const AclCondition& c, bool* restricting) {
  *restricting = false;
  if (c.name == "sender_domains" || c.name == "senders") return !c.negated;
  if (c.name == "condition") return references_only_client_data(c.value);
  if (c.name == "hosts" && !c.negated && matches_any_host(c.value)) return true;
  if (c.name == "verify") return c.value.starts_with("helo") || c.value.starts_with("sender");
  *restricting = true;
  return false;
}

}  // namespace

const AclCondition* AclStatement::find(std::string_view name) const {
  for (const AclCondition& c : conditions)
    if (c.name == name) return &c;
  return nullptr;
}

bool is_modifier(std::string_view name) {
  for (std::string_view m : {"message", "log_message", "logwrite", "set", "control", "delay", "add_header",
                             "remove_header", "log_reject_target", "udpsend", "queue", "continue", "debug", "endpass"})
    if (name == m) return true;
  return false;
}

std::vector<Acl> read_acls(std::string_view text, std::string_view source_name) {
  std::vector<Acl> acls;
  bool in_acl_section = false;
  std::string file(source_name);
  int line_number = 0;
  int marker_base = -1;  // with markers, the file line of the next text line
  size_t pos = 0;
  std::string logical;
  int logical_line = 0;
  auto handle = [&](std::string_view line, int at) {
    line = trim(line);
    if (line.empty() || line.front() == '#') return;
    std::string_view word = first_word(line);
    if (word == "begin") {
      in_acl_section = trim(line.substr(5)) == "acl";
      return;
    }
    if (!in_acl_section) return;
    if (line.back() == ':' && line.find_first_of(" \t=") == std::string_view::npos) {
      acls.push_back({std::string(line.substr(0, line.size() - 1)), {}});
      return;
    }
    if (acls.empty()) return;
    if (is_verb(word) && (line.size() == word.size() || std::isspace(static_cast<unsigned char>(line[word.size()])))) {
      acls.back().statements.push_back({std::string(word), {}, file, at});
      line = trim(line.substr(word.size()));
      if (line.empty()) return;
    }
    if (acls.back().statements.empty()) return;
    // Macro definitions that -bP config prints inside a section start with a capital.
    if (std::isupper(static_cast<unsigned char>(line.front()))) return;
    AclCondition condition;
    if (parse_condition(line, &condition)) acls.back().statements.back().conditions.push_back(std::move(condition));
  };
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    int marker_line = 0;
    std::string marker_file;
    if (parse_line_marker(line, &marker_line, &marker_file)) {
      file = marker_file;
      marker_base = marker_line;
      continue;
    }
    int at = marker_base > 0 ? marker_base++ : line_number;
    if (logical.empty()) logical_line = at;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\\') {  // continued on the next line
      logical += std::string(line.substr(0, line.size() - 1)) + " ";
      if (logical.size() > (1u << 20)) logical.clear();
      continue;
    }
    if (!logical.empty()) {
      logical += std::string(trim(line));
      handle(logical, logical_line);
      logical.clear();
    } else {
      handle(line, at);
    }
  }
  if (!logical.empty()) handle(logical, logical_line);
  return acls;
}

const Acl* find_acl(const std::vector<Acl>& acls, std::string_view name) {
  for (const Acl& acl : acls)
    if (acl.name == name) return &acl;
  return nullptr;
}

RelayGateAnalysis analyse_relay_gate(const Acl& acl) {
  RelayGateAnalysis result;
  for (size_t i = 0; i < acl.statements.size() && result.gate < 0; ++i) {
    const AclStatement& s = acl.statements[i];
    const AclCondition* domains = s.find("domains");
    bool negated_domains = domains && (domains->negated || trim(domains->value).starts_with("!"));
    bool only_domains = true;
    for (const AclCondition& c : s.conditions)
      if (c.name != "domains" && !is_modifier(c.name) && !(c.name == "authenticated" && c.negated) &&
          !(c.name == "hosts" && c.negated))
        only_domains = false;
    if (domains && only_domains && ((s.verb == "require" && !negated_domains) || (s.verb == "deny" && negated_domains)))
      result.gate = int(i);
  }
  size_t end = result.gate < 0 ? acl.statements.size() : size_t(result.gate);
  for (size_t i = 0; i < end; ++i) {
    const AclStatement& s = acl.statements[i];
    if (s.verb != "accept") continue;
    bool restricted = false;
    std::string why;
    for (const AclCondition& c : s.conditions) {
      if (is_modifier(c.name)) continue;
      bool restricting = false;
      if (is_client_controlled(c, &restricting)) why += (why.empty() ? "" : ", ") + c.name;
      if (restricting) restricted = true;
    }
    if (restricted) continue;
    if (why.empty()) why = "no condition";
    result.early_accepts.push_back(int(i));
    result.why.push_back(why);
    for (const AclCondition& c : s.conditions)
      if ((c.name == "sender_domains" || c.name == "senders") && !c.negated)
        result.sender_list_values.push_back(c.value);
  }
  return result;
}

std::string statement_text(const AclStatement& s, size_t max_length) {
  std::string text = s.verb;
  for (const AclCondition& c : s.conditions) {
    text += " " + std::string(c.negated ? "!" : "") + c.name + (c.name == "set" ? " " : " = ") + c.value;
    if (text.size() > max_length) return text.substr(0, max_length - 3) + "...";
  }
  return text;
}

namespace {
std::string squeeze(std::string_view s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}
}  // namespace

int locate_statement(std::string_view file_text, const AclStatement& statement, int from_line) {
  if (statement.conditions.empty()) return 0;
  const AclCondition& first = statement.conditions.front();
  std::string wanted =
      squeeze((first.negated ? "!" : "") + first.name + (first.name == "set" ? " " : "=") + first.value);
  std::string verb_wanted = squeeze(statement.verb + " ");
  int line_number = 0, verb_line = 0;
  size_t pos = 0;
  while (pos < file_text.size()) {
    size_t end = file_text.find('\n', pos);
    if (end == std::string_view::npos) end = file_text.size();
    std::string line = squeeze(file_text.substr(pos, end - pos));
    pos = end + 1;
    ++line_number;
    if (line_number <= from_line || line.empty() || line.front() == '#') continue;
    if (line.starts_with(verb_wanted)) {
      verb_line = line_number;
      line.erase(0, verb_wanted.size());
    }
    if (verb_line && line == wanted) return verb_line;
  }
  return 0;
}

}  // namespace sw::audit
