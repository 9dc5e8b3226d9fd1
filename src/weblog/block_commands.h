// The firewall commands that block a script's callers, and which clients may be named in one:
// the client field of an access log is the client's to write (a proxy's X-Forwarded-For, a
// name with HostnameLookups), so only one public address is.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_cidr.h"

namespace sw::weblog {

// The firewall a block command is written for: csf where it is installed, else iptables
// (ip6tables for IPv6) where it is, else nftables (an inet table "filter" with an "input"
// chain, as Debian's /etc/nftables.conf has).
enum class Firewall { Csf, Iptables, Nft };
// By what is installed under `root` ("" for /); iptables when none is found.
Firewall firewall_of(const std::string& root);
// What the commands of a firewall take for granted, or "" (said under them in the report).
std::string_view firewall_assumes(Firewall fw);

// "csf -d IP 'WHY'", "iptables -I INPUT -s IP -j DROP" or "nft add rule inet filter input ip
// saddr IP drop".
std::string block_command(std::string_view ip, Firewall fw, std::string_view why);

// A client worth a block command: one public address, written as the firewall wants it (an
// IPv4-mapped IPv6 address as IPv4), not one of `own`. Otherwise nullopt and why not: not an
// address (a name resolved by the firewall when the rule is made, a range), loopback,
// private, link-local, a Cloudflare edge (the real client is in a header the log lacks), or
// this server's own.
std::optional<std::string> blockable_address(std::string_view client, const std::vector<std::string>& own,
                                             std::string* why_not);
// This server's addresses, as blockable_address() writes them: its interfaces', and under
// `root` the public addresses cPanel records behind a NAT (/var/cpanel/cpnat "PRIVATE PUBLIC"
// lines, /var/cpanel/mainip, /etc/ips "IP:MASK:BROADCAST" lines), which no interface holds.
std::vector<std::string> own_addresses(const std::string& root);

// What the firewall's deny list already blocks, under `root`: csf's /etc/csf/csf.deny, an
// address or range first on each line ("203.0.113.9 # why", "2001:db8:1:2::/64"). Its
// advanced filters ("tcp|in|d=25|s=IP") and Include lines are not read; nothing when csf is
// not there (iptables and nft keep their rules where a file cannot show them).
std::vector<CidrRange> denied_ranges(const std::string& root);
bool is_denied(std::string_view address, const std::vector<CidrRange>& denied);

}  // namespace sw::weblog
