// Parses one Exim main-log line (without its newline). Pure: bytes in, struct out, no I/O,
// no allocation. See ../shared/reference/exim-formats.md sections 1 and 7 for the grammar.
#pragma once
#include <optional>
#include <string_view>

#include "eximlog/log_line.h"

namespace sw::eximlog {

// How much of a line to take apart. Essential skips what only a full record needs and log
// forensics never reads: the host fields of connection lines, everything after the addresses
// on delivery, defer and bounce lines (R=, T=, F=, H=, C=, the failure message), the host
// tags of rejections other than RCPT, and cPanel's identification tags. The kind, time, pid,
// id and every other field are the same as with All.
enum class LineFields : uint8_t { All, Essential };

// Fills `out` (reset first) and returns its kind. Never throws; any byte sequence is accepted.
LineKind parse_line(std::string_view line, LogLine& out, LineFields fields = LineFields::All);
// Only the line's time, as parse_line gives it (zone applied); nullopt when it has none.
std::optional<CivilSeconds> line_time(std::string_view line);

// Parses the "H=" host field value starting at s (after "H="): "name (helo) [ip]:port",
// "(helo) [ip]", "[ip]". Returns how many bytes it consumed.
size_t parse_host_field(std::string_view s, LogLine& out);

// Splits the "for a b c" recipient list; quoted local parts may contain spaces.
// Calls fn(address) for each; returns the count.
template <class Fn>
size_t for_each_recipient(std::string_view list, Fn&& fn) {
  size_t count = 0, i = 0;
  while (i < list.size()) {
    while (i < list.size() && list[i] == ' ') ++i;
    if (i >= list.size()) break;
    size_t start = i;
    bool quoted = false;
    for (; i < list.size(); ++i) {
      char c = list[i];
      if (c == '"') quoted = !quoted;
      else if (c == '\\' && quoted && i + 1 < list.size()) ++i;
      else if (c == ' ' && !quoted) break;
    }
    std::string_view addr = list.substr(start, i - start);
    if (addr == "<trunc>") break;
    fn(addr);
    ++count;
  }
  return count;
}

}  // namespace sw::eximlog
