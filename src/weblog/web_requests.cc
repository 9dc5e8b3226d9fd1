#include "weblog/web_requests.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "base/ip_cidr.h"
#include "base/text.h"
#include "logio/byte_source.h"
#include "weblog/access_log.h"

namespace sw::weblog {
namespace {

namespace fs = std::filesystem;
constexpr size_t kTopRows = 10;
constexpr size_t kJsonRows = 100;
constexpr size_t kBlockedIps = 10;
constexpr size_t kNotBlockedShown = 5;
// The request that starts a mailer comes just before its first message: a call that early is
// the burst's own.
constexpr CivilSeconds kLead = 120;

// The key a client is counted under: an address as inet_ntop writes it ("2001:DB8:0:0::50" is
// "2001:db8::50"), an IPv4-mapped one as IPv4 (one client on a dual-stack socket or not).
std::string client_key(std::string_view client) {
  auto ip = parse_ip(client);
  return ip ? format_ip(without_v4_mapping(*ip)) : printable(client, 100);
}

// A line that reads two ways counts under both candidates, "A or B": no address, so never a
// block command (either could be one the other framed).
constexpr std::string_view kOr = " or ";
std::string two_way_key(const AccessEntry& e) {
  return client_key(e.client) + std::string(kOr) + client_key(e.other_client);
}
bool is_two_way_key(std::string_view client) { return client.find(kOr) != std::string_view::npos; }

std::vector<std::string> glob_paths(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  ::globfree(&g);
  return out;
}

// By the file's own name (not its directory's: a root such as ./copy or /srv/error-cases).
bool is_access_log_name(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  if (name.starts_with(".")) return false;
  // cPanel's log processing leaves copies of the logs (".bkup", ".bkup2": read too, they
  // counted each request three times) and its read positions (".offset") beside them.
  if (name.ends_with(".offset")) return false;
  if (size_t copy = name.rfind(".bkup");
      copy != std::string::npos && std::all_of(name.begin() + long(copy) + 5, name.end(), is_digit))
    return false;
  // cPanel's -bytes_log and -ftp_log, and error logs: "error_log", "error.log.1",
  // "site-error_log-Nov-2026.gz" (not a domain "error.logic.example").
  for (std::string_view other : {"bytes_log", "ftp_log", "error_log", "error.log"})
    for (size_t at = name.find(other); at != std::string::npos; at = name.find(other, at + 1)) {
      size_t end = at + other.size();
      bool digit_next = end + 1 < name.size() && is_digit(name[end + 1]);
      if (end == name.size() || name[end] == '-' || name[end] == '_' ||
          (name[end] == '.' && (digit_next || name.compare(end, 3, ".gz") == 0)))
        return false;
    }
  return true;
}

// Whether a file is one of a domain's own logs as cPanel names them: "addon.example",
// "addon.example-ssl_log", archived "addon.example-Nov-2026.gz" and
// "addon.example-ssl_log-Nov-2026.gz" (not "addon.example-b.com", another domain).
bool is_log_of_domain(const std::string& path, std::string_view domain) {
  std::string name = fs::path(path).filename().string();
  if (!name.starts_with(domain)) return false;
  std::string_view rest = std::string_view(name).substr(domain.size());
  if (rest.starts_with("-ssl_log")) rest.remove_prefix(8);
  if (rest.empty()) return true;
  auto alpha = [](char c) { return ascii_lower(c) >= 'a' && ascii_lower(c) <= 'z'; };
  return rest.size() == 12 && rest[0] == '-' && alpha(rest[1]) && alpha(rest[2]) && alpha(rest[3]) && rest[4] == '-' &&
         is_digit(rest[5]) && is_digit(rest[6]) && is_digit(rest[7]) && is_digit(rest[8]) && rest.substr(9) == ".gz";
}

// Regular files in a directory (through links), sorted.
void files_in(const std::string& dir, bool in_account, std::vector<AccessLogFile>& out) {
  std::error_code ec;
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && is_access_log_name(e.path())) found.push_back(e.path());
  std::sort(found.begin(), found.end());
  for (auto& p : found) out.push_back({std::move(p), false, in_account});
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

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) out.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// The document roots of a cPanel account's domains, from its userdata files (root's, as
// cPanel writes them: "servername: DOMAIN" and "documentroot: PATH" lines, among others). The
// _SSL twins, the cache and the "main" index are skipped.
std::vector<Docroot> account_docroots(const std::string& root, std::string_view login) {
  std::vector<Docroot> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root + "/var/cpanel/userdata/" + std::string(login), ec)) {
    std::string name = e.path().filename().string();
    if (name == "main" || name == "cache" || name.ends_with("_SSL") || name.find('.') == std::string::npos ||
        name.ends_with(".cache") || name.ends_with(".json") || name.ends_with(".yaml") || !e.is_regular_file(ec))
      continue;
    std::ifstream in(e.path());
    Docroot d;
    std::string line;
    for (int n = 0; n < 1000 && std::getline(in, line); ++n) {
      auto value = [&](std::string_view key) -> std::optional<std::string> {
        if (!line.starts_with(key)) return std::nullopt;
        std::string v(trim(std::string_view(line).substr(key.size())));
        if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front())
          v = v.substr(1, v.size() - 2);
        return v;
      };
      if (auto v = value("servername:")) d.domain = *v;
      else if (auto v = value("documentroot:")) d.path = *v;
      else if (auto v = value("serveralias:")) d.aliases = split_words(*v);
    }
    while (d.path.size() > 1 && d.path.back() == '/') d.path.pop_back();
    if (!d.domain.empty() && d.path.starts_with('/')) out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](const Docroot& a, const Docroot& b) { return a.domain < b.domain; });
  return out;
}

