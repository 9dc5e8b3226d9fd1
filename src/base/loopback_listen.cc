#include "base/loopback_listen.h"

#include <arpa/inet.h>

#include <charconv>
#include <string_view>

namespace sw {

bool parse_loopback_listen(const std::string& spec, std::string* host, int* port, std::string* error) {
  size_t colon = spec.rfind(':');
  in_addr address{};
  // A numeric 127.x.y.z only: a name starting with "127." could resolve anywhere.
  if (colon == std::string::npos || ::inet_pton(AF_INET, spec.substr(0, colon).c_str(), &address) != 1 ||
      (ntohl(address.s_addr) >> 24) != 127) {
    *error = "'" + spec + "' is not HOST:PORT with a numeric HOST in 127.0.0.0/8";
    return false;
  }
  *host = spec.substr(0, colon);
  std::string_view digits = std::string_view(spec).substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *port);
  if (ec != std::errc() || end != digits.data() + digits.size() || *port <= 0 || *port > 65535) {
    *error = "bad port in '" + spec + "'";
    return false;
  }
  return true;
}

}  // namespace sw
