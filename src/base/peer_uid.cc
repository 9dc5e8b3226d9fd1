#include "base/peer_uid.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/proc_net_tcp.h"

namespace sw {
namespace {

// The whole of a /proc file (its size reads as 0, so it is read to its end), at most `cap`
// bytes: a table bigger than that is not searched.
std::optional<std::string> read_proc_file(const char* path, size_t cap) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || text.size() + size_t(n) > cap) {
      ::close(fd);
      if (n == 0) return text;
      return std::nullopt;
    }
    text.append(buffer, size_t(n));
  }
}

std::optional<Ipv4Endpoint> endpoint_of(const sockaddr_storage& address) {
  if (address.ss_family != AF_INET) return std::nullopt;
  const auto& in = reinterpret_cast<const sockaddr_in&>(address);
  return Ipv4Endpoint{in.sin_addr.s_addr, ntohs(in.sin_port)};
}

}  // namespace

std::optional<uint32_t> peer_uid(int fd) {
  sockaddr_storage ours{}, theirs{};
  socklen_t our_length = sizeof ours, their_length = sizeof theirs;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ours), &our_length) != 0) return std::nullopt;
  if (ours.ss_family == AF_UNIX) {
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return std::nullopt;
    return credentials.uid;
  }
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&theirs), &their_length) != 0) return std::nullopt;
  auto local = endpoint_of(ours), remote = endpoint_of(theirs);
  if (!local || !remote) return std::nullopt;
  // The peer's socket is the row seen from its side: its end local, ours remote. An IPv4
  // client's socket is in tcp, or in tcp6 when it connected from an IPv6 socket.
  constexpr size_t kTableCap = 64 << 20;  // about 450,000 sockets
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    auto text = read_proc_file(table, kTableCap);
    if (!text) continue;
    if (auto uid = tcp_socket_owner(*text, *remote, *local)) return uid;
  }
  return std::nullopt;
}

}  // namespace sw
