// Web server access-log lines (Apache and nginx, "combined" and "common" formats, with or
// without Apache's leading "vhost:port"), parsed with the care the main log gets: any byte
// sequence is accepted, a line that is not one of these shapes is reported as such, never
// fatal. Pure: no I/O; views point into the caller's line.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "base/civil_time.h"

namespace sw::weblog {

// How the client field reads. %h is one word, the TCP peer (or its name) the client cannot
// forge; behind a proxy, Apache's %{X-Forwarded-For}i in its place logs a list whose last hop
// our proxy added and whose rest the client wrote. A line such as "8.8.8.8 - x, 45.8.8.4 - -
// [...]" reads both ways (client 8.8.8.8 with user "x, 45.8.8.4 - -", or 45.8.8.4): only the
// log's format, which other lines prove, tells which.
enum class ClientReading : uint8_t {
  Plain,             // %h, the one reading
  Forwarded,         // an X-Forwarded-For list, the one reading: proves the log writes them
  PlainOrForwarded,  // client as %h, other_client as a list's: the log's format decides
  Unsure,            // two lists' clients (a user name with ", ADDRESS - -" in it): never known
};

struct AccessEntry {
  std::string_view vhost;  // "example.com:443" when the line starts with it, else empty
  // The client address (or name, with HostnameLookups), without brackets or a port.
  std::string_view client;
  std::string_view other_client;  // the other reading's, for PlainOrForwarded and Unsure
  ClientReading reading = ClientReading::Plain;
  bool forwarded_only = false;  // no %h reading fits: the log writes X-Forwarded-For lists
  std::string_view user;        // %u, "-" when none
  CivilSeconds time = 0;        // [%t] as written: the server's wall clock
  int utc_offset_minutes = 0;   // its zone, "+0100" -> 60
  CivilSeconds utc_time() const { return time - CivilSeconds(utc_offset_minutes) * 60; }
  // "%r" split: method, target and protocol; a request line that is not three words (garbage,
  // a TLS handshake sent to port 80) leaves method and target empty and `request` whole.
  std::string_view request;  // still escaped as the server wrote it
  std::string_view method, target, protocol;
  int status = 0;               // 0 when "-"
  uint64_t bytes = 0;           // "-" is 0
  std::string_view referer;     // combined only; still escaped
  std::string_view user_agent;  // combined only; still escaped
  bool combined = false;
};

// True when the line is an access-log line; `out` is reset first.
bool parse_access_line(std::string_view line, AccessEntry& out);

// The path of a request target: unescaped as the server wrote it (\xHH), without "?query" and
// "#fragment", with %XX decoded (an invalid escape is kept as it is), so "/wp-content/x/m%61iler.php?a=1" is
// "/wp-content/x/mailer.php". A full URL ("http://host/path", proxies) gives its path.
std::string target_path(std::string_view target);

// Whether a file name is one a web server runs (.php, .phtml, .cgi, .pl ...), not serves.
bool is_script_name(std::string_view name);

// The file a request path runs, as the web server resolves it: empty and "." segments and
// ".." (with the one before it) taken out, and what follows a script's name dropped (PHP's
// path info: /wp/mailer.php/x runs /wp/mailer.php). A path ending in "/" keeps it.
std::string served_path(std::string_view path);

// A field as the server escaped it (\" \\ \xHH, nginx and Apache alike), unescaped and made
// printable for a report.
std::string unescape_field(std::string_view field);
// The same, as bytes: a request target's "\xc3\xa9" is the "é" of a directory's name.
std::string unescape_bytes(std::string_view field);

}  // namespace sw::weblog