// A directory in the account's home (the account can replace it, not the home above it), or
// nullopt (and why) when it is a link that leads elsewhere than to one of `allowed` (cPanel's
// access-logs/ links to domlogs/LOGIN/): then the directory it leads to.
std::optional<std::string> account_dir(const std::string& dir, const std::vector<std::string>& allowed,
                                       std::vector<std::string>& warnings) {
  std::error_code ec;
  auto st = fs::symlink_status(dir, ec);
  if (ec || !fs::exists(st)) return std::nullopt;
  if (!fs::is_symlink(st)) return fs::is_directory(st) ? std::optional<std::string>(dir) : std::nullopt;
  fs::path real = fs::canonical(dir, ec);
  if (ec) return std::nullopt;
  for (const auto& a : allowed)
    if (fs::path base = fs::weakly_canonical(a, ec); !ec && real == base) return real.string();
  warnings.push_back(
      fmt::format("{}: not followed: a link the account can change, to {} (not a web server's "
                  "log directory)",
                  dir, real.string()));
  return std::nullopt;
}

std::string times(uint64_t n) { return n == 1 ? "once" : fmt::format("{} times", n); }

// Why a caller of the directory's scripts is not taken for the mailer's driver, or "" when it
// is: its calls concentrated in the burst, not a steady caller before and after it at the
// same rate, not a visitor who browsed the site, not a crawler's GETs.
std::string not_the_driver(const WebRequests& w, const std::string& client) {
  auto it = w.clients.find(client);
  if (it == w.clients.end())
    return fmt::format("not judged: the logs had more than {} clients, no room to record what it did",
                       WebRequests::kMaxClients);
  const auto& c = it->second;
  uint64_t outside = c.before + c.after, calls = outside + c.in_burst;
  if (c.crawler_only && c.posts == 0) return "a crawler's GETs (its agent names a search engine's crawler)";
  if (c.pages >= 3 && 2 * c.pages >= calls) return fmt::format("also browsed {} pages: a visitor", c.pages);
  if (c.in_burst == 0) return fmt::format("called it {}, none during the burst", times(outside));
  // Steady: at least half the burst's rate in the margins (a site's own heartbeat or cron).
  int64_t burst_seconds = std::max<int64_t>(w.burst_last - w.burst_first, 60);
  int64_t outside_seconds = (w.burst_first - w.from) + (w.to - w.burst_last);
  if (outside >= 2 && outside_seconds > 0 &&
      2 * int64_t(outside) * burst_seconds >= int64_t(c.in_burst) * outside_seconds)
    return fmt::format("called it {} times before and after the burst, as often as during it ({}): steady", outside,
                       c.in_burst);
  return {};
}

// What a command blocks: a driver's address, or the /64 of several drivers.
struct BlockTarget {
  std::string address;
  size_t drivers = 1;
};

// The clients worth a block command, and those left out with why: the callers of the script
// the burst's drivers called most, and of any other they called at least half as often (at
// most three), and those of the most requested script.
struct Blocks {
  std::vector<std::string> scripts;
  std::vector<BlockTarget> targets;          // the first kBlockedIps, the busiest first
  std::vector<BlockTarget> unlisted;         // the drivers past them: run again once those are blocked
  std::vector<std::string> already_blocked;  // drivers the firewall's deny list holds
  std::vector<std::pair<std::string, std::string>> not_blocked;  // client, why: the first kJsonRows
  size_t not_blocked_left_out = 0;
};

// Each caller's verdict, once: "" when it is blocked, else why not.
using Verdicts = std::map<std::string, std::string, std::less<>>;
const std::string& verdict(const WebRequests& w, std::string_view client, Verdicts& verdicts) {
  auto it = verdicts.find(client);
  if (it != verdicts.end()) return it->second;
  std::string why;
  if (is_two_way_key(client))
    why =
        "its lines read two ways (the first address as the client, or the second through an X-Forwarded-For "
        "list) and the log's format does not tell which: either could be framed by the other";
  else if (blockable_address(client, w.own, &why)) why = not_the_driver(w, std::string(client));
  return verdicts.emplace(std::string(client), std::move(why)).first->second;
}

// The scripts ranked by their calls from clients that are blocked, then by the requests each
// surely had (count - over: a script that took the place of others in a full table does not
// outrank, with their requests, the one an attacker calls).
struct RankedScript {
  std::string key;
  uint64_t driver_calls = 0, sure = 0;
};
std::vector<RankedScript> scripts_by_drivers(const WebRequests& w, Verdicts& verdicts) {
  std::vector<RankedScript> ranked;
  for (const auto& s : w.scripts.top()) {
    ranked.push_back({std::string(s.key), 0, s.count - s.over});
    if (auto it = w.script_clients.find(s.key); it != w.script_clients.end())
      for (const auto& c : it->second.top())
        if (verdict(w, c.key, verdicts).empty()) ranked.back().driver_calls += c.count - c.over;
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const RankedScript& x, const RankedScript& y) {
    return std::tie(x.driver_calls, x.sure) > std::tie(y.driver_calls, y.sure);
  });
  return ranked;
}

// The drivers as the commands block them, in their order: IPv6 addresses by their /64 when
// several of one drove the mailer (a host given a /64 takes a new address of it for every
// request; the main log's findings take them together too), unless this server's own
// addresses are in it.
std::vector<BlockTarget> by_network(const std::vector<std::string>& drivers, const std::vector<std::string>& own,
                                    const Verdicts& verdicts) {
  // Not a /64 that holds one of ours, or a client judged not to be blocked (a visitor).
  std::set<std::string> spared;
  auto spare = [&spared](std::string_view client) {
    if (auto address = parse_ip(client); address && address->v6) spared.insert(format_cidr(range_of(*address, 64)));
  };
  for (const auto& mine : own) spare(mine);
  for (const auto& [client, why] : verdicts)
    if (!why.empty()) spare(client);
  auto network_of = [&](const std::string& driver) {
    auto ip = parse_ip(driver);
    if (!ip || !ip->v6) return driver;
    std::string network = format_cidr(range_of(*ip, 64));
    return spared.count(network) ? driver : network;
  };
  std::vector<std::string> networks;
  std::map<std::string, size_t> drivers_in;
  for (const auto& driver : drivers) ++drivers_in[networks.emplace_back(network_of(driver))];
  std::vector<BlockTarget> out;
  std::set<std::string> listed;
  for (size_t i = 0; i < drivers.size(); ++i) {
    size_t together = drivers_in[networks[i]];
    const std::string& address = together > 1 ? networks[i] : drivers[i];
    if (listed.insert(address).second) out.push_back({address, together});
  }
  return out;
}

