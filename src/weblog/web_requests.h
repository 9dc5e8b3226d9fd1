// The web requests behind a spamming script: which access logs belong to the account, which
// URL path its directory is served at, and who requested files there during the burst - the
// attacker's IPs, with the command that blocks them.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/civil_time.h"
#include "base/top_counts.h"
#include "weblog/block_commands.h"

namespace sw::weblog {

// The URL path a directory is served at, from the document root in its path: cPanel's
// /home/USER/public_html (and www, a link to it), Plesk's httpdocs, htdocs, /var/www/html,
// /var/www/SITE (its first directory the docroot) and /srv/www/SITE. "/home/u/public_html/
// wp-content/x" -> "/wp-content/x"; the docroot itself -> ""; nullopt when no docroot shows.
std::optional<std::string> url_path_of(std::string_view dir);

// One access log to read. A file found in the account's own directories (its archived
// ~/logs/*.gz) is read only when root owns it and only root can write it: a compromised
// account could otherwise plant the lines that choose whom the block commands name.
struct AccessLogFile {
  std::string path;
  bool named = false;       // given by the admin (--access-logs, [paths]): a FIFO is read too
  bool in_account = false;  // under the account's home: opened without following a link
};
// A web host's document root, as cPanel configured it (/var/cpanel/userdata/LOGIN/SERVERNAME):
// its name and aliases (an addon domain is an alias of its subdomain's host).
struct Docroot {
  std::string domain, path;
  std::vector<std::string> aliases;
  // The name to show: the first alias that is not www.*, else the server name (an addon's
  // subdomain host addon.shop.example is shown as addon.example).
  const std::string& shown() const;
};
struct AccessLogs {
  std::vector<AccessLogFile> files;
  std::vector<std::string> warnings;  // a named path with no file; a link not followed
  std::vector<std::string> domains;   // the account's (cPanel's /etc/userdomains), for addon domains
  std::vector<Docroot> docroots;      // the account's domains' (cPanel's userdata), when known
  std::string root;                   // where they were looked for ("" for /): the server's files
};

// The access logs that may hold an account's requests, under `root` ("" for /): `configured`
// (files, directories or globs, from the config or --access-logs) when given, else cPanel's
// /usr/local/apache/domlogs/LOGIN/ and /etc/apache2/logs/domlogs/LOGIN/ (and /home/LOGIN/
// access-logs/ when it links there), the account's domains' files in domlogs/ (by
// /etc/userdomains), its archived /home/LOGIN/logs/*.gz, and Debian's /var/log/apache2/
// *access.log* and /var/log/nginx/*access.log*. Byte, FTP and error logs are left out; each
// file is named once (access-logs/ links into domlogs/).
AccessLogs find_access_logs(const std::string& root, std::string_view login,
                            const std::vector<std::string>& configured);

struct WebRequests {
  std::string directory;
  // The directory's URL on the account's main host (and any host whose log shows no name),
  // from the docroot in its path; nullopt when none shows (then only addon_domain's is known).
  std::optional<std::string> url_path;
  // A cPanel addon domain or subdomain whose docroot holds the directory (cPanel's userdata:
  // public_html/blog for blog.shop.example, /home/u1/addon.example; without it, a directory
  // named like a host under public_html): its own host serves the directory at addon_url_path
  // ("/wp"), the others at url_path.
  std::string addon_domain, addon_url_path;
  // The directory's URL on each host the account's docroots name (nullopt: not served there),
  // or on the guessed addon host, where the main URL is matched too.
  struct HostUrl {
    std::string host;
    std::optional<std::string> url;
    bool guessed = false;
  };
  std::vector<HostUrl> hosts;
  CivilSeconds from = 0, to = 0;                 // the sending with its margin, on the main log's clock
  CivilSeconds burst_first = 0, burst_last = 0;  // the script's sending, inside [from, to]
  // Under none of the account's docroots (cPanel's userdata): not served by the web server, so
  // run from cron or a shell; no access log is read.
  bool not_served = false;
  std::vector<std::string> logs;  // the access logs read
  std::vector<std::string> warnings;
  uint64_t lines = 0, bad_lines = 0, requests = 0;
  // Of the requests, those whose line reads two ways, with %h or an X-Forwarded-For list in its
  // place, in a log whose format no line proved: counted under both clients, blocked for neither.
  uint64_t two_way_requests = 0;
  CivilSeconds first = 0, last = 0;
  // Counted by keys the client chooses (its address, path, agent), each table in bounded
  // memory: a flood of random agents or addresses cannot grow the report, nor push a later
  // attacker out (base/top_counts.h).
  static constexpr size_t kMaxKeys = 10000;
  TopCounts files{kMaxKeys}, client_ips{kMaxKeys}, methods{kMaxKeys}, user_agents{kMaxKeys}, statuses{kMaxKeys};
  // Who ran each script there (a POST or a query to the directory itself runs its index
  // script): the block commands name those of its callers that the evidence below shows
  // driving the mailer. Bounded the same way: the kMaxScripts most requested scripts, and the
  // kMaxCallers most frequent callers of each.
  static constexpr size_t kMaxScripts = 100, kMaxCallers = 1000;
  TopCounts scripts{kMaxScripts};
  std::map<std::string, TopCounts, std::less<>> script_clients;
  // What each client did in the window, to tell the mailer's driver from the site's owner, its
  // visitors and crawlers: its calls of the directory's scripts inside the burst and in the
  // margins, their methods and agents, and its other requests on the account's hosts (pages,
  // styles, images). The first kMaxClients clients are recorded; a caller met later is not
  // judged, so not blocked.
  struct ClientEvidence {
    uint32_t before = 0, in_burst = 0, after = 0;  // script calls
    uint32_t posts = 0;                            // of them, by a method other than GET and HEAD
    uint32_t pages = 0;                            // GET or HEAD of anything else, answered below 400
    bool crawler_only = true;                      // each call's agent a search engine crawler's
  };
  static constexpr size_t kMaxClients = 100000;
  std::unordered_map<std::string, ClientEvidence> clients;
  uint64_t clients_left_out = 0;
  std::vector<std::string> own;    // this server's addresses: never a block command
  std::vector<CidrRange> denied;   // what the firewall's deny list blocks already: no command again
  uint64_t warnings_left_out = 0;  // past kMaxWarnings (an account's 5,000 files, each refused)
  static constexpr size_t kMaxWarnings = 100;
  void warn(std::string text);
};

// Margin around the burst: the attacker often tries the script before it sends, and after.
inline constexpr int64_t kBurstMargin = 15 * 60;

// Reads the logs (plain or gzip) and counts the requests for files directly in `directory`
// between from and to (inclusive). `utc`: the main log's times are UTC (it logged zones), so
// each request's time is taken to UTC by its own offset; else both are the server's wall
// clock as written. The burst (the script's sending, 0: from to to) is what a caller's calls
// inside it are told from those before and after.
WebRequests web_requests(const AccessLogs& logs, std::string_view directory, CivilSeconds from, CivilSeconds to,
                         bool utc, CivilSeconds burst_first = 0, CivilSeconds burst_last = 0);

// Whether a user agent names a search engine's crawler (Googlebot, bingbot, YandexBot ...).
bool is_crawler_agent(std::string_view agent);

nlohmann::json web_requests_json(const WebRequests& w, Firewall fw);
std::string web_requests_text(const WebRequests& w, Firewall fw);

}  // namespace sw::weblog
