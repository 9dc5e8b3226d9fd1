// The daemons' log: one line per action on stderr (systemd's journal or the service's log file
// take it from there), stamped to the millisecond like Exim's +millisec.
#pragma once
#include <string_view>

namespace sw {

// "2026-11-22 16:47:26.435 WHO: TEXT", local time. TEXT is made printable: it carries outside
// text (actor keys, peers' addresses, Redis's errors).
void print_log_line(std::string_view who, std::string_view text);

}  // namespace sw