void not_blocked(Blocks& b, std::string_view client, std::string why) {
  if (b.not_blocked.size() < kJsonRows) b.not_blocked.emplace_back(client, std::move(why));
  else ++b.not_blocked_left_out;
}

// The drivers of the scripts whose callers get no command, their drivers' calls under half the
// first script's (a brute-forcer's xmlrpc.php can outnumber the mailer): listed, with why, so
// the mailer's own callers show. `listed`: the callers already judged.
void drivers_of_other_scripts(const WebRequests& w, const std::vector<RankedScript>& scripts,
                              std::set<std::string_view> listed, Verdicts& verdicts, Blocks& b) {
  for (const auto& s : scripts) {
    auto it = w.script_clients.find(s.key);
    if (s.driver_calls == 0 || it == w.script_clients.end() ||
        std::find(b.scripts.begin(), b.scripts.end(), s.key) != b.scripts.end())
      continue;
    for (const auto& c : it->second.top())
      if (verdict(w, c.key, verdicts).empty() && listed.insert(c.key).second)
        not_blocked(b, c.key,
                    fmt::format("called {}, which the drivers called less than half as often as {}: only the "
                                "busiest scripts' callers are blocked (block it too if {} is the mailer)",
                                s.key, b.scripts.front(), s.key));
  }
}

Blocks blocks_of(const WebRequests& w) {
  Blocks b;
  Verdicts verdicts;
  auto scripts = scripts_by_drivers(w, verdicts);
  // By the drivers' calls when any script has them, else by all requests (to list who called).
  bool driven = !scripts.empty() && scripts.front().driver_calls > 0;
  auto weight = [&](const RankedScript& r) { return driven ? r.driver_calls : r.sure; };
  std::vector<std::string> asked;  // whose callers are listed
  for (const auto& s : scripts) {
    if (b.scripts.size() == 3 || weight(s) * 2 < weight(scripts.front())) break;
    b.scripts.push_back(s.key);
    asked.push_back(s.key);
  }
  if (auto top = w.scripts.top(1); !top.empty() && std::find(asked.begin(), asked.end(), top[0].key) == asked.end())
    asked.emplace_back(top[0].key);
  std::map<std::string_view, uint64_t> callers;
  for (const std::string& script : asked)
    if (auto it = w.script_clients.find(script); it != w.script_clients.end())
      for (const auto& c : it->second.top()) callers[c.key] += c.count - c.over;
  std::vector<std::pair<std::string_view, uint64_t>> by_count(callers.begin(), callers.end());
  std::stable_sort(by_count.begin(), by_count.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  std::vector<std::string> drivers;
  for (const auto& [client, n] : by_count) {
    const std::string& why = verdict(w, client, verdicts);
    if (!why.empty()) {
      not_blocked(b, client, why);
    } else if (auto ip = blockable_address(client, w.own, nullptr); is_denied(*ip, w.denied)) {
      b.already_blocked.push_back(*ip);
    } else if (std::find(drivers.begin(), drivers.end(), *ip) == drivers.end()) {
      drivers.push_back(*ip);
    }
  }
  for (auto& target : by_network(drivers, w.own, verdicts))
    (b.targets.size() < kBlockedIps ? b.targets : b.unlisted).push_back(std::move(target));
  std::set<std::string_view> listed;
  for (const auto& [client, n] : by_count) listed.insert(client);
  drivers_of_other_scripts(w, scripts, std::move(listed), verdicts, b);
  return b;
}

// The addon domain whose docroot holds `dir` (public_html/DOMAIN/...): one of `domains`, or a
// directory named like a host when they are not known (a wrong guess costs nothing: no log
// or vhost has its name), and the directory's URL path on that domain's own host.
std::optional<std::pair<std::string, std::string>> addon_of(std::string_view dir,
                                                            const std::vector<std::string>& domains) {
  constexpr std::string_view kDocroot = "/public_html/";
  size_t at = dir.find(kDocroot);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = dir.substr(at + kDocroot.size());
  size_t slash = rest.find('/');
  std::string_view first = rest.substr(0, slash);
  bool named_like_host = first.find('.') != std::string_view::npos && !first.starts_with('.');
  if (domains.empty() ? !named_like_host : std::find(domains.begin(), domains.end(), first) == domains.end())
    return std::nullopt;
  std::string url(slash == std::string_view::npos ? "" : rest.substr(slash));
  while (!url.empty() && url.back() == '/') url.pop_back();
  return std::pair{std::string(first), url};
}

// The URL path of `dir` under the docroot `root` ("" for the docroot itself), or nullopt when
// the docroot does not hold it.
std::optional<std::string> url_under(std::string_view dir, std::string_view root) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  if (dir != root && !(dir.starts_with(root) && dir[root.size()] == '/')) return std::nullopt;
  return std::string(dir.substr(root.size()));
}

// The host whose docroot holds `dir` most closely (shown by its name), and the directory's URL
// path there.
std::optional<std::pair<std::string, std::string>> docroot_of(std::string_view dir, const std::vector<Docroot>& roots) {
  std::optional<std::pair<std::string, std::string>> best;
  for (const auto& r : roots)
    if (auto url = url_under(dir, r.path); url && (!best || url->size() < best->second.size()))
      best = std::pair{r.shown(), *url};
  return best;
}

// A path with its links resolved, as getcwd (and so Exim's cwd=) writes it: /home/u/www is
// /home/u/public_html, /home a link to /data/home.
std::string resolved(std::string_view path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  return ec ? std::string(path) : p.string();
}

// Whether the path names a file directly in the directory at `url_path` ("/x/" itself too).
bool in_directory(std::string_view path, std::string_view url_path) {
  if (!path.starts_with(url_path) || path.size() <= url_path.size() || path[url_path.size()] != '/') return false;
  std::string_view rest = path.substr(url_path.size() + 1);
  return rest.find('/') == std::string_view::npos;
}

