#include "base/peer_uid.h"

#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

std::optional<TcpOwner> tcp_owner_by_sock_diag(const Ipv4Endpoint& local, const Ipv4Endpoint& remote) {
  int nl = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return std::nullopt;
  // One exact lookup per family: the socket is in AF_INET, or in AF_INET6 with the addresses
  // IPv4-mapped when the client connected from an IPv6 socket.
  std::optional<TcpOwner> owner;
  for (uint8_t family : {uint8_t(AF_INET), uint8_t(AF_INET6)}) {
    struct {
      nlmsghdr header;
      inet_diag_req_v2 request;
    } query{};
    query.header.nlmsg_len = sizeof query;
    query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    query.header.nlmsg_flags = NLM_F_REQUEST;
    query.request.sdiag_family = family;
    query.request.sdiag_protocol = IPPROTO_TCP;
    query.request.idiag_states = ~0u;
    inet_diag_sockid& id = query.request.id;
    id.idiag_sport = htons(local.port);
    id.idiag_dport = htons(remote.port);
    if (family == AF_INET) {
      id.idiag_src[0] = local.address, id.idiag_dst[0] = remote.address;
    } else {
      static constexpr uint8_t kMapped[4] = {0, 0, 0xff, 0xff};
      uint32_t mapped;
      std::memcpy(&mapped, kMapped, sizeof mapped);
      id.idiag_src[2] = id.idiag_dst[2] = mapped;
      id.idiag_src[3] = local.address, id.idiag_dst[3] = remote.address;
    }
    id.idiag_cookie[0] = id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(nl, &query, sizeof query, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) break;
    alignas(nlmsghdr) char reply[8192];
    pollfd p{nl, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) break;
    ssize_t n = ::recv(nl, reply, sizeof reply, 0);
    if (n < ssize_t(sizeof(nlmsghdr))) break;
    const auto* header = reinterpret_cast<const nlmsghdr*>(reply);
    if (!NLMSG_OK(header, size_t(n))) break;
    if (header->nlmsg_type == SOCK_DIAG_BY_FAMILY && header->nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
      const auto* found = static_cast<const inet_diag_msg*>(NLMSG_DATA(header));
      owner = TcpOwner{found->idiag_uid, found->idiag_inode != 0};
      break;
    }
    // NLMSG_ERROR: ENOENT is "no such socket" (try the other family) but also "no tcp_diag in
    // this kernel"; the caller then reads the tables.
  }
  ::close(nl);
  return owner;
}

std::optional<uint32_t> peer_uid(int fd, bool may_read_tables) {
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
  // The peer's socket seen from its side: its end local, ours remote. Asked of the kernel by
  // its address (sock_diag, what `ss` uses: one lookup), else found in the whole table.
  if (auto owner = tcp_owner_by_sock_diag(*remote, *local)) {
    if (!owner->open) return std::nullopt;  // closed: its uid is not its owner's (see tcp_socket_owner)
    return owner->uid;
  }
  return may_read_tables ? tcp_owner_by_proc(*remote, *local) : std::nullopt;
}

std::optional<uint32_t> tcp_owner_by_proc(const Ipv4Endpoint& local, const Ipv4Endpoint& remote) {
  constexpr size_t kTableCap = 64 << 20;  // about 450,000 sockets
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    auto text = read_proc_file(table, kTableCap);
    if (!text) continue;
    if (auto uid = tcp_socket_owner(*text, local, remote)) return uid;
  }
  return std::nullopt;
}

}  // namespace sw
