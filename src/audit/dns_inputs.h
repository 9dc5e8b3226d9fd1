// What the DNS checks need, read from a cPanel server's own files: the hosted domains
// (/etc/localdomains), the outbound IPs (/var/cpanel/mainip, /etc/mailips), the HELO name
// (/etc/mailhelo, else the host name) and the DKIM keys cPanel signs with
// (/var/cpanel/domain_keys/private/DOMAIN, selector "default").
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "audit/dns_checks.h"

namespace sw::audit {

// "key: value" lines as in /etc/mailips and /etc/mailhelo; '#' comments and blank lines skipped,
// keys lower-cased, the first value of a key kept.
std::map<std::string, std::string> parse_colon_map(std::string_view text);

// Fills domains, outbound_ips and helo_name from the files under `root` ("/" on the server).
// Unreadable or missing files leave their part empty and add a line to `problems`.
DnsAuditInput cpanel_dns_input(const std::string& root, std::vector<std::string>& problems);

}  // namespace sw::audit