// An access log opened for reading: a found one never blocks (a FIFO put in its place) and,
// in the account's directories, is not reached through a link and must be root's alone.
std::unique_ptr<logio::ByteSource> open_access_log(const AccessLogFile& f, size_t index) {
  struct stat st;
  if (f.named && ::stat(f.path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) return logio::open_source(f.path, index);
  int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | (f.in_account ? O_NOFOLLOW : 0));
  if (fd < 0) throw logio::InputError(fmt::format("cannot open {}: {}", f.path, std::strerror(errno)));
  if (fstat(fd, &st) == 0 && f.in_account && (st.st_uid != 0 || (st.st_mode & 022))) {
    ::close(fd);
    throw logio::InputError(
        fmt::format("{}: not read: the account can write it (owner uid {}, mode {:o}), so its "
                    "lines could be forged; name it with --access-logs to read it anyway",
                    f.path, st.st_uid, st.st_mode & 07777));
  }
  return logio::open_source_fd(fd, f.path, index);
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
  // Plesk: a webspace's other domains have their docroot beside httpdocs, as
  // /var/www/vhosts/WEBSPACE/DOMAIN/, and its cgi-bin/ is served at /cgi-bin/; its other
  // directories (private/, statistics/, error_docs/) are not served.
  if (constexpr std::string_view kPlesk = "/var/www/vhosts/"; dir.starts_with(kPlesk)) {
    size_t webspace_end = dir.find('/', kPlesk.size());
    if (webspace_end == std::string_view::npos) return std::nullopt;
    std::string_view rest = dir.substr(webspace_end + 1);
    size_t slash = rest.find('/');
    std::string_view first = rest.substr(0, slash);
    std::string url(slash == std::string_view::npos ? "" : rest.substr(slash));
    if (first == "cgi-bin") return "/cgi-bin" + url;
    if (first.find('.') == std::string_view::npos || first.starts_with('.')) return std::nullopt;
    return url;
  }
  for (std::string_view base : {"/var/www/", "/srv/www/"}) {
    if (!dir.starts_with(base)) continue;
    size_t site_end = dir.find('/', base.size());
    return site_end == std::string_view::npos ? std::string() : std::string(dir.substr(site_end));
  }
  if (dir.starts_with("/home")) return after("/www");  // cPanel's link to public_html
  return std::nullopt;
}

AccessLogs find_access_logs(const std::string& root, std::string_view login,
                            const std::vector<std::string>& configured) {
  AccessLogs found;
  found.root = root;
  if (!login.empty()) {
    found.domains = account_domains(root, login);
    found.docroots = account_docroots(root, login);
  }
  std::vector<AccessLogFile>& candidates = found.files;
  if (!configured.empty()) {
    for (const auto& c : configured) {
      std::error_code ec;
      size_t before = candidates.size();
      if (fs::is_directory(c, ec)) files_in(c, false, candidates);
      else if (fs::exists(c, ec)) candidates.push_back({c, true, false});  // as named, even with [ or *
      else
        for (auto& p : glob_paths(c)) candidates.push_back({std::move(p), false, false});
      if (candidates.size() == before) found.warnings.push_back(c + ": no access log there");
    }
  } else {
    std::string user(login);
    std::vector<std::string> domlogs_dirs;
    for (const char* domlogs : {"/usr/local/apache/domlogs", "/etc/apache2/logs/domlogs"})
      domlogs_dirs.push_back(root + domlogs);
    if (!user.empty()) {
      std::string home = root + "/home/" + user;
      std::vector<std::string> own_domlogs;  // access-logs/ may lead to the account's own, no other
      for (const auto& domlogs : domlogs_dirs) own_domlogs.push_back(domlogs + "/" + user);
      if (auto dir = account_dir(home + "/access-logs", own_domlogs, found.warnings)) files_in(*dir, true, candidates);
      for (const auto& domlogs : domlogs_dirs) {
        files_in(domlogs + "/" + user, false, candidates);
        for (const auto& domain : found.domains)
          for (auto& p : glob_paths(domlogs + "/" + domain + "*"))
            if (is_access_log_name(p) && is_log_of_domain(p, domain))
              candidates.push_back({std::move(p), false, false});
      }
      if (auto dir = account_dir(home + "/logs", {}, found.warnings))
        for (auto& p : glob_paths(*dir + "/*.gz"))
          if (is_access_log_name(p)) candidates.push_back({std::move(p), false, true});
    }
    for (const char* pattern : {"/var/log/apache2/*access.log*", "/var/log/nginx/*access.log*"})
      for (auto& p : glob_paths(root + pattern)) candidates.push_back({std::move(p), false, false});
  }
  // Each file once (access-logs/ links into domlogs/); what is not a regular file is left to
  // the read, which says why when it was named.
  std::set<std::pair<dev_t, ino_t>> seen;
  std::vector<AccessLogFile> out;
  for (auto& f : candidates) {
    struct stat st;
    if (::stat(f.path.c_str(), &st) != 0) continue;
    if (!S_ISREG(st.st_mode) && !f.named) continue;
    if (seen.insert({st.st_dev, st.st_ino}).second) out.push_back(std::move(f));
  }
  found.files = std::move(out);
  return found;
}

const std::string& Docroot::shown() const {
  for (const auto& a : aliases)
    if (!a.starts_with("www.")) return a;
  return domain;
}

bool is_crawler_agent(std::string_view agent) {
  static constexpr std::string_view kCrawlers[] = {
      "Googlebot",  "bingbot", "YandexBot", "Baiduspider",  "DuckDuckBot", "Applebot", "AhrefsBot",
      "SemrushBot", "MJ12bot", "PetalBot",  "Yahoo! Slurp", "SeznamBot",   "DotBot",   "facebookexternalhit"};
  for (std::string_view crawler : kCrawlers)
    if (icontains(agent, crawler)) return true;
  return false;
}

void WebRequests::warn(std::string text) {
  if (warnings.size() < kMaxWarnings) warnings.push_back(std::move(text));
  else ++warnings_left_out;
}

