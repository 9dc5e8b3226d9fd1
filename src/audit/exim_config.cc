#include "audit/exim_config.h"

#include <fstream>
#include <sstream>

#include "base/text.h"

namespace sw::audit {
namespace {

bool read_text_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return !in.bad();
}

}  // namespace

std::map<std::string, std::string> parse_bp_options(std::string_view output) {
  std::map<std::string, std::string> options;
  size_t pos = 0;
  while (pos < output.size()) {
    size_t end = output.find('\n', pos);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = trim(output.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty()) continue;
    size_t eq = line.find(" = ");
    std::string_view name = eq == std::string_view::npos ? line : line.substr(0, eq);
    std::string value = eq == std::string_view::npos ? "" : std::string(trim(line.substr(eq + 3)));
    if (line.ends_with(" =")) name = trim(line.substr(0, line.size() - 2));
    for (std::string_view kind : {"domainlist ", "hostlist ", "addresslist ", "localpartlist "})
      if (name.starts_with(kind)) {
        options["+" + std::string(trim(name.substr(kind.size())))] = value;
        name = {};
      }
    if (name.empty() || name.find(' ') != std::string_view::npos) continue;
    if (eq == std::string_view::npos && !line.ends_with(" =")) {
      if (name.starts_with("no_")) options[std::string(name.substr(3))] = "false";
      else options[std::string(name)] = "true";
    } else {
      options[std::string(name)] = value;
    }
  }
  return options;
}

std::vector<std::string> split_exim_list(std::string_view list) {
  std::vector<std::string> items;
  list = trim(list);
  char sep = ':';
  if (list.size() >= 2 && list[0] == '<' && !std::isalnum(static_cast<unsigned char>(list[1])) && list[1] != ' ') {
    sep = list[1];
    list.remove_prefix(2);
  }
  std::string item;
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] == sep) {
      if (sep == ':' && i + 1 < list.size() && list[i + 1] == ':') {
        item += ':';
        ++i;
        continue;
      }
      if (!trim(item).empty()) items.emplace_back(trim(item));
      item.clear();
    } else {
      item += list[i];
    }
  }
  if (!trim(item).empty()) items.emplace_back(trim(item));
  return items;
}

std::optional<std::string> lookup_file_of(std::string_view item) {
  size_t semi = item.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  std::string_view type = trim(item.substr(0, semi));
  if (!(type.ends_with("lsearch") || type == "cdb" || type == "dbm" || type == "dbmnz")) return std::nullopt;
  std::string_view file = trim(item.substr(semi + 1));
  if (file.empty() || file.front() != '/' || file.find('$') != std::string_view::npos) return std::nullopt;
  return std::string(file);
}

std::vector<std::string> lookup_file_keys(std::string_view text) {
  std::vector<std::string> keys;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line.front() == ' ' || line.front() == '\t') continue;  // continuation
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    std::string_view key = line;
    if (key.front() == '"') {
      size_t close = key.find('"', 1);
      key = close == std::string_view::npos ? key.substr(1) : key.substr(1, close - 1);
    } else {
      size_t stop = key.find_first_of(" \t:");
      if (stop != std::string_view::npos) key = key.substr(0, stop);
    }
    if (!key.empty()) keys.emplace_back(key);
  }
  return keys;
}

std::vector<std::string> expand_list_items(const std::string& value, std::vector<std::string>* unreadable) {
  std::vector<std::string> out;
  for (const std::string& item : split_exim_list(value)) {
    if (auto file = lookup_file_of(item)) {
      std::string text;
      if (!read_text_file(*file, &text)) {
        if (unreadable) unreadable->push_back(*file);
        continue;
      }
      for (std::string& key : lookup_file_keys(text)) out.push_back(std::move(key));
    } else {
      out.push_back(item);
    }
  }
  return out;
}

EximFacts gather_exim_facts(const Exim& exim, const std::vector<std::string>& lists) {
  EximFacts facts;
  ProcessResult check = exim.run({"-bV"});
  if (check.exit_code != 0) {
    std::string both = check.err + check.out;
    std::string why = !check.spawn_error.empty() ? check.spawn_error : std::string(trim(both));
    if (check.timed_out) why = "exim -bV did not finish in time";
    facts.error = "the Exim configuration does not load (exim -bV): " + why;
    return facts;
  }
  ProcessResult config = exim.run({"-bP", "config"});
  if (config.exit_code != 0 || config.out.empty()) {
    // Without the config text no ACL can be read: every ACL check would report a missing ACL.
    std::string why = std::string(trim(config.err + config.out));
    if (config.timed_out) why = "did not finish in time";
    facts.error =
        "exim -bV works but exim -bP config fails (needs root or an admin user?): " + (why.empty() ? "no output" : why);
    return facts;
  }
  facts.config_text = config.out;
  std::vector<std::string> args = {"-bP",
                                   "primary_hostname",
                                   "qualify_domain",
                                   "log_selector",
                                   "percent_hack_domains",
                                   "allow_domain_literals",
                                   "daemon_smtp_ports",
                                   "tls_on_connect_ports",
                                   "local_interfaces",
                                   "acl_smtp_connect",
                                   "acl_smtp_helo",
                                   "acl_smtp_mail",
                                   "acl_smtp_rcpt",
                                   "acl_smtp_data",
                                   "acl_not_smtp",
                                   "recipient_unqualified_hosts"};
  facts.options = parse_bp_options(exim.run(args).out);
  for (const std::string& list : lists) {
    ProcessResult reply = exim.run({"-bP", "+" + list});
    if (reply.exit_code == 0)
      for (auto& [k, v] : parse_bp_options(reply.out)) facts.options[k] = v;
  }
  facts.usable = !facts.options.empty();
  if (!facts.usable) facts.error = "exim -bP gave no options: " + std::string(trim(config.err));
  std::string primary = facts.option("primary_hostname");
  for (std::string& d : expand_list_items(facts.option("+local_domains"), &facts.unreadable)) {
    if (d == "@") d = primary;
    if (d.empty() || d.front() == '!' || d.find_first_of("*^$;[") != std::string::npos || d == "@[]") continue;
    facts.local_domains.push_back(sw::to_lower(d));
  }
  return facts;
}

}  // namespace sw::audit
