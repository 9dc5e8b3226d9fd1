#include "weblog/web_requests.h"

#include <fmt/format.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "base/text.h"
#include "logio/byte_source.h"
#include "weblog/access_log.h"

namespace sw::weblog {
namespace {

namespace fs = std::filesystem;
constexpr size_t kTopRows = 10;
constexpr size_t kBlockedIps = 10;

std::vector<std::string> glob_paths(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  ::globfree(&g);
  return out;
}

bool is_access_log_name(std::string_view name) {
  return name.find("bytes_log") == std::string_view::npos && name.find("ftp_log") == std::string_view::npos &&
         name.find("error") == std::string_view::npos && !name.starts_with(".");
}

// Regular files in a directory (through links: access-logs/ is one), sorted.
void files_in(const std::string& dir, std::vector<std::string>& out) {
  std::error_code ec;
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && is_access_log_name(e.path().filename().string())) found.push_back(e.path());
  std::sort(found.begin(), found.end());
  out.insert(out.end(), found.begin(), found.end());
}

// The domains of a cPanel account: /etc/userdomains lines "domain: login".
std::vector<std::string> account_domains(const std::string& root, std::string_view login) {
  std::vector<std::string> out;
  std::ifstream in(root + "/etc/userdomains");
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos || trim(std::string_view(line).substr(colon + 1)) != login) continue;
    std::string domain(trim(std::string_view(line).substr(0, colon)));
    if (!domain.empty() && domain != "*" && domain.find('/') == std::string::npos) out.push_back(domain);
  }
  return out;
}

void add_count(std::map<std::string, uint64_t>& m, std::string key) { ++m[std::move(key)]; }

std::vector<std::pair<std::string, uint64_t>> top_of(const std::map<std::string, uint64_t>& m, size_t top) {
  std::vector<std::pair<std::string, uint64_t>> rows(m.begin(), m.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (top && rows.size() > top) rows.resize(top);
  return rows;
}

bool is_own_address(std::string_view ip) { return ip.starts_with("127.") || ip == "::1" || ip == "localhost"; }

// The IPs worth a block command: the most active, not the server itself.
std::vector<std::string> ips_to_block(const WebRequests& w) {
  std::vector<std::string> out;
  for (const auto& [ip, n] : top_of(w.client_ips, 0)) {
    if (is_own_address(ip)) continue;
    out.push_back(ip);
    if (out.size() == kBlockedIps) break;
  }
  return out;
}

// Whether the path names a file directly in the directory at `url_path` ("/x/" itself too).
bool in_directory(std::string_view path, std::string_view url_path) {
  if (!path.starts_with(url_path) || path.size() <= url_path.size() || path[url_path.size()] != '/') return false;
  std::string_view rest = path.substr(url_path.size() + 1);
  return rest.find('/') == std::string_view::npos;
}

}  // namespace

std::optional<std::string> url_path_of(std::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  // The docroot is where the marker ends a path component: the URL path is what follows.
  auto after = [&](std::string_view marker) -> std::optional<std::string> {
    for (size_t at = dir.find(marker); at != std::string_view::npos; at = dir.find(marker, at + 1)) {
      size_t end = at + marker.size();
      if (end == dir.size() || dir[end] == '/') return std::string(dir.substr(end));
    }
    return std::nullopt;
  };
  for (std::string_view marker : {"/public_html", "/httpdocs", "/htdocs", "/var/www/html"})
    if (auto url = after(marker)) return url;
  for (std::string_view base : {"/var/www/", "/srv/www/"}) {
    if (!dir.starts_with(base)) continue;
    size_t site_end = dir.find('/', base.size());
    return site_end == std::string_view::npos ? std::string() : std::string(dir.substr(site_end));
  }
  if (dir.starts_with("/home")) return after("/www");  // cPanel's link to public_html
  return std::nullopt;
}

std::vector<std::string> find_access_logs(const std::string& root, std::string_view login,
                                          const std::vector<std::string>& configured) {
  std::vector<std::string> candidates;
  if (!configured.empty()) {
    for (const auto& c : configured) {
      std::error_code ec;
      if (fs::is_directory(c, ec)) files_in(c, candidates);
      else
        for (const auto& p : glob_paths(c)) candidates.push_back(p);
    }
  } else {
    std::string user(login);
    if (!user.empty()) {
      files_in(root + "/home/" + user + "/access-logs", candidates);
      for (const char* domlogs : {"/usr/local/apache/domlogs", "/etc/apache2/logs/domlogs"}) {
        files_in(root + domlogs + "/" + user, candidates);
        for (const auto& domain : account_domains(root, user))
          for (const auto& p : glob_paths(root + domlogs + "/" + domain + "*"))
            if (is_access_log_name(p)) candidates.push_back(p);
      }
      for (const auto& p : glob_paths(root + "/home/" + user + "/logs/*.gz"))
        if (is_access_log_name(p)) candidates.push_back(p);
    }
    for (const char* pattern : {"/var/log/apache2/*access.log*", "/var/log/nginx/*access.log*"})
      for (const auto& p : glob_paths(root + pattern)) candidates.push_back(p);
  }
  std::set<std::pair<dev_t, ino_t>> seen;
  std::vector<std::string> out;
  for (const auto& p : candidates) {
    struct stat st;
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (seen.insert({st.st_dev, st.st_ino}).second) out.push_back(p);
  }
  return out;
}

