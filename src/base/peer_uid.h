// The local user at the other end of a connection, as the kernel knows it: SO_PEERCRED for a
// Unix socket, the owner of the peer's socket in /proc/net/tcp(6) for a loopback TCP one.
#pragma once
#include <cstdint>
#include <optional>

namespace sw {

// nullopt when it cannot be known: a peer on another machine, a peer that has gone, a table
// that cannot be read.
std::optional<uint32_t> peer_uid(int connected_fd);

}  // namespace sw
