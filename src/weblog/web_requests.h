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
#include <vector>

#include "base/civil_time.h"

namespace sw::weblog {

// The URL path a directory is served at, from the document root in its path: cPanel's
// /home/USER/public_html (and www, a link to it), Plesk's httpdocs, htdocs, /var/www/html,
// /var/www/SITE (its first directory the docroot) and /srv/www/SITE. "/home/u/public_html/
// wp-content/x" -> "/wp-content/x"; the docroot itself -> ""; nullopt when no docroot shows.
std::optional<std::string> url_path_of(std::string_view dir);

// The access logs that may hold an account's requests, under `root` ("" for /): `configured`
// (files, directories or globs, from the config or --access-logs) when given, else cPanel's
// /home/LOGIN/access-logs/, /usr/local/apache/domlogs/LOGIN/ and /etc/apache2/logs/domlogs/
// (the account's domains by /etc/userdomains), its archived /home/LOGIN/logs/*.gz, and
// Debian's /var/log/apache2/*access.log* and /var/log/nginx/*access.log*. Byte and FTP logs
// are left out; each file is named once (access-logs/ links into domlogs/).
std::vector<std::string> find_access_logs(const std::string& root, std::string_view login,
                                          const std::vector<std::string>& configured);

// True when `root` looks like a cPanel server (or runs csf): blocks go through csf there.
bool is_cpanel(const std::string& root);
// "csf -d IP 'spamwarden: ...'" on cPanel, else "iptables -I INPUT -s IP -j DROP" (ip6tables
// for IPv6).
std::string block_command(std::string_view ip, bool cpanel, std::string_view why);

struct WebRequests {
  std::string directory, url_path;  // url_path "" when no docroot showed: nothing was matched
  CivilSeconds from = 0, to = 0;    // the burst with its margin, on the server's clock
  std::vector<std::string> logs;    // the access logs read
  std::vector<std::string> warnings;
  uint64_t lines = 0, bad_lines = 0, requests = 0;
  CivilSeconds first = 0, last = 0;
  std::map<std::string, uint64_t> files, client_ips, methods, user_agents, statuses;
};

// Margin around the burst: the attacker often tries the script before it sends, and after.
inline constexpr int64_t kBurstMargin = 15 * 60;

// Reads the logs (plain or gzip) and counts the requests for files directly in `directory`
// between from and to (inclusive), by the access log's own wall-clock time.
WebRequests web_requests(const std::vector<std::string>& logs, std::string_view directory, CivilSeconds from,
                         CivilSeconds to);

nlohmann::json web_requests_json(const WebRequests& w, bool cpanel);
std::string web_requests_text(const WebRequests& w, bool cpanel);

}  // namespace sw::weblog
