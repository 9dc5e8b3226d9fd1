// Who owns a TCP socket on this machine, from the kernel's tables of them (/proc/net/tcp and
// /proc/net/tcp6), as identd answers it: how a daemon tells which local user is at the other
// end of a loopback connection, where SO_PEERCRED only works for Unix sockets. Pure: the
// caller reads the tables (base/peer_uid).
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace sw {

// An IPv4 endpoint as the socket API holds it: the address in network byte order (sin_addr),
// the port in host order.
struct Ipv4Endpoint {
  uint32_t address = 0;
  uint16_t port = 0;
};

// The uid owning the socket whose local end is `local` and remote end `remote`, from the text
// of /proc/net/tcp, or of /proc/net/tcp6 (where an IPv4 client's socket may be, with its
// addresses IPv4-mapped). nullopt when no row matches, or when the matching socket has been
// closed (no file: its uid is not its owner's); rows that do not parse are skipped.
std::optional<uint32_t> tcp_socket_owner(std::string_view table, Ipv4Endpoint local, Ipv4Endpoint remote);

}  // namespace sw
