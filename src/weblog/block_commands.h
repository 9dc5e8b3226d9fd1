// The firewall commands that block a script's callers, and which clients may be named in one:
// the client field of an access log is the client's to write (a proxy's X-Forwarded-For, a
// name with HostnameLookups), so only one public address is.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::weblog {

// "csf -d IP 'spamwarden: ...'" on cPanel, else "iptables -I INPUT -s IP -j DROP" (ip6tables
// for IPv6).
std::string block_command(std::string_view ip, bool cpanel, std::string_view why);

// A client worth a block command: one public address, written as the firewall wants it (an
// IPv4-mapped IPv6 address as IPv4), not one of `own`. Otherwise nullopt and why not: not an
// address (a name resolved by the firewall when the rule is made, a range), loopback,
// private, link-local, or this server's own.
std::optional<std::string> blockable_address(std::string_view client, const std::vector<std::string>& own,
                                             std::string* why_not);
// This server's addresses (its interfaces'), as blockable_address() writes them.
std::vector<std::string> own_addresses();

}  // namespace sw::weblog