namespace {

// Whether a request ran a script in the directory. One the server refused or did not find did
// not: a flood of requests for a name that is not there (or a tracking image the spam links
// to, fetched by its readers' mail clients) does not make it the script whose callers are
// blocked. The directory itself runs its index script for a POST, and for a GET with a query
// it answered (a GET of the page alone is a visitor's); a POST answered 2xx ran a handler
// whatever the name (.htaccess can map .jpg to PHP; a static file answers POST with 405).
bool runs_script(const AccessEntry& e, const std::string& path) {
  if (e.status == 401 || e.status == 403 || e.status == 404 || e.status == 405 || e.status == 410) return false;
  if (is_script_name(path.substr(path.rfind('/') + 1))) return true;
  bool answered = e.status >= 200 && e.status < 300;
  bool query = e.target.find('?') != std::string_view::npos && !e.target.ends_with('?');
  if (path.ends_with('/')) return e.method == "POST" || (answered && query);
  return e.method == "POST" && answered;
}

bool is_get(std::string_view method) { return method == "GET" || method == "HEAD"; }

// One request for a file in the directory, at t; whether it ran a script there.
bool count_request(WebRequests& w, const AccessEntry& e, CivilSeconds t, const std::string& path,
                   const std::string& client) {
  ++w.requests;
  if (w.first == 0 || t < w.first) w.first = t;
  w.last = std::max(w.last, t);
  w.files.add(printable(path, 200));
  bool script = runs_script(e, path);
  if (script) {
    if (auto replaced = w.scripts.add(path)) w.script_clients.erase(*replaced);
    auto it = w.script_clients.find(path);
    if (it == w.script_clients.end()) it = w.script_clients.emplace(path, TopCounts(WebRequests::kMaxCallers)).first;
    it->second.add(client);
  }
  w.client_ips.add(client);
  w.methods.add(printable(e.method, 20));
  w.user_agents.add(e.combined ? unescape_field(e.user_agent) : "(not logged)");
  w.statuses.add(e.status ? std::to_string(e.status) : "-");
  return script;
}

// What a request tells of its client: a script call before, in or after the burst, or a page
// of the site it browsed.
void note_client(WebRequests& w, const AccessEntry& e, CivilSeconds t, const std::string& client, bool script) {
  auto it = w.clients.find(client);
  if (it == w.clients.end()) {
    if (w.clients.size() >= WebRequests::kMaxClients) {
      ++w.clients_left_out;
      return;
    }
    it = w.clients.emplace(client, WebRequests::ClientEvidence{}).first;
  }
  auto& c = it->second;
  if (!script) {
    // A page read: a GET answered. HEADs are link checkers' and bots', which read nothing.
    if (e.method == "GET" && e.status < 400) ++c.pages;
    return;
  }
  ++(t < w.burst_first - kLead ? c.before : t > w.burst_last ? c.after : c.in_burst);
  if (!is_get(e.method)) ++c.posts;
  if (!e.combined || !is_crawler_agent(unescape_field(e.user_agent))) c.crawler_only = false;
}

// The name a vhost field gives ("addon.example:443" -> "addon.example").
std::string_view vhost_name(std::string_view vhost) {
  size_t colon = vhost.rfind(':');
  return colon != std::string_view::npos && colon == vhost.find(':') ? vhost.substr(0, colon) : vhost;
}

bool names_host(std::string_view name, std::string_view host) {
  return iequals(name, host) ||
         (name.size() > 4 && iequals(name.substr(0, 4), "www.") && iequals(name.substr(4), host));
}

// The host a line is for: its vhost's among the account's hosts, else its log's (a domain's own
// log), else the main host (nullptr). `foreign` when its vhost names another site (Debian's
// other_vhosts_access.log holds every site's lines): then it is none of the account's.
const WebRequests::HostUrl* host_of(const WebRequests& w, const std::vector<std::string>& domains,
                                    const WebRequests::HostUrl* log_host, std::string_view vhost, bool& foreign) {
  foreign = false;
  if (vhost.empty()) return log_host;
  std::string_view name = vhost_name(vhost);
  for (const auto& h : w.hosts)
    if (names_host(name, h.host)) return &h;
  for (const auto& d : domains)
    if (names_host(name, d)) return nullptr;
  // A guessed addon's name says nothing of the account's other hosts.
  foreign = !domains.empty() || std::any_of(w.hosts.begin(), w.hosts.end(), [](const auto& h) { return !h.guessed; });
  return nullptr;
}

// Whether a path on a host is a file directly in the script's directory.
bool in_script_directory(const WebRequests& w, const WebRequests::HostUrl* host, std::string_view path) {
  if (!host) return w.url_path && in_directory(path, *w.url_path);
  if (host->url && in_directory(path, *host->url)) return true;
  // On a guessed addon's host the main URL is matched too: a directory named like the
  // account's main domain (an attacker chooses the name) must not hide its requests there.
  return host->guessed && w.url_path && in_directory(path, *w.url_path);
}

// An offset an access log gives, and the UTC period it gives it over.
struct ZoneSpan {
  int minutes = 0;
  CivilSeconds first = 0, last = 0;
};

void note_zone(std::vector<ZoneSpan>& zones, const AccessEntry& e) {
  CivilSeconds utc = e.utc_time();
  for (ZoneSpan& z : zones)
    if (z.minutes == e.utc_offset_minutes) {
      z.first = std::min(z.first, utc), z.last = std::max(z.last, utc);
      return;
    }
  if (zones.size() < 4) zones.push_back({e.utc_offset_minutes, utc, utc});  // a few: DST, a move
}

// One access log as it is read. Its format decides a line that reads as %h and as an
// X-Forwarded-For list: a line that reads only as a list proves it (a %h never ends with ','),
// and from then on such lines are the list's. Those before the proof wait, up to
// kMaxUndecided (and kMaxUndecidedBytes: a line can be long), for the log's end.
struct LogReading {
  const WebRequests::HostUrl* host = nullptr;  // a domain's own log: that host's URLs
  bool utc = false;
  const std::vector<std::string>& domains;
  std::vector<ZoneSpan>& zones;
  bool forwarded = false;
  std::vector<std::string> undecided;
  size_t undecided_bytes = 0;
  static constexpr size_t kMaxUndecided = 1000, kMaxUndecidedBytes = 4 << 20;
};

// The client a line is counted under, or nullopt when it waits for its log's format.
std::optional<std::string> client_of_line(const AccessEntry& e, std::string_view line, LogReading& r, bool at_end) {
  if (e.reading == ClientReading::Plain || e.reading == ClientReading::Forwarded) return client_key(e.client);
  if (e.reading == ClientReading::PlainOrForwarded) {
    if (r.forwarded) return client_key(e.other_client);
    if (!at_end && r.undecided.size() < LogReading::kMaxUndecided &&
        r.undecided_bytes + line.size() <= LogReading::kMaxUndecidedBytes) {
      r.undecided_bytes += line.size();
      r.undecided.emplace_back(line);
      return std::nullopt;
    }
  }
  return two_way_key(e);
}

// One line of an access log: its request counted when it is for a file in the directory
// between from and to, and what its client did on the account's hosts then. `at_end`: a line
// put aside, read again once its log's format is known.
void read_line(WebRequests& w, std::string_view line, LogReading& r, bool at_end) {
  AccessEntry e;
  if (!parse_access_line(line, e)) {
    ++w.bad_lines;
    return;
  }
  if (e.forwarded_only) r.forwarded = true;
  if (!at_end && e.time >= w.from - 86400 && e.time <= w.to + 86400) note_zone(r.zones, e);
  CivilSeconds t = r.utc ? e.utc_time() : e.time;
  if (t < w.from || t > w.to || e.target.empty()) return;
  bool foreign = false;
  const WebRequests::HostUrl* host = host_of(w, r.domains, r.host, e.vhost, foreign);
  if (foreign) return;
  auto client = client_of_line(e, line, r, at_end);
  if (!client) return;
  std::string path = served_path(target_path(e.target));
  bool mine = in_script_directory(w, host, path);
  if (mine && is_two_way_key(*client)) ++w.two_way_requests;
  note_client(w, e, t, *client, mine && count_request(w, e, t, path, *client));
}

// Reads one access log, counting its requests for files in the directory between from and to,
// and what each client did on the account's hosts then.
// `zones`: the offsets its lines near the sending give (a day either side), each with the UTC
// period it was given over.
void read_access_log(WebRequests& w, const AccessLogFile& f, size_t index, bool utc,
                     const std::vector<std::string>& domains, std::vector<ZoneSpan>& zones) {
  auto src = open_access_log(f, index);
  w.logs.push_back(f.path);
  LogReading r{nullptr, utc, domains, zones, false, {}, 0};
  for (const auto& h : w.hosts)
    if (!r.host && is_log_of_domain(f.path, h.host)) r.host = &h;
  uint64_t lines_before = w.lines;
  for (logio::Block b = src->next_block(); !b.bytes.empty(); b = src->next_block()) {
    for (size_t pos = 0; pos < b.bytes.size();) {
      size_t nl = b.bytes.find('\n', pos);
      if (nl == std::string_view::npos) nl = b.bytes.size();
      std::string_view line = b.bytes.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.empty()) continue;
      ++w.lines;
      read_line(w, line, r, false);
    }
  }
  for (const std::string& line : r.undecided) read_line(w, line, r, true);
  if (std::string why = src->shortfall(w.lines - lines_before); !why.empty()) w.warn(why);
}

