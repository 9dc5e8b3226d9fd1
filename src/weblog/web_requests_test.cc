// The web requests behind a script on a cPanel-shaped and a Debian-shaped tree built in a
// temporary root: which logs are the account's, which requests are the script's.
#include "weblog/web_requests.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/temp_dir.h"

namespace sw::weblog {
namespace {

namespace fs = std::filesystem;

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

void write_gzip(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  gzFile gz = gzopen(path.c_str(), "wb");
  gzwrite(gz, text.data(), unsigned(text.size()));
  gzclose(gz);
}

std::vector<std::string> paths_of(const AccessLogs& logs) {
  std::vector<std::string> out;
  for (const auto& f : logs.files) out.push_back(f.path);
  return out;
}

std::string request(const std::string& ip, const std::string& time, const std::string& method,
                    const std::string& target, const std::string& agent = "python-requests/2.31") {
  return ip + " - - [" + time + " +0100] \"" + method + " " + target + " HTTP/1.1\" 200 20 \"-\" \"" + agent + "\"\n";
}

TEST(WebRequests, UrlPathOfAScriptDirectory) {
  EXPECT_EQ(url_path_of("/home/u1/public_html/wp-content/uploads/x"), "/wp-content/uploads/x");
  EXPECT_EQ(url_path_of("/home/u1/public_html/"), "");
  EXPECT_EQ(url_path_of("/home/u1/www/a"), "/a");
  EXPECT_EQ(url_path_of("/var/www/vhosts/shop.example/httpdocs/x"), "/x");
  EXPECT_EQ(url_path_of("/var/www/vhosts/shop.example/addon.example/wp"), "/wp");  // Plesk's other domains
  EXPECT_EQ(url_path_of("/var/www/vhosts/shop.example"), std::nullopt);
  EXPECT_EQ(url_path_of("/var/www/vhosts/shop.example/cgi-bin/x"), "/cgi-bin/x");
  EXPECT_EQ(url_path_of("/var/www/vhosts/shop.example/private"), std::nullopt);  // not served
  EXPECT_EQ(url_path_of("/var/www/html/contact"), "/contact");
  EXPECT_EQ(url_path_of("/var/www/shop/contact"), "/contact");
  EXPECT_EQ(url_path_of("/home/u1/public_html_old/x"), std::nullopt);
  EXPECT_EQ(url_path_of("/tmp"), std::nullopt);
}

TEST(WebRequests, TheAccountsLogsOnCpanelEachOnce) {
  TempDir root;
  const std::string r = root.path;
  write(r + "/usr/local/apache/domlogs/u1/shop.example", "");
  write(r + "/usr/local/apache/domlogs/u1/shop.example-ssl_log", "");
  write(r + "/usr/local/apache/domlogs/u1/shop.example-bytes_log", "");
  // cPanel's log processing: copies of a log and its read positions, no logs of their own.
  write(r + "/usr/local/apache/domlogs/u1/shop.example.bkup", "");
  write(r + "/usr/local/apache/domlogs/u1/shop.example.bkup2", "");
  write(r + "/usr/local/apache/domlogs/u1/shop.example-ssl_log.offset", "");
  write(r + "/usr/local/apache/domlogs/other.example", "");
  write(r + "/usr/local/apache/domlogs/addon.example", "");
  write(r + "/etc/userdomains", "addon.example: u1\nother.example: u2\n");
  fs::create_directories(r + "/home/u1");
  fs::create_directory_symlink(r + "/usr/local/apache/domlogs/u1", r + "/home/u1/access-logs");
  write_gzip(r + "/home/u1/logs/shop.example-Oct-2026.gz", "");
  write(r + "/usr/local/cpanel/version", "");
  // Another account's domain that starts with this one's, and a domain named "error...".
  write(r + "/usr/local/apache/domlogs/addon.example.com", "");
  write(r + "/usr/local/apache/domlogs/errorfix.example-ssl_log", "");
  write(r + "/usr/local/apache/domlogs/errorfix.example-error_log", "");
  write(r + "/etc/userdomains", "addon.example: u1\nother.example: u2\naddon.example.com: u2\nerrorfix.example: u1\n");
  auto logs = find_access_logs(r, "u1", {});
  std::vector<std::string> expected = {
      // access-logs/ as the directory it links to
      r + "/usr/local/apache/domlogs/u1/shop.example", r + "/usr/local/apache/domlogs/u1/shop.example-ssl_log",
      r + "/usr/local/apache/domlogs/addon.example", r + "/usr/local/apache/domlogs/errorfix.example-ssl_log",
      r + "/home/u1/logs/shop.example-Oct-2026.gz"};
  EXPECT_EQ(paths_of(logs), expected);
  EXPECT_TRUE(logs.warnings.empty());
  EXPECT_EQ(paths_of(find_access_logs(r, "u1", {r + "/usr/local/apache/domlogs/other*"})),
            std::vector<std::string>{r + "/usr/local/apache/domlogs/other.example"});
  // A root given relative (./copy), whose path starts with a dot, finds the same files.
  fs::path cwd = fs::current_path();
  fs::current_path(fs::path(r).parent_path());
  auto relative = find_access_logs("./" + fs::path(r).filename().string(), "u1", {});
  fs::current_path(cwd);
  EXPECT_EQ(relative.files.size(), expected.size());
  // A named path with no file is said, not dropped silently.
  auto missing = find_access_logs(r, "u1", {r + "/nothing/here.log"});
  EXPECT_TRUE(missing.files.empty());
  ASSERT_EQ(missing.warnings.size(), 1u);
  EXPECT_NE(missing.warnings[0].find("no access log there"), std::string::npos);
}

TEST(WebRequests, WhatTheAccountCanWriteIsNotTrusted) {
  TempDir root;
  const std::string r = root.path;
  write(r + "/usr/local/apache/domlogs/u1/shop.example",
        request("203.0.113.9", "01/Nov/2026:10:00:00", "POST", "/m.php"));
  // access-logs/ led somewhere else, and logs/ a link too: neither is followed.
  write(r + "/etc/secret/x.log", "");
  fs::create_directories(r + "/home/u1");
  fs::create_directory_symlink(r + "/etc/secret", r + "/home/u1/access-logs");
  fs::create_directory_symlink(r + "/etc/secret", r + "/home/u1/logs");
  auto logs = find_access_logs(r, "u1", {});
  EXPECT_EQ(paths_of(logs), std::vector<std::string>{r + "/usr/local/apache/domlogs/u1/shop.example"});
  ASSERT_EQ(logs.warnings.size(), 2u);
  EXPECT_NE(logs.warnings[0].find("not followed"), std::string::npos) << logs.warnings[0];
  // An archive the account owns is not read (its lines could be forged), one root owns is.
  fs::remove(r + "/home/u1/logs");
  std::string forged;
  for (int i = 0; i < 50; ++i) forged += request("198.51.100.200", "01/Nov/2026:10:00:00", "POST", "/m.php");
  write_gzip(r + "/home/u1/logs/shop.example-Nov-2026.gz", forged);
  write_gzip(r + "/home/u1/logs/addon.example-Nov-2026.gz",
             request("203.0.113.9", "01/Nov/2026:10:00:01", "POST", "/m.php"));
  ASSERT_EQ(::chown((r + "/home/u1/logs/shop.example-Nov-2026.gz").c_str(), 1000, 1000), 0);
  logs = find_access_logs(r, "u1", {});
  ASSERT_EQ(logs.files.size(), 3u);
  CivilSeconds t = *parse_civil("2026-11-01 10:00:00");
  WebRequests w = web_requests(logs, "/home/u1/public_html", t - 60, t + 60, false);
  EXPECT_EQ(w.requests, 2u);
  EXPECT_EQ(w.client_ips.count("198.51.100.200"), 0u);
  ASSERT_EQ(w.warnings.size(), 2u);
  EXPECT_NE(w.warnings[1].find("the account can write it"), std::string::npos) << w.warnings[1];
  // Named by the admin, it is read.
  w = web_requests(find_access_logs(r, "u1", {r + "/home/u1/logs/shop.example-Nov-2026.gz"}), "/home/u1/public_html",
                   t - 60, t + 60, false);
  EXPECT_EQ(w.requests, 50u);
}

TEST(WebRequests, AFifoPutInAFoundLogsPlaceIsNotWaitedFor) {
  TempDir root;
  const std::string fifo = root.path + "/access.log";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  AccessLogs logs;
  logs.files.push_back({fifo, false, false});  // found as a file, a FIFO by the time it is read
  WebRequests w = web_requests(logs, "/home/u1/public_html", 0, 1, false);
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_NE(w.warnings[0].find("not a regular file"), std::string::npos) << w.warnings[0];
}

TEST(WebRequests, RequestsTheServerResolvesToTheScriptAreCounted) {
  TempDir root;
  std::string lines;
  for (const char* target :
       {"/wp/mailer.php", "/wp//mailer.php", "//wp/mailer.php", "/wp/./mailer.php", "/wp/../wp/mailer.php",
        "/wp/%2e%2e/wp/mailer.php", "/wp/mailer.php/extra/path", "/wp/", "/wp"})
    lines += request("203.0.113.9", "01/Nov/2026:10:00:00", "POST", target);
  lines += request("203.0.113.9", "01/Nov/2026:10:00:00", "POST", "/wp/sub/other.php");    // in a subdirectory
  lines += request("203.0.113.9", "01/Nov/2026:10:00:00", "POST", "/wp/sub/../../x.php");  // above it
  write(root.path + "/access.log", lines);
  CivilSeconds t = *parse_civil("2026-11-01 10:00:00");
  WebRequests w =
      web_requests(find_access_logs("", "", {root.path + "/access.log"}), "/home/u1/public_html/wp", t, t, false);
  EXPECT_EQ(w.requests, 8u);
  EXPECT_EQ(w.files.count("/wp/mailer.php"), 7u);
  EXPECT_EQ(w.files.count("/wp/"), 1u);
}

TEST(WebRequests, AnAddonDomainUnderPublicHtmlOnItsOwnHost) {
  TempDir root;
  const std::string r = root.path;
  write(r + "/etc/userdomains", "shop.example: u1\naddon.example: u1\n");
  // Its own log (cPanel's domlogs) and a shared one with vhosts: /wp/ on the addon's host is
  // the script's directory, /wp/ on the main domain is another directory.
  write(r + "/usr/local/apache/domlogs/u1/addon.example-ssl_log",
        request("203.0.113.9", "01/Nov/2026:10:00:00", "POST", "/wp/mailer.php"));
  write(r + "/usr/local/apache/domlogs/u1/shop.example",
        request("198.51.100.1", "01/Nov/2026:10:00:00", "POST", "/wp/mailer.php") +
            request("198.51.100.2", "01/Nov/2026:10:00:00", "POST", "/addon.example/wp/mailer.php"));
  write(r + "/var/log/apache2/other_vhosts_access.log",
        "addon.example:443 " + request("203.0.113.10", "01/Nov/2026:10:00:00", "POST", "/wp/mailer.php") +
            "shop.example:443 " + request("198.51.100.3", "01/Nov/2026:10:00:00", "POST", "/wp/mailer.php"));
  auto logs = find_access_logs(r, "u1", {});
  CivilSeconds t = *parse_civil("2026-11-01 10:00:00");
  WebRequests w = web_requests(logs, "/home/u1/public_html/addon.example/wp", t, t, false);
  EXPECT_EQ(w.addon_domain, "addon.example");
  EXPECT_EQ(w.addon_url_path, "/wp");
  EXPECT_EQ(w.requests, 3u);
  EXPECT_EQ(w.client_ips.count("203.0.113.9"), 1u);
  EXPECT_EQ(w.client_ips.count("203.0.113.10"), 1u);
  EXPECT_EQ(w.client_ips.count("198.51.100.2"), 1u);
  std::string text = web_requests_text(w, Firewall::Iptables);
  EXPECT_NE(text.find("/wp/ on addon.example"), std::string::npos) << text;
}

// cPanel's record of each domain's docroot: a subdomain's in public_html (public_html/blog for
// blog.shop.example, served at / there and at /blog/ on the main host), and an addon's outside
// it (/home/u1/addon.example: no /public_html/ in the path to read the URL from).
TEST(WebRequests, DocrootsFromCpanelsUserdata) {
  TempDir root;
  const std::string r = root.path;
  write(r + "/etc/userdomains", "shop.example: u1\nblog.shop.example: u1\naddon.example: u1\n");
  const std::string userdata = r + "/var/cpanel/userdata/u1/";
  write(userdata + "shop.example", "---\ndocumentroot: /home/u1/public_html\nservername: shop.example\n");
  write(userdata + "blog.shop.example", "documentroot: /home/u1/public_html/blog\nservername: blog.shop.example\n");
  write(userdata + "addon.example", "documentroot: '/home/u1/addon.example/'\nservername: addon.example\n");
  write(userdata + "addon.example_SSL", "documentroot: /home/u1/elsewhere\nservername: addon.example\n");
  write(userdata + "main", "main_domain: shop.example\n");
  const std::string domlogs = r + "/usr/local/apache/domlogs/u1/";
  write(domlogs + "blog.shop.example", request("203.0.113.9", "01/Nov/2026:10:00:00", "POST", "/mailer.php"));
  write(domlogs + "shop.example", request("203.0.113.10", "01/Nov/2026:10:00:00", "POST", "/blog/mailer.php") +
                                      request("198.51.100.1", "01/Nov/2026:10:00:00", "POST", "/mailer.php"));
  write(domlogs + "addon.example", request("203.0.113.11", "01/Nov/2026:10:00:00", "POST", "/wp/x.php"));
  // A shared log with vhosts: www. is cPanel's alias of each domain; the main host does not
  // serve a docroot outside public_html.
  write(r + "/var/log/apache2/other_vhosts_access.log",
        "www.addon.example:443 " + request("203.0.113.12", "01/Nov/2026:10:00:00", "GET", "/wp/x.php") +
            "shop.example:443 " + request("198.51.100.2", "01/Nov/2026:10:00:00", "GET", "/wp/x.php"));
  auto logs = find_access_logs(r, "u1", {});
  ASSERT_EQ(logs.docroots.size(), 3u);
  CivilSeconds t = *parse_civil("2026-11-01 10:00:00");

  WebRequests blog = web_requests(logs, "/home/u1/public_html/blog", t, t, false);
  EXPECT_EQ(blog.addon_domain, "blog.shop.example");
  EXPECT_EQ(blog.addon_url_path, "");
  EXPECT_EQ(blog.url_path, "/blog");
  EXPECT_EQ(blog.requests, 2u);
  EXPECT_EQ(blog.client_ips.count("203.0.113.9"), 1u);
  EXPECT_EQ(blog.client_ips.count("203.0.113.10"), 1u);

  WebRequests addon = web_requests(logs, "/home/u1/addon.example/wp/", t, t, false);
  EXPECT_EQ(addon.addon_domain, "addon.example");
  EXPECT_EQ(addon.addon_url_path, "/wp");
  EXPECT_FALSE(addon.url_path);
  EXPECT_EQ(addon.requests, 2u);
  EXPECT_EQ(addon.client_ips.count("203.0.113.11"), 1u);
  EXPECT_EQ(addon.client_ips.count("203.0.113.12"), 1u);
  std::string text = web_requests_text(addon, Firewall::Iptables);
  EXPECT_NE(text.find("for /wp/ on addon.example (/home"), std::string::npos) << text;
  EXPECT_EQ(web_requests_json(addon, Firewall::Iptables)["block_commands"][0],
            "iptables -I INPUT -s 203.0.113.11 -j DROP");

  // The main domain's docroot adds no host of its own.
  WebRequests main_site = web_requests(logs, "/home/u1/public_html", t, t, false);
  EXPECT_EQ(main_site.addon_domain, "");
  EXPECT_EQ(main_site.requests, 1u);
}

// cPanel keeps an addon domain as an alias of its subdomain's host (addon.shop.example, with
// serveralias addon.example), and Exim's cwd= has links resolved (www is public_html).
TEST(WebRequests, AnAddonIsAnAliasOfItsSubdomainsHost) {
  TempDir root;
  const std::string r = root.path;
  const std::string userdata = r + "/var/cpanel/userdata/u1/";
  write(userdata + "shop.example", "documentroot: " + r + "/home/u1/public_html\nservername: shop.example\n");
  write(userdata + "addon.shop.example", "documentroot: " + r +
                                             "/home/u1/addon.example\nserveralias: www.addon.shop.example "
                                             "addon.example www.addon.example\nservername: addon.shop.example\n");
  std::filesystem::create_directories(r + "/home/u1/public_html/x");
  std::filesystem::create_directory_symlink("public_html", r + "/home/u1/www");
  write(r + "/var/log/apache2/other_vhosts_access.log",
        "addon.example:443 " + request("203.0.113.9", "01/Nov/2026:10:00:00", "POST", "/wp/m.php") +
            "www.addon.example:443 " + request("203.0.113.10", "01/Nov/2026:10:00:00", "POST", "/wp/m.php") +
            "shop.example:443 " + request("203.0.113.11", "01/Nov/2026:10:00:00", "POST", "/x/m.php"));
  write(r + "/usr/local/apache/domlogs/u1/addon.example",
        request("203.0.113.12", "01/Nov/2026:10:00:00", "POST", "/wp/m.php"));
  auto logs = find_access_logs(r, "u1", {});
  CivilSeconds t = *parse_civil("2026-11-01 10:00:00");
  WebRequests addon = web_requests(logs, r + "/home/u1/addon.example/wp", t, t, false);
  EXPECT_EQ(addon.addon_domain, "addon.example");
  EXPECT_EQ(addon.requests, 3u);
  // A path through the www link is the docroot's: the main host's lines are still matched.
  WebRequests linked = web_requests(logs, r + "/home/u1/www/x", t, t, false);
  EXPECT_EQ(linked.requests, 1u);
  EXPECT_EQ(linked.client_ips.count("203.0.113.11"), 1u);
}

// A script the server did not find did not run: a flood of 404s for another name does not
// choose whose callers are blocked.
TEST(WebRequests, RequestsForAScriptThatIsNotThereDoNotChooseTheBlocks) {
  TempDir root;
  std::string lines;
  for (int i = 0; i < 40; ++i) lines += request("203.0.113.66", "01/Nov/2026:10:00:00", "POST", "/mailer.php");
  for (int i = 0; i < 200; ++i) {
    std::string line = request("198.51.100." + std::to_string(i % 200), "01/Nov/2026:10:00:00", "GET", "/p.php");
    line.replace(line.find("\" 200 "), 6, "\" 404 ");
    lines += line;
  }
  write(root.path + "/access.log", lines);
  CivilSeconds t = *parse_civil("2026-11-01 10:00:00");
  WebRequests w =
      web_requests(find_access_logs("", "", {root.path + "/access.log"}), "/home/u1/public_html", t, t, false);
  auto json = web_requests_json(w, Firewall::Iptables);
  EXPECT_EQ(json["blocked_for"], nlohmann::json::array({"/mailer.php"}));
  ASSERT_EQ(json["block_commands"].size(), 1u) << json.dump();
  EXPECT_EQ(json["block_commands"][0], "iptables -I INPUT -s 203.0.113.66 -j DROP");
  EXPECT_EQ(w.files.count("/p.php"), 200u);  // still listed
}

// The block commands name who called the busiest script there, whatever the method: not the
// site's own cron POSTing to another script, nor visitors of its pages.
TEST(WebRequests, TheBusiestScriptsCallersAreBlocked) {
  TempDir root;
  std::string lines;
  for (int i = 0; i < 50; ++i)
    lines += request("203.0.113.66", "01/Nov/2026:10:00:00", "GET", "/mailer.PHP?to=x" + std::to_string(i));
  for (int i = 0; i < 5; ++i) lines += request("127.0.0.1", "01/Nov/2026:10:00:00", "POST", "/wp-cron.php");
  for (int i = 0; i < 8; ++i)
    lines += request("198.51.100." + std::to_string(i), "01/Nov/2026:10:00:00", "POST", "/wp-login.php");
  lines += request("198.51.100.9", "01/Nov/2026:10:00:00", "GET", "/style.css");
  write(root.path + "/access.log", lines);
  CivilSeconds t = *parse_civil("2026-11-01 10:00:00");
  WebRequests w =
      web_requests(find_access_logs("", "", {root.path + "/access.log"}), "/home/u1/public_html", t, t, false);
  auto json = web_requests_json(w, Firewall::Iptables);
  ASSERT_EQ(json["block_commands"].size(), 1u) << json.dump();
  EXPECT_EQ(json["block_commands"][0], "iptables -I INPUT -s 203.0.113.66 -j DROP");
  EXPECT_EQ(json["blocked_for"], nlohmann::json::array({"/mailer.PHP"}));
  // A script with the handler's extension anywhere in its name, and a POST to the directory (its index).
  write(root.path + "/b.log",
        request("203.0.113.67", "01/Nov/2026:10:00:00", "POST", "/up/shell.php.jpg") +
            request("203.0.113.68", "01/Nov/2026:10:00:00", "POST", "/up/") +
            request("203.0.113.69", "01/Nov/2026:10:00:00", "POST", "/x/a.php/../../up/shell.php.jpg"));
  w = web_requests(find_access_logs("", "", {root.path + "/b.log"}), "/home/u1/public_html/up", t, t, false);
  EXPECT_EQ(w.script_clients.size(), 2u);
  EXPECT_EQ(web_requests_json(w, Firewall::Iptables)["block_commands"].size(), 3u);
}

TEST(WebRequests, NamesThatOnlyLookLikeOthersAreNotMixedUp) {
  TempDir root;
  const std::string r = root.path;
  write(r + "/etc/userdomains", "shop.example: u1\nerror.logic.example: u1\nshop.example-b.com: u2\n");
  write(r + "/usr/local/apache/domlogs/shop.example-b.com", "");   // another account's domain
  write(r + "/usr/local/apache/domlogs/error.logic.example", "");  // not an error log
  write(r + "/usr/local/apache/domlogs/shop.example-ssl_log", "");
  write(r + "/usr/local/apache/domlogs/u2/other.example", "");
  fs::create_directories(r + "/home/u1");
  fs::create_directory_symlink(r + "/usr/local/apache/domlogs/u2", r + "/home/u1/access-logs");  // not u1's
  auto logs = find_access_logs(r, "u1", {});
  EXPECT_EQ(paths_of(logs), (std::vector<std::string>{r + "/usr/local/apache/domlogs/shop.example-ssl_log",
                                                      r + "/usr/local/apache/domlogs/error.logic.example"}));
  ASSERT_EQ(logs.warnings.size(), 1u);
  EXPECT_NE(logs.warnings[0].find("not followed"), std::string::npos);
}

TEST(WebRequests, WarningsAreBounded) {
  AccessLogs logs;
  for (int i = 0; i < 500; ++i) logs.warnings.push_back("warning " + std::to_string(i));
  WebRequests w = web_requests(logs, "/home/u1/public_html", 0, 1, false);
  EXPECT_EQ(w.warnings.size(), WebRequests::kMaxWarnings);
  EXPECT_EQ(w.warnings_left_out, 500u - WebRequests::kMaxWarnings);
  std::string text = web_requests_text(w, Firewall::Iptables);
  EXPECT_NE(text.find("... and 490 more warnings"), std::string::npos) << text;
}

TEST(WebRequests, ZonedMainLogComparesInUtc) {
  TempDir root;
  // 10:00 at +0100 is 09:00 UTC: in a burst the main log (with zones, read as UTC) puts at 09:00.
  write(root.path + "/access.log", request("203.0.113.9", "01/Nov/2026:10:00:00", "POST", "/m.php"));
  auto logs = find_access_logs("", "", {root.path + "/access.log"});
  CivilSeconds nine = *parse_civil("2026-11-01 09:00:00");
  EXPECT_EQ(web_requests(logs, "/home/u1/public_html", nine, nine, true).requests, 1u);
  EXPECT_EQ(web_requests(logs, "/home/u1/public_html", nine, nine, false).requests, 0u);
  EXPECT_EQ(format_civil(web_requests(logs, "/home/u1/public_html", nine, nine, true).first), "2026-11-01 09:00:00");
}

// A client that first sends requests from 10,000 addresses to as many scripts neither grows the
// report nor pushes the attacker who comes after it out of the tables and the block commands.
TEST(WebRequests, AFloodOfDecoysFirstDoesNotHideTheAttackerAfterIt) {
  TempDir root;
  std::string lines;
  for (size_t i = 0; i < WebRequests::kMaxKeys + 500; ++i)
    lines +=
        request(fmt::format("2001:db8::{:x}", i + 1), "01/Nov/2026:10:00:00", "GET", fmt::format("/decoy{}.php", i));
  for (int i = 0; i < 40; ++i) lines += request("203.0.113.66", "01/Nov/2026:10:00:01", "POST", "/mailer.php");
  write(root.path + "/access.log", lines);
  CivilSeconds t = *parse_civil("2026-11-01 10:00:00");
  WebRequests w =
      web_requests(find_access_logs("", "", {root.path + "/access.log"}), "/home/u1/public_html", t, t + 1, false);
  EXPECT_EQ(w.requests, WebRequests::kMaxKeys + 540);
  EXPECT_EQ(w.client_ips.size(), WebRequests::kMaxKeys);
  EXPECT_TRUE(w.client_ips.replaced_any());
  EXPECT_GE(w.client_ips.count("203.0.113.66"), 40u);
  EXPECT_LE(w.script_clients.size(), WebRequests::kMaxScripts);
  auto json = web_requests_json(w, Firewall::Iptables);
  ASSERT_FALSE(json["block_commands"].empty()) << json.dump().substr(0, 2000);
  EXPECT_EQ(json["block_commands"][0], "iptables -I INPUT -s 203.0.113.66 -j DROP");
  EXPECT_EQ(json["blocked_for"], nlohmann::json::array({"/mailer.php"}));
  EXPECT_EQ(json["client_ips"].size(), 100u);
  EXPECT_EQ(json["client_ips"][0]["ip"], "203.0.113.66");
  EXPECT_EQ(json["distinct_capped"], nlohmann::json::array({"files", "client_ips"}));
  EXPECT_NE(web_requests_text(w, Firewall::Iptables).find("client IPs (10000+"), std::string::npos);
}

TEST(WebRequests, TheScriptsRequestsDuringTheBurstWithTheirBlockCommands) {
  TempDir root;
  const std::string r = root.path;
  std::string now, rotated;
  rotated += request("203.0.113.9", "01/Nov/2026:09:50:00", "GET", "/wp-content/uploads/x/mailer.php");
  rotated += request("198.51.100.1", "01/Nov/2026:09:00:00", "POST", "/wp-content/uploads/x/mailer.php");  // before
  for (int i = 0; i < 30; ++i)
    now += request("203.0.113.9", "01/Nov/2026:10:0" + std::to_string(i % 10) + ":00", "POST",
                   "/wp-content/uploads/x/mailer.php?id=" + std::to_string(i));
  now += request("203.0.113.10", "01/Nov/2026:10:05:00", "POST", "/wp-content/uploads/x/m%61iler.php");
  now += request("192.0.2.50", "01/Nov/2026:10:05:00", "GET", "/wp-content/uploads/x/y/deeper.php");  // not in it
  now += request("192.0.2.51", "01/Nov/2026:10:05:00", "GET", "/index.php");
  now += request("127.0.0.1", "01/Nov/2026:10:05:00", "POST", "/wp-content/uploads/x/mailer.php");
  now += request("192.0.2.77", "01/Nov/2026:10:05:00", "GET", "/wp-content/uploads/x/");  // a visitor's page
  now += request("192.0.2.77", "01/Nov/2026:10:05:00", "GET", "/wp-content/uploads/x/style.css");
  now += "garbage line\n";
  write(r + "/var/log/apache2/access.log", now);
  write_gzip(r + "/var/log/apache2/access.log.2.gz", rotated);
  write(r + "/var/log/apache2/error.log", "");
  auto logs = find_access_logs(r, "u1", {});
  ASSERT_EQ(logs.files.size(), 2u);
  CivilSeconds from = *parse_civil("2026-11-01 10:00:00") - kBurstMargin, to = *parse_civil("2026-11-01 10:09:00");
  WebRequests w = web_requests(logs, "/home/u1/public_html/wp-content/uploads/x", from, to, false);
  EXPECT_EQ(w.url_path, "/wp-content/uploads/x");
  EXPECT_EQ(w.lines, 39u);
  EXPECT_EQ(w.bad_lines, 1u);
  EXPECT_EQ(w.requests, 35u);
  EXPECT_EQ(w.client_ips.count("203.0.113.9"), 31u);
  EXPECT_EQ(w.client_ips.count("203.0.113.10"), 1u);
  EXPECT_EQ(w.files.count("/wp-content/uploads/x/mailer.php"), 33u);
  EXPECT_EQ(w.methods.count("POST"), 32u);
  EXPECT_EQ(w.user_agents.count("python-requests/2.31"), 35u);
  EXPECT_EQ(format_civil(w.first), "2026-11-01 09:50:00");
  auto json = web_requests_json(w, Firewall::Iptables);
  ASSERT_EQ(json["block_commands"].size(), 2u) << "neither the server itself nor a visitor of the pages";
  ASSERT_EQ(json["not_blocked"].size(), 1u);
  EXPECT_EQ(json["not_blocked"][0]["client"], "127.0.0.1");
  EXPECT_EQ(json["block_commands"][0], "iptables -I INPUT -s 203.0.113.9 -j DROP");
  std::string text = web_requests_text(w, Firewall::Iptables);
  EXPECT_NE(text.find("35 requests in 2 access log(s)"), std::string::npos) << text;
  EXPECT_NE(text.find("block these callers of /wp-content/uploads/x/mailer.php (their calls in the burst"),
            std::string::npos)
      << text;
}

// A combined line at hh:mm:ss on 1 Nov 2026 (+0100), with its status and agent.
std::string line_at(const std::string& ip, const std::string& hms, const std::string& method, const std::string& target,
                    int status = 200, const std::string& agent = "Mozilla/5.0") {
  return fmt::format("{} - - [01/Nov/2026:{} +0100] \"{} {} HTTP/1.1\" {} 20 \"-\" \"{}\"\n", ip, hms, method, target,
                     status, agent);
}

std::string hms(int seconds_after_nine) {
  return fmt::format("{:02}:{:02}:{:02}", 9 + seconds_after_nine / 3600, seconds_after_nine / 60 % 60,
                     seconds_after_nine % 60);
}

// The burst 10:00 to 10:10, read from 09:45 to 10:25.
WebRequests read_burst(const std::string& path, const std::string& dir) {
  CivilSeconds first = *parse_civil("2026-11-01 10:00:00"), last = *parse_civil("2026-11-01 10:10:00");
  return web_requests(find_access_logs("", "", {path}), dir, first - kBurstMargin, last + kBurstMargin, false, first,
                      last);
}

bool blocked(const nlohmann::json& json, const std::string& ip) {
  for (const auto& c : json["block_commands"])
    if (c.get<std::string>().find(" " + ip + " ") != std::string::npos) return true;
  return false;
}

std::string why_not_blocked(const nlohmann::json& json, const std::string& client) {
  for (const auto& n : json["not_blocked"])
    if (n["client"] == client) return n["why"];
  return "";
}

// WordPress's Heartbeat from the owner's wp-admin, every 15 s before, during and after the
// burst, outnumbers the bots' form posts: only the bots, whose calls are all in the burst, are
// blocked.
TEST(WebRequests, ASteadyCallerIsNotTheBurstsDriver) {
  TempDir root;
  std::string lines;
  for (int k = 0; k < 150; ++k)  // 09:46 to 10:23
    lines += line_at("203.0.113.50", hms(46 * 60 + 15 * k), "POST", "/wp-admin/admin-ajax.php");
  for (int b = 0; b < 5; ++b)
    for (int j = 0; j < 5; ++j)
      lines +=
          line_at(fmt::format("45.{}.77.3", 10 + b), hms(3600 + 20 * b + 4 * j), "POST", "/wp-admin/admin-ajax.php");
  write(root.path + "/access.log", lines);
  WebRequests w = read_burst(root.path + "/access.log", "/home/u1/public_html/wp-admin");
  auto json = web_requests_json(w, Firewall::Iptables);
  EXPECT_EQ(json["block_commands"].size(), 5u) << json.dump();
  EXPECT_FALSE(blocked(json, "203.0.113.50"));
  EXPECT_TRUE(blocked(json, "45.10.77.3"));
  EXPECT_NE(why_not_blocked(json, "203.0.113.50").find("steady"), std::string::npos) << json.dump();
  EXPECT_EQ(json["burst_first"], "2026-11-01 10:00:00");
  EXPECT_NE(web_requests_text(w, Firewall::Iptables).find("not blocked: 203.0.113.50 (called it "), std::string::npos)
      << web_requests_text(w, Firewall::Iptables);
}

// The driver of a one-minute sending that goes on calling the script after it, slower: its
// calls are still concentrated in the sending (and the two minutes of lead do not dilute it).
TEST(WebRequests, ADriverThatCallsOnAfterAShortSendingIsBlocked) {
  TempDir root;
  std::string lines;
  for (int k = 0; k < 40; ++k) lines += line_at("203.0.113.66", hms(3600 + 10 * k), "POST", "/x/mailer.php");
  write(root.path + "/access.log", lines);
  CivilSeconds first = *parse_civil("2026-11-01 10:00:00"), last = first + 60;
  WebRequests w = web_requests(find_access_logs("", "", {root.path + "/access.log"}), "/home/u1/public_html/x",
                               first - kBurstMargin, last + kBurstMargin, false, first, last);
  EXPECT_TRUE(blocked(web_requests_json(w, Firewall::Iptables), "203.0.113.66"))
      << web_requests_text(w, Firewall::Iptables);
}

// Shoppers refresh their cart with POST /?wc-ajax=... on every page they view: visitors who
// browsed the site, not the mailer's driver.
TEST(WebRequests, AVisitorWhoBrowsedTheSiteIsNotBlocked) {
  TempDir root;
  std::string lines;
  for (int c = 0; c < 4; ++c)
    for (int k = 0; k < 6; ++k) {
      std::string ip = fmt::format("81.2.3.{}", c + 1);
      lines += line_at(ip, hms(3600 + 60 * k + c), "GET", "/product/blue-mug/");
      lines += line_at(ip, hms(3600 + 60 * k + c + 1), "POST", "/?wc-ajax=get_refreshed_fragments");
    }
  for (int k = 0; k < 3; ++k) lines += line_at("198.51.100.23", hms(3600 + 90 * k), "POST", "/wp-conf.php");
  write(root.path + "/access.log", lines);
  auto json = web_requests_json(read_burst(root.path + "/access.log", "/home/u1/public_html"), Firewall::Iptables);
  // The script the driver called, not the one the visitors called most.
  EXPECT_EQ(json["blocked_for"], nlohmann::json::array({"/wp-conf.php"}));
  ASSERT_EQ(json["block_commands"].size(), 1u) << json.dump();
  EXPECT_TRUE(blocked(json, "198.51.100.23"));
  EXPECT_EQ(why_not_blocked(json, "81.2.3.1"), "also browsed 6 pages: a visitor");
}

// HEAD requests read no page: a driver that sends them too is no visitor for it. A botnet of
// fourteen drivers: ten commands, and the rest said, not dropped.
TEST(WebRequests, HeadsAreNoBrowsingAndDriversPastTenAreSaid) {
  TempDir root;
  std::string lines;
  for (int c = 0; c < 14; ++c) {
    std::string ip = fmt::format("198.51.100.{}", c + 1);
    for (int k = 0; k < 5; ++k) lines += line_at(ip, hms(3600 + 60 * k + c), "HEAD", "/about/");
    for (int k = 0; k < 20 - c; ++k) lines += line_at(ip, hms(3600 + 20 * k + c), "POST", "/wp-conf.php");
  }
  write(root.path + "/access.log", lines);
  WebRequests w = read_burst(root.path + "/access.log", "/home/u1/public_html");
  auto json = web_requests_json(w, Firewall::Iptables);
  EXPECT_EQ(json["block_commands"].size(), 10u) << json.dump();
  EXPECT_TRUE(blocked(json, "198.51.100.1"));
  EXPECT_EQ(json["drivers_not_listed"], 4u);
  EXPECT_NE(web_requests_text(w, Firewall::Iptables).find("... and 4 more callers like these"), std::string::npos)
      << web_requests_text(w, Firewall::Iptables);
}

// A crawler's GETs of the script are not the attacker's; a crawler's agent that POSTs is.
TEST(WebRequests, ACrawlersGetsAreNotBlocked) {
  TempDir root;
  const std::string google = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
  std::string lines;
  for (int k = 0; k < 4; ++k)
    lines += line_at("66.249.66.1", hms(3600 + 60 * k), "GET", "/up/wp-conf.php", 200, google);
  lines += line_at("40.77.167.5", hms(3700), "HEAD", "/up/wp-conf.php", 200, "Mozilla/5.0 (compatible; bingbot/2.0)");
  for (int k = 0; k < 3; ++k)
    lines += line_at("198.51.100.23", hms(3600 + 90 * k), "POST", "/up/wp-conf.php", 200, "python-requests/2.31");
  lines += line_at("198.51.100.24", hms(3650), "POST", "/up/wp-conf.php", 200, google);
  write(root.path + "/access.log", lines);
  auto json = web_requests_json(read_burst(root.path + "/access.log", "/home/u1/public_html/up"), Firewall::Iptables);
  EXPECT_TRUE(blocked(json, "198.51.100.23")) << json.dump();
  EXPECT_TRUE(blocked(json, "198.51.100.24")) << "a crawler's agent that POSTs";
  EXPECT_FALSE(blocked(json, "66.249.66.1"));
  EXPECT_FALSE(blocked(json, "40.77.167.5"));
  EXPECT_NE(why_not_blocked(json, "66.249.66.1").find("a crawler's GETs"), std::string::npos) << json.dump();
  EXPECT_TRUE(is_crawler_agent("Mozilla/5.0 (compatible; YandexBot/3.0)"));
  EXPECT_FALSE(is_crawler_agent("Mozilla/5.0 (Windows NT 10.0)"));
}

// Debian's other_vhosts_access.log holds every site's lines: another site's /up/m.php is not
// this account's. A /var/www/SITE directory is served on SITE.
TEST(WebRequests, AnotherSitesLinesAreNotTheAccounts) {
  TempDir root;
  const std::string r = root.path;
  write(r + "/etc/userdomains", "shop.example: u1\n");
  write(r + "/var/log/apache2/other_vhosts_access.log",
        "shop.example:443 " + line_at("203.0.113.9", "10:01:00", "POST", "/up/m.php") + "www.shop.example:80 " +
            line_at("203.0.113.10", "10:01:00", "POST", "/up/m.php") + "other.example:443 " +
            line_at("198.51.100.7", "10:01:00", "POST", "/up/m.php"));
  CivilSeconds t = *parse_civil("2026-11-01 10:01:00");
  WebRequests w = web_requests(find_access_logs(r, "u1", {}), "/home/u1/public_html/up", t, t, false);
  EXPECT_EQ(w.requests, 2u);
  EXPECT_EQ(w.client_ips.count("198.51.100.7"), 0u);
  write(r + "/site.log", "blog.example:443 " + line_at("203.0.113.9", "10:01:00", "POST", "/up/m.php") +
                             "other.example:443 " + line_at("198.51.100.7", "10:01:00", "POST", "/up/m.php"));
  w = web_requests(find_access_logs("", "", {r + "/site.log"}), "/var/www/blog.example/up", t, t, false);
  EXPECT_EQ(w.requests, 1u);
  EXPECT_EQ(w.client_ips.count("203.0.113.9"), 1u);
  // A guessed addon (no /etc/userdomains) does not make the main host's lines another site's.
  write(r + "/guessed.log", "addon.example:443 " + line_at("203.0.113.9", "10:01:00", "POST", "/wp/m.php") +
                                "shop.example:443 " +
                                line_at("203.0.113.10", "10:01:00", "POST", "/addon.example/wp/m.php"));
  w = web_requests(find_access_logs("", "", {r + "/guessed.log"}), "/home/u1/public_html/addon.example/wp", t, t,
                   false);
  EXPECT_EQ(w.requests, 2u);
}

// With cPanel's record of the docroots, a directory under none of them is not served: its
// name's /public_html/ (a backup's) gives it no URL.
TEST(WebRequests, ADirectoryUnderNoDocrootIsNotServed) {
  TempDir root;
  const std::string r = root.path;
  write(r + "/var/cpanel/userdata/u1/shop.example", "documentroot: /home/u1/public_html\nservername: shop.example\n");
  write(r + "/usr/local/apache/domlogs/u1/shop.example", line_at("203.0.113.9", "10:01:00", "POST", "/wp-admin/x.php"));
  CivilSeconds t = *parse_civil("2026-11-01 10:01:00");
  WebRequests w = web_requests(find_access_logs(r, "u1", {}), "/home/u1/backup/old/public_html/wp-admin", t, t, false);
  EXPECT_TRUE(w.not_served);
  EXPECT_FALSE(w.url_path);
  EXPECT_TRUE(w.logs.empty());
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_NE(w.warnings[0].find("cron or a shell"), std::string::npos);
  EXPECT_EQ(web_requests_json(w, Firewall::Iptables)["not_served"], true);
  std::string text = web_requests_text(w, Firewall::Iptables);
  EXPECT_NE(text.find("web requests for no URL"), std::string::npos) << text;
  EXPECT_NE(text.find("no access log read"), std::string::npos) << "the warning is wrapped, not cut: " << text;
  for (size_t start = 0, end; start < text.size(); start = end + 1) {
    end = std::min(text.find('\n', start), text.size());
    if (text.compare(start, 2, "  ") == 0) {
      EXPECT_LE(end - start, 100u) << text;
    }
  }
}

// A GET of the directory with a query runs its index script, as a POST does; a POST answered
// 2xx ran a handler whatever the file's name (.htaccess mapping .jpg to PHP).
TEST(WebRequests, TheIndexWithAQueryAndAPostedImageRanScripts) {
  TempDir root;
  std::string lines;
  for (int k = 0; k < 3; ++k) lines += line_at("198.51.100.23", hms(3600 + 60 * k), "GET", "/up/?e=list.txt");
  lines += line_at("192.0.2.80", hms(3600), "GET", "/up/");  // the page alone: a visitor's
  write(root.path + "/a.log", lines);
  auto w = read_burst(root.path + "/a.log", "/home/u1/public_html/up");
  auto json = web_requests_json(w, Firewall::Iptables);
  EXPECT_EQ(json["blocked_for"], nlohmann::json::array({"/up/"}));
  EXPECT_TRUE(blocked(json, "198.51.100.23")) << json.dump();
  EXPECT_FALSE(blocked(json, "192.0.2.80"));

  lines.clear();
  for (int k = 0; k < 3; ++k) lines += line_at("198.51.100.24", hms(3600 + 60 * k), "POST", "/up/logo.jpg");
  lines += line_at("198.51.100.25", hms(3600), "POST", "/up/style.css", 405);  // a static file
  write(root.path + "/b.log", lines);
  json = web_requests_json(read_burst(root.path + "/b.log", "/home/u1/public_html/up"), Firewall::Iptables);
  EXPECT_EQ(json["blocked_for"], nlohmann::json::array({"/up/logo.jpg"}));
  EXPECT_TRUE(blocked(json, "198.51.100.24")) << json.dump();
  EXPECT_FALSE(blocked(json, "198.51.100.25"));

  write(root.path + "/c.log", line_at("192.0.2.80", hms(3600), "GET", "/up/"));
  std::string text = web_requests_text(read_burst(root.path + "/c.log", "/home/u1/public_html/up"), Firewall::Iptables);
  EXPECT_NE(text.find("no script here ran"), std::string::npos) << text;
  EXPECT_NE(text.find("(the script's sending from 2026-11-01 10:00:00 to 10:10:00, 15 minutes either side)"),
            std::string::npos)
      << text;
}

TEST(WebRequests, NoDocrootSaysSo) {
  WebRequests w = web_requests({}, "/opt/app", 0, 1, false);
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_EQ(w.requests, 0u);
  EXPECT_EQ(web_requests_json(w, Firewall::Iptables)["url_path"], nullptr);
  std::string text = web_requests_text(w, Firewall::Iptables);
  EXPECT_NE(text.find("an unknown URL"), std::string::npos) << text;
  EXPECT_EQ(text.find("no access log"), std::string::npos) << text;
}

// One client however its address is written: in capitals, with its zeros, in brackets.
TEST(WebRequests, AnIpv6ClientIsOneClientHoweverWritten) {
  TempDir root;
  const std::string log = root.path + "/access.log";
  write(log, request("2001:DB8:BEEF:0:0:0:0:50", "01/Nov/2026:10:00:00", "POST", "/m.php") +
                 request("2001:db8:beef::50", "01/Nov/2026:10:00:01", "POST", "/m.php") +
                 request("[2001:db8:beef::50]", "01/Nov/2026:10:00:02", "POST", "/m.php"));
  CivilSeconds t = *parse_civil("2026-11-01 10:00:00");
  WebRequests w = web_requests(find_access_logs(root.path, "", {log}), "/home/u1/public_html", t - 60, t + 60, false);
  EXPECT_EQ(w.requests, 3u);
  EXPECT_EQ(w.client_ips.count("2001:db8:beef::50"), 3u);
  EXPECT_EQ(w.client_ips.size(), 1u);
}

// Beside a main log without zones, access logs in two zones (nginx logging UTC beside
// Apache's local time) cannot both be on the server's clock: said, with the way out. In UTC
// mode each is taken by its own zone, and one zone alone is the server's clock.
TEST(WebRequests, AccessLogsInTwoZonesAreSaid) {
  TempDir root;
  const std::string apache = root.path + "/apache.log", nginx = root.path + "/nginx.log";
  write(apache, request("203.0.113.9", "01/Nov/2026:10:00:00", "POST", "/m.php"));
  std::string utc = request("203.0.113.7", "01/Nov/2026:09:00:00", "POST", "/m.php");
  utc.replace(utc.find(" +0100]"), 7, " +0000]");
  write(nginx, utc);
  CivilSeconds t = *parse_civil("2026-11-01 10:00:00");
  auto said = [&](const WebRequests& w) {
    for (const auto& warning : w.warnings)
      if (warning.find("different zones near the sending (+0000 in " + nginx + ", +0100 in " + apache) !=
          std::string::npos)
        return true;
    return false;
  };
  AccessLogs both = find_access_logs(root.path, "", {apache, nginx});
  EXPECT_TRUE(said(web_requests(both, "/home/u1/public_html", t - 60, t + 60, false)));
  EXPECT_FALSE(said(web_requests(both, "/home/u1/public_html", t - 60, t + 60, true)));
  AccessLogs one = find_access_logs(root.path, "", {apache});
  EXPECT_TRUE(web_requests(one, "/home/u1/public_html", t - 60, t + 60, false).warnings.empty());
  // Yesterday's log in summer time, today's in winter time: on the server's clock, each in
  // its own period.
  std::string summer = request("203.0.113.7", "01/Nov/2026:09:30:00", "POST", "/m.php");
  summer.replace(summer.find(" +0100]"), 7, " +0200]");
  write(nginx, summer);
  EXPECT_FALSE(said(web_requests(both, "/home/u1/public_html", t - 60, t + 60, false)));
  for (const auto& warning : web_requests(both, "/home/u1/public_html", t - 60, t + 60, false).warnings)
    EXPECT_EQ(warning.find("different zones"), std::string::npos) << warning;
  // Far from the sending, another zone says nothing of it.
  utc = request("203.0.113.7", "01/Oct/2026:09:00:00", "POST", "/m.php");
  utc.replace(utc.find(" +0100]"), 7, " +0000]");
  write(nginx, utc);
  EXPECT_FALSE(said(web_requests(both, "/home/u1/public_html", t - 60, t + 60, false)));
}

// Ten POSTs of /up/x.php in the burst, one a minute from 10:00, with this client field.
std::string ten_calls(const std::string& client_field) {
  std::string lines;
  for (int k = 0; k < 10; ++k) lines += line_at(client_field, hms(3600 + 60 * k), "POST", "/up/x.php");
  return lines;
}

// A POST at 10:00 on 1 Nov 2026 for each client field and target.
std::string posts(const std::vector<std::pair<std::string, std::string>>& client_and_target) {
  std::string lines;
  for (const auto& [client, target] : client_and_target)
    lines += request(client, "01/Nov/2026:10:00:00", "POST", target);
  return lines;
}

// A log's requests for `dir` from 09:59 to 10:01.
WebRequests read_minute(const std::string& log, const std::string& dir) {
  CivilSeconds t = *parse_civil("2026-11-01 10:00:00");
  return web_requests(find_access_logs("", "", {log}), dir, t - 60, t + 60, false);
}

// A forged X-Forwarded-For list that reads as a client and a user name ("8.8.8.8 - x, REAL - -")
// frames nobody while the log's format is not proven: both are listed, neither blocked. Once a
// line only a list reads proves it, the same lines are the list's, those before it too.
TEST(WebRequests, AForgedForwardedListFramesNobody) {
  TempDir root;
  const std::string log = root.path + "/access.log";
  const std::string framing = ten_calls("8.8.8.8 - x, 45.8.8.4");
  write(log, framing);
  WebRequests w = read_burst(log, "/home/u1/public_html/up");
  auto json = web_requests_json(w, Firewall::Iptables);
  EXPECT_EQ(json["block_commands"].size(), 0u) << json.dump();
  EXPECT_EQ(json["two_way_requests"], 10u);
  EXPECT_NE(why_not_blocked(json, "8.8.8.8 or 45.8.8.4").find("read two ways"), std::string::npos) << json.dump();
  EXPECT_NE(web_requests_text(w, Firewall::Iptables).find("10 of them read two ways"), std::string::npos);
  // One line behind the proxy with a client's own list, after them.
  write(log, framing + line_at("203.0.113.5, 198.51.100.9", hms(3600), "GET", "/about/"));
  json = web_requests_json(read_burst(log, "/home/u1/public_html/up"), Firewall::Iptables);
  EXPECT_TRUE(blocked(json, "45.8.8.4")) << json.dump();
  EXPECT_FALSE(blocked(json, "8.8.8.8"));
  EXPECT_EQ(json["two_way_requests"], 0u);
}

// A space in the client's part of the list does not hide the hop our proxy added.
TEST(WebRequests, ASpaceInTheForgedPartDoesNotHideTheClient) {
  TempDir root;
  const std::string log = root.path + "/access.log";
  write(log, ten_calls("a b, 45.8.8.2"));
  WebRequests w = read_burst(log, "/home/u1/public_html/up");
  EXPECT_EQ(w.bad_lines, 0u);
  EXPECT_TRUE(blocked(web_requests_json(w, Firewall::Iptables), "45.8.8.2"));
}

// An IPv4 client written with its port, or IPv4-mapped, is one client with its plain address.
TEST(WebRequests, AnIpv4ClientIsOneClientHoweverWritten) {
  TempDir root;
  const std::string log = root.path + "/access.log";
  write(log, posts({{"45.7.7.7:51234", "/m.php"},
                    {"::ffff:45.7.7.7", "/m.php"},
                    {"45.7.7.7", "/m.php"},
                    {"[2001:db8::66]:443", "/m.php"}}));
  WebRequests w = read_minute(log, "/home/u1/public_html");
  EXPECT_EQ(w.client_ips.count("45.7.7.7"), 3u);
  EXPECT_EQ(w.client_ips.count("2001:db8::66"), 1u);
  EXPECT_EQ(w.client_ips.size(), 2u);
}

// Exim writes a directory's non-printing bytes as octal escapes, Apache a request's as \xHH
// (and a client may send %XX): the same bytes.
TEST(WebRequests, ANonAsciiDirectoryMatchesItsRequests) {
  TempDir root;
  const std::string log = root.path + "/access.log";
  write(log,
        posts({{"45.8.8.8", "/caf%C3%A9/x.php"}, {"45.8.8.9", "/caf\\xc3\\xa9/x.php"}, {"45.8.8.10", "/cafe/x.php"}}));
  for (const char* dir : {"/home/u1/public_html/caf\\303\\251", "/home/u1/public_html/caf\xc3\xa9"}) {
    WebRequests w = read_minute(log, dir);
    EXPECT_EQ(w.requests, 2u) << dir;
    EXPECT_EQ(w.client_ips.count("45.8.8.10"), 0u) << dir;
  }
}

// A host given an IPv6 /64 takes a new address of it for each request: one command for the
// /64 when several of its addresses drove the mailer, said; an address alone stays itself.
TEST(WebRequests, DriversOfOneIpv6NetworkAreBlockedByTheirSlash64) {
  TempDir root;
  const std::string log = root.path + "/access.log";
  std::string lines;
  for (int k = 0; k < 200; ++k)
    lines += line_at(fmt::format("2a02:6b8:1:2::{:x}", k + 1), hms(3600 + k), "POST", "/up/x.php");
  lines += line_at("2a02:6b8:9:9::1", hms(3600), "POST", "/up/x.php");
  write(log, lines);
  WebRequests w = read_burst(log, "/home/u1/public_html/up");
  auto json = web_requests_json(w, Firewall::Iptables);
  EXPECT_EQ(json["block_commands"].size(), 2u) << json.dump();
  EXPECT_TRUE(blocked(json, "2a02:6b8:1:2::/64"));
  EXPECT_TRUE(blocked(json, "2a02:6b8:9:9::1"));
  EXPECT_EQ(json["blocked_networks"][0]["drivers"], 200u);
  EXPECT_NE(web_requests_text(w, Firewall::Iptables).find("200 addresses of this /64"), std::string::npos);
  // A crawler in that /64, judged no driver, keeps it from being blocked whole: its drivers are
  // blocked one by one.
  write(log, lines + line_at("2a02:6b8:1:2::ffff", hms(3600), "GET", "/up/x.php", 200, "Googlebot/2.1"));
  WebRequests shared = read_burst(log, "/home/u1/public_html/up");
  auto spared = web_requests_json(shared, Firewall::Iptables);
  EXPECT_FALSE(blocked(spared, "2a02:6b8:1:2::/64")) << spared.dump();
  EXPECT_TRUE(blocked(spared, "2a02:6b8:1:2::1"));
}

// Drivers csf's deny list holds are blocked already: said, not among the ten commands, so a
// run after blocking them names the next ones; every driver past the ten is in the JSON.
TEST(WebRequests, DriversTheDenyListHoldsAreNotListedAgain) {
  TempDir root;
  const std::string log = root.path + "/access.log";
  std::string lines, deny;
  for (int c = 0; c < 150; ++c) {
    std::string ip = fmt::format("45.9.{}.{}", c / 100, c % 100 + 1);
    for (int k = 0; k < 200 - c; ++k) lines += line_at(ip, hms(3600 + k % 500), "POST", "/up/x.php");
    if (c < 10) deny += ip + " # spamwarden: x\n";
  }
  write(log, lines);
  write(root.path + "/etc/csf/csf.deny", deny + "tcp|in|d=25|s=45.9.1.1\n");
  CivilSeconds first = *parse_civil("2026-11-01 10:00:00"), last = *parse_civil("2026-11-01 10:10:00");
  WebRequests w = web_requests(find_access_logs(root.path, "", {log}), "/home/u1/public_html/up", first - kBurstMargin,
                               last + kBurstMargin, false, first, last);
  auto json = web_requests_json(w, Firewall::Csf);
  EXPECT_EQ(json["already_blocked"].size(), 10u) << json.dump();
  EXPECT_FALSE(blocked(json, "45.9.0.1"));
  EXPECT_TRUE(blocked(json, "45.9.0.11"));
  EXPECT_EQ(json["block_commands"].size(), 10u);
  EXPECT_EQ(json["drivers_not_listed"], 130u);
  EXPECT_EQ(json["drivers_past_the_commands"].size(), 130u);
  EXPECT_NE(web_requests_text(w, Firewall::Csf).find("already blocked by csf.deny: 10"), std::string::npos);
}

// Apache's vhost_common names the host without its port.
TEST(WebRequests, VhostCommonLinesAreTheSitesOwn) {
  TempDir root;
  const std::string log = root.path + "/other_vhosts_access.log";
  write(log, posts({{"shop.example 45.8.8.8", "/up/x.php"}, {"other.example 45.8.8.9", "/up/x.php"}}));
  WebRequests w = read_minute(log, "/var/www/shop.example/up");
  EXPECT_EQ(w.requests, 1u);
  EXPECT_EQ(w.client_ips.count("45.8.8.8"), 1u);
}

// A brute-forcer's xmlrpc.php calls outnumber the mailer's more than twice: its callers are
// blocked, and the mailer's are listed as not blocked, with why, not left out.
TEST(WebRequests, TheCallersOfALesserDrivenScriptAreListed) {
  TempDir root;
  const std::string log = root.path + "/access.log";
  std::string lines;
  for (int k = 0; k < 100; ++k) lines += line_at("103.1.1.1", hms(3600 + 5 * k), "POST", "/xmlrpc.php");
  for (int k = 0; k < 40; ++k) lines += line_at("45.134.26.10", hms(3600 + 10 * k), "POST", "/wp-conf.php");
  write(log, lines);
  auto json = web_requests_json(read_burst(log, "/home/u1/public_html"), Firewall::Iptables);
  EXPECT_TRUE(blocked(json, "103.1.1.1"));
  EXPECT_NE(why_not_blocked(json, "45.134.26.10").find("called /wp-conf.php, which the drivers called less"),
            std::string::npos)
      << json.dump();
}

}  // namespace
}  // namespace sw::weblog
