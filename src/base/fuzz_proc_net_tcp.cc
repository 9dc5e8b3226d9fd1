// libFuzzer target for the reading of /proc/net/tcp(6): any text, any endpoints; it must not
// crash, and a uid it finds must be on a row that names both endpoints.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "base/proc_net_tcp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 12) return 0;
  sw::Ipv4Endpoint local, remote;
  std::memcpy(&local.address, data, 4);
  std::memcpy(&local.port, data + 4, 2);
  std::memcpy(&remote.address, data + 6, 4);
  std::memcpy(&remote.port, data + 10, 2);
  std::string_view table(reinterpret_cast<const char*>(data + 12), size - 12);
  auto uid = sw::tcp_socket_owner(table, local, remote);
  if (uid && table.find(':') == std::string_view::npos) std::abort();
  (void)sw::tcp_socket_owner(table, remote, local);
  return 0;
}