// "+0100" for 60.
std::string zone_text(int minutes) {
  int a = std::abs(minutes);
  return fmt::format("{}{:02d}{:02d}", minutes < 0 ? '-' : '+', a / 60, a % 60);
}

// A main log without zones is on the server's wall clock, and so is each access log's time
// as written: when two access logs give different zones at the same time near the sending
// (nginx logging UTC beside Apache's local time), one of them is not the server's clock and
// its requests fall at the wrong time. Said, with the way out: zones in the main log
// (log_timezone). Not for a daylight-saving change: yesterday's log in summer time and today's
// in winter time give their zones over periods apart.
void warn_of_other_zones(WebRequests& w, const AccessLogs& logs, const std::vector<std::vector<ZoneSpan>>& zones) {
  std::map<int, std::string> clashing;
  for (size_t i = 0; i < zones.size(); ++i)
    for (size_t j = i + 1; j < zones.size(); ++j)
      for (const ZoneSpan& a : zones[i])
        for (const ZoneSpan& b : zones[j])
          if (a.minutes != b.minutes && a.first <= b.last && b.first <= a.last) {
            clashing.emplace(a.minutes, logs.files[i].path);
            clashing.emplace(b.minutes, logs.files[j].path);
          }
  if (clashing.empty()) return;
  std::string named;
  for (const auto& [zone, path] : clashing) named += (named.empty() ? "" : ", ") + zone_text(zone) + " in " + path;
  w.warn(
      fmt::format("the access logs give different zones near the sending ({}), and the main log gives none: "
                  "each time is taken as written, so the requests of a log not on the server's clock fall "
                  "at the wrong time (with log_timezone = true in Exim's configuration, each is taken by its "
                  "own zone)",
                  named));
}

// The site of /var/www/SITE/... or /srv/www/SITE/... when SITE is a host name: its vhost.
std::string site_of(std::string_view dir) {
  for (std::string_view base : {"/var/www/", "/srv/www/"}) {
    if (!dir.starts_with(base)) continue;
    std::string_view site = dir.substr(base.size(), dir.find('/', base.size()) - base.size());
    if (site.find('.') != std::string_view::npos && !site.starts_with('.')) return std::string(site);
  }
  return {};
}

}  // namespace

