// The local user at the other end of a connection, as the kernel knows it: SO_PEERCRED for a
// Unix socket, the owner of the peer's socket in /proc/net/tcp(6) for a loopback TCP one.
#pragma once
#include <cstdint>
#include <optional>

#include "base/proc_net_tcp.h"

namespace sw {

// nullopt when it cannot be known: a peer on another machine, a peer that has gone, a table
// that cannot be read. Without `may_read_tables`, a TCP peer the kernel's sock_diag cannot
// name is not looked for in /proc/net/tcp(6) (read whole: milliseconds on a busy host).
std::optional<uint32_t> peer_uid(int connected_fd, bool may_read_tables = true);

// The two ways peer_uid() finds a TCP socket's owner, given that socket's ends (`local` is the
// socket's own): the kernel's sock_diag lookup (nullopt when it cannot answer: no such socket,
// or no tcp_diag), and the /proc/net/tcp(6) tables, read whole.
struct TcpOwner {
  uint32_t uid = 0;
  bool open = false;  // still has a file: closed sockets read as root's
};
std::optional<TcpOwner> tcp_owner_by_sock_diag(const Ipv4Endpoint& local, const Ipv4Endpoint& remote);
std::optional<uint32_t> tcp_owner_by_proc(const Ipv4Endpoint& local, const Ipv4Endpoint& remote);

}  // namespace sw