bool is_cpanel(const std::string& root) {
  std::error_code ec;
  return fs::exists(root + "/usr/local/cpanel", ec) || fs::exists(root + "/etc/csf/csf.conf", ec);
}

std::string block_command(std::string_view ip, bool cpanel, std::string_view why) {
  if (cpanel) return fmt::format("csf -d {} {}", shell_quote(ip), shell_quote(why));
  bool v6 = ip.find(':') != std::string_view::npos;
  return fmt::format("{} -I INPUT -s {} -j DROP", v6 ? "ip6tables" : "iptables", shell_quote(ip));
}

WebRequests web_requests(const std::vector<std::string>& logs, std::string_view directory, CivilSeconds from,
                         CivilSeconds to) {
  WebRequests w;
  w.directory = directory;
  w.from = from, w.to = to;
  auto url = url_path_of(directory);
  if (!url) {
    w.warnings.push_back(
        fmt::format("{}: no document root in the path (public_html, httpdocs, htdocs, /var/www/...): "
                    "its URL is unknown",
                    directory));
    return w;
  }
  w.url_path = *url;
  AccessEntry e;
  for (size_t i = 0; i < logs.size(); ++i) {
    try {
      auto src = logio::open_source(logs[i], i);
      w.logs.push_back(src->name());
      uint64_t lines_before = w.lines;
      for (logio::Block b = src->next_block(); !b.bytes.empty(); b = src->next_block()) {
        for (size_t pos = 0; pos < b.bytes.size();) {
          size_t nl = b.bytes.find('\n', pos);
          if (nl == std::string_view::npos) nl = b.bytes.size();
          std::string_view line = b.bytes.substr(pos, nl - pos);
          pos = nl + 1;
          if (line.empty()) continue;
          ++w.lines;
          if (!parse_access_line(line, e)) {
            ++w.bad_lines;
            continue;
          }
          if (e.time < from || e.time > to || e.target.empty()) continue;
          std::string path = target_path(e.target);
          if (!in_directory(path, w.url_path)) continue;
          ++w.requests;
          if (w.first == 0 || e.time < w.first) w.first = e.time;
          w.last = std::max(w.last, e.time);
          add_count(w.files, printable(path, 200));
          add_count(w.client_ips, printable(e.client, 100));
          add_count(w.methods, printable(e.method, 20));
          add_count(w.user_agents, e.combined ? unescape_field(e.user_agent) : "(not logged)");
          add_count(w.statuses, std::to_string(e.status));
        }
      }
      if (std::string why = src->shortfall(w.lines - lines_before); !why.empty()) w.warnings.push_back(why);
    } catch (const logio::InputError& err) {
      w.warnings.push_back(err.what());
    }
  }
  return w;
}

nlohmann::json web_requests_json(const WebRequests& w, bool cpanel) {
  auto rows = [](const std::map<std::string, uint64_t>& m, const char* name) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [key, n] : top_of(m, 0)) list.push_back({{name, key}, {"requests", n}});
    return list;
  };
  nlohmann::json block = nlohmann::json::array();
  for (const auto& ip : ips_to_block(w)) block.push_back(block_command(ip, cpanel, "spamwarden: " + w.directory));
  return {{"directory", w.directory},
          {"url_path", w.url_path + "/"},
          {"from", format_civil(w.from)},
          {"to", format_civil(w.to)},
          {"access_logs", w.logs},
          {"warnings", w.warnings},
          {"lines", w.lines},
          {"bad_lines", w.bad_lines},
          {"requests", w.requests},
          {"first", w.first ? format_civil(w.first) : ""},
          {"last", w.last ? format_civil(w.last) : ""},
          {"files", rows(w.files, "path")},
          {"client_ips", rows(w.client_ips, "ip")},
          {"methods", rows(w.methods, "method")},
          {"user_agents", rows(w.user_agents, "user_agent")},
          {"statuses", rows(w.statuses, "status")},
          {"block_commands", block}};
}

std::string web_requests_text(const WebRequests& w, bool cpanel) {
  std::string out = fmt::format("\nweb requests for {}/ ({}) from {} to {}\n", fit_columns(w.url_path, 50),
                                fit_columns(w.directory, 60), format_civil(w.from), format_civil(w.to).substr(11));
  for (const auto& warning : w.warnings) out += "  warning: " + fit_columns(warning, 88) + "\n";
  if (w.logs.empty()) {
    out += "  no access log found for the account (give them with --access-logs or [paths] access_logs)\n";
    return out;
  }
  out += fmt::format("  {} requests in {} access log(s) ({} lines, {} not understood)", w.requests, w.logs.size(),
                     w.lines, w.bad_lines);
  if (w.requests) out += fmt::format(", {} to {}", format_civil(w.first), format_civil(w.last).substr(11));
  out += "\n";
  if (!w.requests) return out;
  auto table = [&](const char* title, const std::map<std::string, uint64_t>& m) {
    auto rows = top_of(m, kTopRows);
    out += fmt::format("  {} ({}):\n", title, m.size());
    for (const auto& [key, n] : rows) out += fmt::format("    {:>7}  {}\n", n, fit_columns(key, 86));
  };
  table("files", w.files);
  table("client IPs", w.client_ips);
  table("methods", w.methods);
  table("user agents", w.user_agents);
  out += "  block the clients:\n";
  for (const auto& ip : ips_to_block(w))
    out += "    " + printable(block_command(ip, cpanel, "spamwarden: " + w.directory)) + "\n";
  return out;
}

}  // namespace sw::weblog
