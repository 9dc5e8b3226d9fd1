// The web requests behind a script on a cPanel-shaped and a Debian-shaped tree built in a
// temporary root: which logs are the account's, which requests are the script's.
#include "weblog/web_requests.h"

#include <gtest/gtest.h>
#include <zlib.h>

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

std::string request(const std::string& ip, const std::string& time, const std::string& method,
                    const std::string& target, const std::string& agent = "python-requests/2.31") {
  return ip + " - - [" + time + " +0100] \"" + method + " " + target + " HTTP/1.1\" 200 20 \"-\" \"" + agent + "\"\n";
}

TEST(WebRequests, UrlPathOfAScriptDirectory) {
  EXPECT_EQ(url_path_of("/home/u1/public_html/wp-content/uploads/x"), "/wp-content/uploads/x");
  EXPECT_EQ(url_path_of("/home/u1/public_html/"), "");
  EXPECT_EQ(url_path_of("/home/u1/www/a"), "/a");
  EXPECT_EQ(url_path_of("/var/www/vhosts/shop.example/httpdocs/x"), "/x");
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
  write(r + "/usr/local/apache/domlogs/other.example", "");
  write(r + "/usr/local/apache/domlogs/addon.example", "");
  write(r + "/etc/userdomains", "addon.example: u1\nother.example: u2\n");
  fs::create_directories(r + "/home/u1");
  fs::create_directory_symlink(r + "/usr/local/apache/domlogs/u1", r + "/home/u1/access-logs");
  write_gzip(r + "/home/u1/logs/shop.example-Oct-2026.gz", "");
  write(r + "/usr/local/cpanel/version", "");
  auto logs = find_access_logs(r, "u1", {});
  std::vector<std::string> expected = {
      r + "/home/u1/access-logs/shop.example", r + "/home/u1/access-logs/shop.example-ssl_log",
      r + "/usr/local/apache/domlogs/addon.example", r + "/home/u1/logs/shop.example-Oct-2026.gz"};
  EXPECT_EQ(logs, expected);
  EXPECT_TRUE(is_cpanel(r));
  EXPECT_EQ(find_access_logs(r, "u1", {r + "/usr/local/apache/domlogs/other*"}),
            std::vector<std::string>{r + "/usr/local/apache/domlogs/other.example"});
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
  now += request("127.0.0.1", "01/Nov/2026:10:05:00", "GET", "/wp-content/uploads/x/");
  now += "garbage line\n";
  write(r + "/var/log/apache2/access.log", now);
  write_gzip(r + "/var/log/apache2/access.log.2.gz", rotated);
  write(r + "/var/log/apache2/error.log", "");
  auto logs = find_access_logs(r, "u1", {});
  ASSERT_EQ(logs.size(), 2u);
  CivilSeconds from = *parse_civil("2026-11-01 10:00:00") - kBurstMargin, to = *parse_civil("2026-11-01 10:09:00");
  WebRequests w = web_requests(logs, "/home/u1/public_html/wp-content/uploads/x", from, to);
  EXPECT_EQ(w.url_path, "/wp-content/uploads/x");
  EXPECT_EQ(w.lines, 37u);
  EXPECT_EQ(w.bad_lines, 1u);
  EXPECT_EQ(w.requests, 33u);
  EXPECT_EQ(w.client_ips.at("203.0.113.9"), 31u);
  EXPECT_EQ(w.client_ips.at("203.0.113.10"), 1u);
  EXPECT_EQ(w.files.at("/wp-content/uploads/x/mailer.php"), 32u);
  EXPECT_EQ(w.methods.at("POST"), 31u);
  EXPECT_EQ(w.user_agents.at("python-requests/2.31"), 33u);
  EXPECT_EQ(format_civil(w.first), "2026-11-01 09:50:00");
  auto json = web_requests_json(w, false);
  ASSERT_EQ(json["block_commands"].size(), 2u) << "the server itself is not blocked";
  EXPECT_EQ(json["block_commands"][0], "iptables -I INPUT -s 203.0.113.9 -j DROP");
  EXPECT_EQ(block_command("203.0.113.9", true, "spamwarden: x"), "csf -d 203.0.113.9 'spamwarden: x'");
  EXPECT_EQ(block_command("2001:db8::1", false, ""), "ip6tables -I INPUT -s 2001:db8::1 -j DROP");
  std::string text = web_requests_text(w, false);
  EXPECT_NE(text.find("33 requests in 2 access log(s)"), std::string::npos) << text;
}

TEST(WebRequests, NoDocrootSaysSo) {
  WebRequests w = web_requests({}, "/opt/app", 0, 1);
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_EQ(w.requests, 0u);
}

}  // namespace
}  // namespace sw::weblog
