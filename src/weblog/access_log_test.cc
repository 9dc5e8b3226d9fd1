// Access-log lines as Apache and nginx write them, and what they must not break on.
#include "weblog/access_log.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>

namespace sw::weblog {
namespace {

TEST(AccessLog, CombinedWithEscapedQuotes) {
  AccessEntry e;
  ASSERT_TRUE(
      parse_access_line("203.0.113.9 - - [01/Nov/2026:10:00:01 +0100] \"POST "
                        "/wp-content/uploads/x/mailer.php?a=1 HTTP/1.1\" 200 512 \"-\" "
                        "\"Mozilla/5.0 (\\\"bot\\\")\"\r",
                        e));
  EXPECT_EQ(e.client, "203.0.113.9");
  EXPECT_EQ(format_civil(e.time), "2026-11-01 10:00:01");
  EXPECT_EQ(e.utc_offset_minutes, 60);
  EXPECT_EQ(e.method, "POST");
  EXPECT_EQ(e.target, "/wp-content/uploads/x/mailer.php?a=1");
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.bytes, 512u);
  EXPECT_TRUE(e.combined);
  EXPECT_EQ(unescape_field(e.user_agent), "Mozilla/5.0 (\"bot\")");
}

// Behind a proxy, Apache's %{X-Forwarded-For}i logs the list in %h's place: the client is the
// last hop that is no proxy of ours, which the client cannot forge; a bracketed IPv6 address
// is the address.
TEST(AccessLog, TheClientOfAForwardedForList) {
  auto client_of = [](const std::string& field) {
    AccessEntry e;
    std::string line = field + " - - [01/Nov/2026:10:00:01 +0100] \"POST /m.php HTTP/1.1\" 200 5 \"-\" \"x\"";
    return parse_access_line(line, e) ? std::string(e.client) : std::string("(refused)");
  };
  EXPECT_EQ(client_of("203.0.113.60, 10.0.0.1"), "203.0.113.60");
  EXPECT_EQ(client_of("198.51.100.7, 203.0.113.60, 10.0.0.1"), "203.0.113.60") << "a forged first hop";
  EXPECT_EQ(client_of("203.0.113.60, 172.70.1.1"), "203.0.113.60") << "through Cloudflare's edge";
  EXPECT_EQ(client_of("10.0.0.5, 10.0.0.1"), "10.0.0.5");
  EXPECT_EQ(client_of("[2001:db8::51]"), "2001:db8::51");
  EXPECT_EQ(client_of("203.0.113.60,"), "(refused)") << "a list cut short";
  // Past our proxies the first hop is the client, whatever it is: never one the client wrote.
  std::string forged;
  for (int i = 0; i < 40; ++i) forged += "198.51.100." + std::to_string(i) + ", ";
  EXPECT_EQ(client_of(forged + "203.0.113.66, 10.0.0.1"), "203.0.113.66") << "a long forged list";
  EXPECT_EQ(client_of("198.51.100.23, 203.0.113.66:51234"), "203.0.113.66") << "a hop with its port";
  EXPECT_EQ(client_of("198.51.100.23, [2001:db8::66]:443, 10.0.0.1"), "2001:db8::66");
  EXPECT_EQ(client_of("198.51.100.23, unknown, 10.0.0.1"), "unknown") << "no address: nobody to block";
  EXPECT_EQ(client_of(forged + "- z, 203.0.113.66"), "203.0.113.66") << "a hop with a space, to end the list early";
}

// The entry of a line that starts with `head`; its views stay valid to the test's end.
AccessEntry read_head(const std::string& head) {
  static std::deque<std::string> lines;
  AccessEntry e;
  const std::string& line =
      lines.emplace_back(head + " [01/Nov/2026:10:00:01 +0100] \"POST /m.php HTTP/1.1\" 200 5 \"-\" \"x\"");
  EXPECT_TRUE(parse_access_line(line, e)) << line;
  return e;
}

// "8.8.8.8 - x, 45.8.8.4 - -" is client 8.8.8.8 with the user name "x, 45.8.8.4 - -", or an
// X-Forwarded-For list whose hop our proxy added is 45.8.8.4: the line alone cannot tell, and
// says so with both clients. A line only a list reads proves the log writes lists.
TEST(AccessLog, AClientFieldThatReadsTwoWaysSaysBoth) {
  AccessEntry e = read_head("8.8.8.8 - x, 45.8.8.4 - -");
  EXPECT_EQ(e.reading, ClientReading::PlainOrForwarded);
  EXPECT_EQ(e.client, "8.8.8.8");
  EXPECT_EQ(e.other_client, "45.8.8.4");
  EXPECT_FALSE(e.forwarded_only);
  for (const char* head : {"8.8.8.8 - - [20/Nov/2026:10:00:00 +0100] \\\"GET / HTTP/1.1\\\" 200 1, 45.8.8.4 - -",
                           "8.8.8.8 - a [20/Nov/2026:10:00:00 +0100], 45.8.8.4 - -", "8.8.8.8 - -, 45.8.8.4 - -"}) {
    e = read_head(head);
    EXPECT_EQ(e.reading, ClientReading::PlainOrForwarded) << head;
    EXPECT_EQ(e.other_client, "45.8.8.4") << head;
  }
  for (const char* head : {"1.2.3.4, 45.8.8.4 - -", "8.8.8.8 -, 45.8.8.4 - -", "unknown, 10.0.0.1, 45.8.8.4 - -"}) {
    e = read_head(head);
    EXPECT_EQ(e.reading, ClientReading::Forwarded) << head;
    EXPECT_TRUE(e.forwarded_only) << head;
    EXPECT_EQ(e.client, "45.8.8.4") << head;
  }
  // The user name can hold ", ADDRESS - -" too: two lists, never told apart.
  e = read_head("x, 45.8.8.4 - y, 8.8.8.8 - -");
  EXPECT_EQ(e.reading, ClientReading::Unsure);
  EXPECT_EQ(e.client, "8.8.8.8");
  EXPECT_EQ(e.other_client, "45.8.8.4");
  EXPECT_TRUE(e.forwarded_only);
  // Sixteen such names of one address hide the real hop no better: a line past them is unsure.
  std::string repeated = "x, 45.8.8.4 -";
  for (int i = 0; i < 16; ++i) repeated += " y, 8.8.8.8 -";
  EXPECT_EQ(read_head(repeated + " -").reading, ClientReading::Unsure);
  EXPECT_EQ(read_head("45.8.8.4 - -").reading, ClientReading::Plain);
  EXPECT_EQ(read_head("45.8.8.4 - x, 45.8.8.4 - -").reading, ClientReading::Plain) << "one client either way";
}

// The hop our proxy added is the rightmost comma's that an address follows, then the ident and
// the user (nginx logs a Basic-auth name with its spaces): a space in the client's part does
// not hide it.
TEST(AccessLog, TheLastHopPastSpacesInTheForgedPart) {
  AccessEntry e = read_head("a b, 45.8.8.2 - -");
  EXPECT_EQ(e.reading, ClientReading::Forwarded);
  EXPECT_EQ(e.client, "45.8.8.2");
  EXPECT_EQ(e.vhost, "") << "the client's part, not vhost_common's host";
  e = read_head("evil one, 198.51.100.7 x, [2001:db8::66]:443 - bob smith");
  EXPECT_EQ(e.client, "2001:db8::66");
  EXPECT_EQ(e.user, "bob smith");
  e = read_head("a b, 203.0.113.66:51234, 10.0.0.1 - -");
  EXPECT_EQ(e.client, "203.0.113.66");
}

// One address however the client field writes it: with its port, bracketed with its port.
TEST(AccessLog, AClientWithItsPortIsTheAddress) {
  EXPECT_EQ(read_head("45.7.7.7:51234 - -").client, "45.7.7.7");
  EXPECT_EQ(read_head("[2a02:6b8::66]:443 - -").client, "2a02:6b8::66");
  EXPECT_EQ(read_head("2a02:6b8::66 - -").client, "2a02:6b8::66");
  EXPECT_EQ(read_head("45.7.7.7:51234 - -").vhost, "");
}

// A line one field short (no user before the time) is no access-log line.
TEST(AccessLog, ALineWithoutItsUserFieldIsNone) {
  AccessEntry e;
  EXPECT_FALSE(parse_access_line("1.2.3.4 - [20/Nov/2026:10:00:00 +0100] \"GET / HTTP/1.1\" 200 5", e));
  EXPECT_TRUE(parse_access_line("1.2.3.4 - - [20/Nov/2026:10:00:00 +0100] \"GET / HTTP/1.1\" 200 5", e));
  EXPECT_EQ(e.user, "-");
}

// Apache's vhost_common, "%v %h %l %u %t ...": the host without its port.
TEST(AccessLog, VhostCommon) {
  AccessEntry e = read_head("shop.example 203.0.113.9 - -");
  EXPECT_EQ(e.vhost, "shop.example");
  EXPECT_EQ(e.client, "203.0.113.9");
  e = read_head("crawl-1.googlebot.example - -");  // HostnameLookups: a name is the client
  EXPECT_EQ(e.vhost, "");
  EXPECT_EQ(e.client, "crawl-1.googlebot.example");
  e = read_head("shop.example:443 203.0.113.60, 10.0.0.1 - -");
  EXPECT_EQ(e.vhost, "shop.example:443");
  EXPECT_EQ(e.client, "203.0.113.60");
}

TEST(AccessLog, CommonVhostAndOddRequests) {
  AccessEntry e;
  ASSERT_TRUE(parse_access_line("198.51.100.4 - bob [01/Nov/2026:10:00:01 -0730] \"GET / HTTP/1.0\" 304 -", e));
  EXPECT_FALSE(e.combined);
  EXPECT_EQ(e.user, "bob");
  EXPECT_EQ(e.utc_offset_minutes, -450);
  EXPECT_EQ(e.bytes, 0u);
  ASSERT_TRUE(parse_access_line(
      "shop.example:443 2001:db8::7 - - [01/Nov/2026:10:00:01 +0000] \"GET /x HTTP/2.0\" 200 12 \"r\" \"curl/8\"", e));
  EXPECT_EQ(e.vhost, "shop.example:443");
  EXPECT_EQ(e.client, "2001:db8::7");
  // A Basic-auth user name with spaces, as nginx logs it: the client is still the client.
  for (const char* client : {"2001:db8::7", "198.51.100.4"}) {
    std::string line = std::string(client) + " - a b [01/Nov/2026:10:00:01 +0000] \"POST /x.php HTTP/1.1\" 200 5";
    ASSERT_TRUE(parse_access_line(line, e)) << line;
    EXPECT_EQ(e.client, client);
    EXPECT_EQ(e.vhost, "");
    EXPECT_EQ(e.user, "a b");
    EXPECT_EQ(e.target, "/x.php");
  }
  // ...and with " [" in it: the time is the bracket that holds one.
  for (const char* user : {"a [", "[", "a [x] \\\"", "a [01/Nov/2026:10:00:01 +0000]"}) {
    std::string line =
        std::string("198.51.100.4 - ") + user + " [01/Nov/2026:10:00:02 +0000] \"POST /x.php HTTP/1.1\" 200 5";
    ASSERT_TRUE(parse_access_line(line, e)) << line;
    EXPECT_EQ(e.user, user);
    EXPECT_EQ(format_civil(e.time), "2026-11-01 10:00:02");
    EXPECT_EQ(e.target, "/x.php");
  }
  ASSERT_TRUE(parse_access_line(
      "shop.example:443 198.51.100.4 - a b [01/Nov/2026:10:00:01 +0000] \"GET /x HTTP/2.0\" 200 12", e));
  EXPECT_EQ(e.vhost, "shop.example:443");
  EXPECT_EQ(e.user, "a b");
  // A TLS handshake sent to port 80: a line, with no method.
  ASSERT_TRUE(parse_access_line(
      "192.0.2.1 - - [01/Nov/2026:10:00:01 +0000] \"\\x16\\x03\\x01\\x02\\x00\\x01\" 400 157 \"-\" \"-\"", e));
  EXPECT_EQ(e.method, "");
  EXPECT_EQ(e.status, 400);
  // Words apart by more than one space, as nginx logs what the client sent.
  ASSERT_TRUE(parse_access_line("192.0.2.1 - - [01/Nov/2026:10:00:01 +0000] \"POST  /wp/m.php   HTTP/1.1\" 200 1", e));
  EXPECT_EQ(e.method, "POST");
  EXPECT_EQ(e.target, "/wp/m.php");
  EXPECT_EQ(e.protocol, "HTTP/1.1");
}

TEST(AccessLog, BadLinesAreRefusedNotFatal) {
  AccessEntry e;
  for (const char* bad : {"", "garbage", "1.2.3.4 - - [01/Nov/2026:10:00:01 +0000] \"GET / HTTP/1.1",
                          "1.2.3.4 - - [32/Nov/2026:10:00:01 +0000] \"GET / HTTP/1.1\" 200 1",
                          "1.2.3.4 - - [01/Nov/2026:10:00:01 +0000] \"GET / HTTP/1.1\" 2000 1",
                          "1.2.3.4 - - [01/Foo/2026:10:00:01 +0000] \"GET / HTTP/1.1\" 200 1",
                          "2026-11-01 10:00:00 1tAAAA-000001-AA <= a@b.test"})
    EXPECT_FALSE(parse_access_line(bad, e)) << bad;
}

TEST(AccessLog, TargetPath) {
  EXPECT_EQ(target_path("/wp-content/x/m%61iler.php?a=1#f"), "/wp-content/x/mailer.php");
  EXPECT_EQ(target_path("http://host.example/a/b.php?x"), "/a/b.php");
  EXPECT_EQ(target_path("/bad%zzescape%4"), "/bad%zzescape%4");
  // As Apache writes a byte it does not print, and a backslash: the bytes the client sent.
  EXPECT_EQ(target_path("/caf\\xc3\\xa9/x.php"), "/caf\xc3\xa9/x.php");
  EXPECT_EQ(target_path("/caf%C3%A9/x.php"), "/caf\xc3\xa9/x.php");
  EXPECT_EQ(target_path("/a\\\\x41.php"), "/a\\x41.php");
  EXPECT_EQ(served_path("//wp/./a/../mailer.php"), "/wp/mailer.php");
  EXPECT_EQ(served_path("/wp/mailer.php/extra/x.html"), "/wp/mailer.php");
  EXPECT_EQ(served_path("/wp/"), "/wp/");
  EXPECT_EQ(served_path("/../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(served_path(""), "/");
  EXPECT_EQ(served_path("/x/a.php/../../wp/mailer.php"), "/wp/mailer.php");  // ".." first, as the server
  EXPECT_EQ(served_path("/wp/mailer.php/../../other.php"), "/other.php");
  EXPECT_EQ(served_path("/wp/Mailer.PHP/extra"), "/wp/Mailer.PHP");
  EXPECT_TRUE(is_script_name("shell.php.jpg"));
  EXPECT_TRUE(is_script_name("x.phar"));
  EXPECT_FALSE(is_script_name("style.css"));
  EXPECT_FALSE(is_script_name(".htaccess"));
  EXPECT_FALSE(is_script_name("php"));
}

}  // namespace
}  // namespace sw::weblog