WebRequests web_requests(const AccessLogs& logs, std::string_view directory, CivilSeconds from, CivilSeconds to,
                         bool utc, CivilSeconds burst_first, CivilSeconds burst_last) {
  WebRequests w;
  w.directory = directory;
  w.from = from, w.to = to;
  w.burst_first = burst_first ? std::max(burst_first, from) : from;
  w.burst_last = burst_last ? std::min(burst_last, to) : to;
  for (const auto& warning : logs.warnings) w.warn(warning);
  w.own = own_addresses(logs.root);
  w.denied = denied_ranges(logs.root);
  // As Exim wrote it (cwd=/home/u/public_html/caf\303\251): the directory's bytes are what a
  // request's path is compared with.
  std::string on_disk = unescape_exim(directory);
  w.url_path = url_path_of(on_disk);
  // The hosts that serve the directory at a URL of their own, or not at all: by cPanel's own
  // record of the docroots (matched as written, else with links resolved on both sides; when
  // none holds the directory, they say nothing of it), else by a directory named like one of
  // the account's hosts under public_html.
  std::string dir = on_disk;
  std::vector<Docroot> roots = logs.docroots;
  auto addon = docroot_of(dir, roots);
  if (!addon && !roots.empty()) {
    for (auto& r : roots) r.path = resolved(r.path);
    dir = resolved(dir);
    addon = docroot_of(dir, roots);
  }
  if (!addon && !roots.empty()) {
    w.not_served = true;
    w.url_path.reset();
    w.warnings.push_back(
        fmt::format("{}: under none of the account's document roots (cPanel's userdata): the web server does "
                    "not serve it, so the script ran from cron or a shell; no access log read",
                    directory));
    return w;
  }
  if (addon)
    for (const auto& r : roots) {
      w.hosts.push_back({r.domain, url_under(dir, r.path), false});
      for (const auto& alias : r.aliases) w.hosts.push_back({alias, w.hosts.back().url, false});
    }
  if (!addon && (addon = addon_of(on_disk, logs.domains))) w.hosts.push_back({addon->first, addon->second, true});
  if (addon && addon->second != w.url_path) std::tie(w.addon_domain, w.addon_url_path) = *addon;
  if (std::string site = site_of(on_disk); !site.empty() && w.hosts.empty())
    w.hosts.push_back({site, w.url_path, false});
  if (!w.url_path && w.addon_domain.empty()) {
    w.warnings.push_back(
        fmt::format("{}: no document root in the path (public_html, httpdocs, htdocs, /var/www/...) "
                    "nor among the account's domains: its URL is unknown",
                    directory));
    return w;
  }
  std::vector<std::vector<ZoneSpan>> zones(logs.files.size());
  for (size_t i = 0; i < logs.files.size(); ++i) {
    try {
      read_access_log(w, logs.files[i], i, utc, logs.domains, zones[i]);
    } catch (const logio::InputError& err) {
      w.warn(err.what());
    }
  }
  if (!utc) warn_of_other_zones(w, logs, zones);
  return w;
}

namespace {

// The end of a period: its time alone on the day it began, else with its date.
std::string end_of(CivilSeconds from, CivilSeconds to) {
  std::string text = format_civil(to);
  return format_civil(from).substr(0, 10) == text.substr(0, 10) ? text.substr(11) : text;
}

// A text in lines of about `columns` bytes, broken at spaces, each line after the first
// indented by `indent`: a warning keeps its reason and its remedy, never cut.
std::string wrapped(std::string_view text, size_t columns, std::string_view indent) {
  std::string p = printable(text), out;
  size_t width = 0;  // of the line so far, its words only
  for (size_t pos = 0; pos <= p.size();) {
    size_t end = std::min(p.find(' ', pos), p.size());
    std::string_view word = std::string_view(p).substr(pos, end - pos);
    pos = end + 1;
    if (word.empty()) continue;
    if (width > 0 && width + 1 + word.size() > columns) {
      out += "\n" + std::string(indent);
      width = 0;
    } else if (width > 0) {
      out += ' ';
      ++width;
    }
    out += word;
    width += word.size();
  }
  return out;
}

}  // namespace

nlohmann::json web_requests_json(const WebRequests& w, Firewall fw) {
  // A count is exact unless its table was full: then it may include up to `over` requests of
  // keys it replaced, and `requests - over` is the least it had.
  auto rows = [](const TopCounts& k, const char* name) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : k.top(kJsonRows)) {
      list.push_back({{name, r.key}, {"requests", r.count}});
      if (r.over) list.back()["over"] = r.over;
    }
    return list;
  };
  // The tables that met more keys than they keep: their distinct counts are the least there were.
  nlohmann::json capped = nlohmann::json::array();
  for (const auto& [name, k] : {std::pair<const char*, const TopCounts*>{"files", &w.files},
                                {"client_ips", &w.client_ips},
                                {"user_agents", &w.user_agents}})
    if (k->replaced_any()) capped.push_back(name);
  Blocks b = blocks_of(w);
  nlohmann::json block = nlohmann::json::array(), not_blocked = nlohmann::json::array();
  nlohmann::json networks = nlohmann::json::array(), unlisted = nlohmann::json::array();
  for (const auto& t : b.targets) {
    block.push_back(block_command(t.address, fw, "spamwarden: " + w.directory));
    if (t.drivers > 1) networks.push_back({{"network", t.address}, {"drivers", t.drivers}});
  }
  for (const auto& t : b.unlisted) unlisted.push_back(t.address);
  for (const auto& [client, why] : b.not_blocked) not_blocked.push_back({{"client", client}, {"why", why}});
  return {{"directory", w.directory},
          {"url_path", w.url_path ? nlohmann::json(*w.url_path + "/") : nlohmann::json(nullptr)},
          {"addon_domain", w.addon_domain.empty() ? nlohmann::json(nullptr) : nlohmann::json(w.addon_domain)},
          {"addon_url_path", w.addon_domain.empty() ? nlohmann::json(nullptr) : nlohmann::json(w.addon_url_path + "/")},
          {"from", format_civil(w.from)},
          {"to", format_civil(w.to)},
          {"burst_first", format_civil(w.burst_first)},
          {"burst_last", format_civil(w.burst_last)},
          {"not_served", w.not_served},
          {"clients_left_out", w.clients_left_out},
          {"drivers_not_listed", b.unlisted.size()},
          {"drivers_past_the_commands", unlisted},
          {"blocked_networks", networks},
          {"already_blocked", b.already_blocked},
          {"access_logs", w.logs},
          {"warnings", w.warnings},
          {"lines", w.lines},
          {"bad_lines", w.bad_lines},
          {"requests", w.requests},
          {"two_way_requests", w.two_way_requests},
          {"first", w.first ? format_civil(w.first) : ""},
          {"last", w.last ? format_civil(w.last) : ""},
          {"distinct",
           {{"files", w.files.size()}, {"client_ips", w.client_ips.size()}, {"user_agents", w.user_agents.size()}}},
          {"distinct_capped", capped},
          {"files", rows(w.files, "path")},
          {"client_ips", rows(w.client_ips, "ip")},
          {"methods", rows(w.methods, "method")},
          {"user_agents", rows(w.user_agents, "user_agent")},
          {"statuses", rows(w.statuses, "status")},
          {"block_commands", block},
          {"blocked_for", b.scripts},
          {"warnings_left_out", w.warnings_left_out},
          {"not_blocked", not_blocked},
          {"not_blocked_left_out", b.not_blocked_left_out}};
}

