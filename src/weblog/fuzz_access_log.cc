// libFuzzer: access logs are written from what any client on the internet sends.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/ip_cidr.h"
#include "weblog/access_log.h"
#include "weblog/block_commands.h"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  sw::weblog::AccessEntry e;
  if (sw::weblog::parse_access_line(line, e)) {
    // Every field is a view into the line, and a parsed line has a time.
    for (std::string_view part : {e.vhost, e.client, e.other_client, e.user, e.request, e.method, e.target, e.protocol,
                                  e.referer, e.user_agent})
      if (!inside(part, line)) __builtin_trap();
    // A line that reads two ways names a second client, and only such a line.
    bool two_way =
        e.reading == sw::weblog::ClientReading::PlainOrForwarded || e.reading == sw::weblog::ClientReading::Unsure;
    if (two_way == e.other_client.empty() || e.client.empty()) __builtin_trap();
    if (e.time == 0) __builtin_trap();
    std::string path = sw::weblog::served_path(sw::weblog::target_path(e.target));
    // As the server resolves it: absolute, with no empty, "." or ".." segment left.
    if (path.empty() || path[0] != '/' || path.find("//") != std::string::npos ||
        path.find("/../") != std::string::npos || path.find("/./") != std::string::npos)
      __builtin_trap();
    (void)sw::weblog::unescape_field(e.user_agent);
    // The client field is the block commands' input: an address given back is one the
    // firewall takes as it is, and giving it again gives it back unchanged.
    if (auto ip = sw::weblog::blockable_address(e.client, {}, nullptr)) {
      if (!sw::parse_ip(*ip) || sw::weblog::blockable_address(*ip, {}, nullptr) != ip) __builtin_trap();
    }
  }
  (void)sw::weblog::target_path(line);
  (void)sw::weblog::unescape_field(line);
  return 0;
}