std::string web_requests_text(const WebRequests& w, Firewall fw) {
  std::string url = w.url_path ? fit_columns(*w.url_path + "/", 50) : "an unknown URL";
  if (!w.addon_domain.empty())
    url = w.url_path ? fmt::format("{}/ on {}, {} on the {}", w.addon_url_path, w.addon_domain, url,
                                   w.hosts.empty() || w.hosts.back().guessed ? "other hosts" : "main host")
                     : fmt::format("{}/ on {}", w.addon_url_path, w.addon_domain);
  if (w.not_served) url = "no URL";
  std::string out = fmt::format("\nweb requests for {} ({}) from {} to {}\n", url, fit_columns(w.directory, 60),
                                format_civil(w.from), end_of(w.from, w.to));
  if (w.burst_first != w.from || w.burst_last != w.to)
    out += fmt::format("  (the script's sending from {} to {}, {} minutes either side)\n", format_civil(w.burst_first),
                       end_of(w.burst_first, w.burst_last), kBurstMargin / 60);
  for (size_t i = 0; i < w.warnings.size() && i < kTopRows; ++i)
    out += "  warning: " + wrapped(w.warnings[i], 88, "    ") + "\n";
  if (size_t more = w.warnings.size() + w.warnings_left_out - std::min(w.warnings.size(), kTopRows))
    out += fmt::format("  ... and {} more warnings (--json lists {})\n", more, WebRequests::kMaxWarnings);
  if (!w.url_path && w.addon_domain.empty()) return out;
  if (w.logs.empty()) {
    out += "  no access log read for the account (give them with --access-logs or [paths] access_logs)\n";
    return out;
  }
  out += fmt::format("  {} requests in {} access log(s) ({} lines, {} not understood)", w.requests, w.logs.size(),
                     w.lines, w.bad_lines);
  if (w.requests) out += fmt::format(", {} to {}", format_civil(w.first), end_of(w.first, w.last));
  out += "\n";
  if (w.two_way_requests)
    out += fmt::format(
        "  {} of them read two ways (\"A or B\": client A, or B through an X-Forwarded-For list; no line of the "
        "log proves which it writes): blocked for neither\n",
        w.two_way_requests);
  if (!w.requests) return out;
  auto table = [&](const char* title, const TopCounts& k) {
    out += fmt::format("  {} ({}{}):\n", title, k.size(), k.replaced_any() ? "+, the most frequent kept" : "");
    for (const auto& r : k.top(kTopRows))
      out += fmt::format("    {:>7}{} {}\n", r.count, r.over ? "~" : " ", fit_columns(r.key, 86));
  };
  table("files", w.files);
  table("client IPs", w.client_ips);
  table("methods", w.methods);
  table("user agents", w.user_agents);
  Blocks b = blocks_of(w);
  std::string scripts;
  for (const auto& script : b.scripts) scripts += (scripts.empty() ? "" : ", ") + script;
  if (b.scripts.empty())
    out +=
        "  no script here ran (no script name answered, no POST nor query to the directory's index): "
        "no client to block\n";
  else if (b.targets.empty() && !b.already_blocked.empty())
    out += fmt::format("  every caller of {} that looks like the mailer's driver is blocked already\n",
                       fit_columns(scripts, 60));
  else if (b.targets.empty())
    out += fmt::format("  no caller of {} looks like the mailer's driver: none blocked\n", fit_columns(scripts, 60));
  else
    out += fmt::format("  block these callers of {} (their calls in the burst, no steady calls nor browsing):\n",
                       fit_columns(scripts, 60));
  for (const auto& t : b.targets) {
    out += "    " + printable(block_command(t.address, fw, "spamwarden: " + w.directory)) + "\n";
    if (t.drivers > 1)
      out += fmt::format("      ({} addresses of this /64 drove it: one host's, a new address for each request)\n",
                         t.drivers);
  }
  if (!b.unlisted.empty())
    out += fmt::format("    ... and {} more callers like these, fewer calls each: run again once these are blocked\n",
                       b.unlisted.size());
  if (!b.targets.empty() && !firewall_assumes(fw).empty()) out += fmt::format("    ({})\n", firewall_assumes(fw));
  if (!b.already_blocked.empty())
    out += fmt::format("  already blocked by csf.deny: {} caller(s) like these ({}{})\n", b.already_blocked.size(),
                       b.already_blocked.front(), b.already_blocked.size() > 1 ? ", ..." : "");
  for (size_t i = 0; i < b.not_blocked.size() && i < kNotBlockedShown; ++i)
    out += fmt::format("  not blocked: {} ({})\n", fit_columns(b.not_blocked[i].first, 46), b.not_blocked[i].second);
  if (b.not_blocked.size() > kNotBlockedShown)
    out += fmt::format("  ... and {} more not blocked (--json lists them)\n", b.not_blocked.size() - kNotBlockedShown);
  return out;
}

}  // namespace sw::weblog
