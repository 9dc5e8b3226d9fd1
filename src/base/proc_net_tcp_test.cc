#include "base/proc_net_tcp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/peer_uid.h"

namespace sw {
namespace {

Ipv4Endpoint endpoint(const char* address, uint16_t port) {
  in_addr a{};
  inet_pton(AF_INET, address, &a);
  return {a.s_addr, port};
}

// As the kernel printed them for a client on 127.0.0.1:57720 (uid 1000) connected to a
// listener on 127.0.0.1:50701 (uid 0), the client once from an IPv4 socket, once from IPv6.
constexpr std::string_view kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 0100007F:C60D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3154337 1 0 100 0\n"
    "   1: 0100007F:E178 0100007F:C60D 01 00000000:00000000 00:00000000 00000000  1000        0 3154338 1 0 20 0\n"
    "   2: 0100007F:C60D 0100007F:E178 01 00000000:00000000 00:00000000 00000000     0        0 3154339 1 0 20 0\n";
constexpr std::string_view kTcp6 =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr "
    "tm->when retrnsmt   uid  timeout inode\n"
    "   0: 0000000000000000FFFF00000100007F:E178 0000000000000000FFFF00000100007F:C60D 01 00000000:00000000 "
    "00:00000000 00000000  1000        0 3154338 2 0 20 0 0 10 -1\n";

TEST(TcpSocketOwner, FindsThePeersRowFromItsSide) {
  auto listener = endpoint("127.0.0.1", 50701), client = endpoint("127.0.0.1", 57720);
  EXPECT_EQ(tcp_socket_owner(kTcp, client, listener), 1000u);
  EXPECT_EQ(tcp_socket_owner(kTcp, listener, client), 0u);  // our own end
  EXPECT_EQ(tcp_socket_owner(kTcp6, client, listener), 1000u);
  EXPECT_EQ(tcp_socket_owner(kTcp, client, endpoint("127.0.0.1", 50702)), std::nullopt);
  EXPECT_EQ(tcp_socket_owner(kTcp, endpoint("127.0.0.2", 57720), listener), std::nullopt);
}

TEST(TcpSocketOwner, SkipsRowsThatDoNotParse) {
  auto listener = endpoint("127.0.0.1", 50701), client = endpoint("127.0.0.1", 57720);
  std::string table =
      "   1: 0100007F:E178 0100007F:C60D 01\n"                                                       // too short
      "   1: 0100007G:E178 0100007F:C60D 01 00000000:00000000 00:00000000 00000000  7 0 1\n"         // not hex
      "   1: 0100007F:E1780 0100007F:C60D 01 00000000:00000000 00:00000000 00000000  7 0 1\n"        // port too long
      "   1: 0100007F:E178 0100007F:C60D 01 00000000:00000000 00:00000000 00000000  -7 0 1\n"        // uid not a number
      "   1: 0100007F:E178 0100007F:C60D 01 00000000:00000000 00:00000000 00000000  4294967296 0\n"  // past 32 bits
      "   1: 00000000000000000000000001000000:E178 0100007F:C60D 01 0:0 0:0 0 9 0 1\n"               // IPv6, not mapped
      "   1: 0100007F:E178 0100007F:C60D 01 00000000:00000000 00:00000000 00000000  4294967295 0 1";  // no newline
  EXPECT_EQ(tcp_socket_owner(table, client, listener), 4294967295u);
  EXPECT_EQ(tcp_socket_owner("", client, listener), std::nullopt);
  EXPECT_EQ(tcp_socket_owner("\n\n  \n", client, listener), std::nullopt);
}

// The rows the kernel prints for a client on 127.0.0.1:34660 (uid 65534) that closed its socket
// after sending to a listener on 127.0.0.1:36681: first orphaned in FIN_WAIT1 (inode 0; uid 0
// before Linux 6.17, whose sock_i_uid() answers root for a socket without a file), then, once its
// FIN is acknowledged, a FIN_WAIT2 timewait socket, which every kernel prints with uid 0. Neither
// says who the client was; neither is root's.
TEST(TcpSocketOwner, AClosedClientsRowIsNotRoots) {
  auto listener = endpoint("127.0.0.1", 36681), client = endpoint("127.0.0.1", 34660);
  constexpr std::string_view kOrphan =
      "  11: 0100007F:8764 0100007F:8F49 04 00000001:00000000 01:00000014 00000000     0        0 0 2 0 20 4 30 10 "
      "-1\n";
  constexpr std::string_view kTimewait =
      "  11: 0100007F:8764 0100007F:8F49 05 00000000:00000000 03:00001760 00000000     0        0 0 3 "
      "00000000414ea9a5\n";
  EXPECT_NE(tcp_socket_owner(kOrphan, client, listener), 0u);
  EXPECT_NE(tcp_socket_owner(kTimewait, client, listener), 0u);
}

// A connected pair over loopback TCP: {listener's accepted end, client end}.
std::pair<int, int> loopback_pair(int client_family) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, 4) != 0 || getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return {-1, -1};
  int client = socket(client_family, SOCK_STREAM, 0);
  int connected = -1;
  if (client_family == AF_INET) {
    connected = connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address);
  } else {
    sockaddr_in6 mapped{};
    mapped.sin6_family = AF_INET6;
    mapped.sin6_port = address.sin_port;
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
    connected = connect(client, reinterpret_cast<sockaddr*>(&mapped), sizeof mapped);
  }
  int accepted = connected == 0 ? accept(listener, nullptr, nullptr) : -1;
  close(listener);
  return {accepted, client};
}

TEST(PeerUid, LoopbackTcpFromIpv4AndIpv6Sockets) {
  for (int family : {AF_INET, AF_INET6}) {
    auto [ours, theirs] = loopback_pair(family);
    ASSERT_GE(ours, 0) << family;
    EXPECT_EQ(peer_uid(ours), uint32_t(geteuid())) << family;
    close(theirs);
    close(ours);
  }
}

// Both ways to the owner agree on a live pair, from either end and from an IPv6 client.
TEST(PeerUid, TheKernelsLookupAndTheTablesAgree) {
  for (int family : {AF_INET, AF_INET6}) {
    auto [ours, theirs] = loopback_pair(family);
    ASSERT_GE(ours, 0) << family;
    sockaddr_in a{}, b{};
    socklen_t la = sizeof a, lb = sizeof b;
    ASSERT_EQ(getsockname(ours, reinterpret_cast<sockaddr*>(&a), &la), 0);
    ASSERT_EQ(getpeername(ours, reinterpret_cast<sockaddr*>(&b), &lb), 0);
    Ipv4Endpoint listener{a.sin_addr.s_addr, ntohs(a.sin_port)}, client{b.sin_addr.s_addr, ntohs(b.sin_port)};
    auto by_diag = tcp_owner_by_sock_diag(client, listener);
    ASSERT_TRUE(by_diag) << "sock_diag answered nothing for family " << family;
    EXPECT_TRUE(by_diag->open);
    EXPECT_EQ(by_diag->uid, uint32_t(geteuid()));
    EXPECT_EQ(tcp_owner_by_proc(client, listener), uint32_t(geteuid())) << family;
    EXPECT_EQ(tcp_owner_by_sock_diag(listener, client)->uid, uint32_t(geteuid()));     // our own end
    EXPECT_FALSE(tcp_owner_by_sock_diag(client, Ipv4Endpoint{a.sin_addr.s_addr, 1}));  // no such socket
    close(theirs);
    close(ours);
  }
}

TEST(PeerUid, UnixSocketByPeerCredentials) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  EXPECT_EQ(peer_uid(pair[0]), uint32_t(geteuid()));
  close(pair[0]);
  close(pair[1]);
  EXPECT_EQ(peer_uid(-1), std::nullopt);
}

// A listening socket on 127.0.0.1, any port; `address` says which. -1 on failure.
int loopback_listener(sockaddr_in& address) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, 4) != 0 || getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return -1;
  return listener;
}

// The uid that matters is the peer's, not ours: a client socket handed to a child that becomes
// another user is still owned by the user that created it, so the child creates its own.
TEST(PeerUid, AnotherUsersClientIsThatUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  sockaddr_in address{};
  int listener = loopback_listener(address);
  ASSERT_GE(listener, 0);
  int hold[2];
  ASSERT_EQ(pipe(hold), 0);
  pid_t child = fork();
  if (child == 0) {
    close(hold[1]);
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) _exit(3);
    char byte;
    (void)!read(hold[0], &byte, 1);  // stays connected until the parent has looked
    _exit(0);
  }
  close(hold[0]);
  int accepted = accept(listener, nullptr, nullptr);
  EXPECT_EQ(peer_uid(accepted), 65534u);
  close(hold[1]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(accepted);
  close(listener);
}

// The same on a live kernel: nobody connects, sends and closes; by the time the listener has read
// to the end (and its kernel has acknowledged the FIN, at most a delayed ACK later) the client's
// row reads uid 0, and peer_uid must not answer root.
TEST(PeerUid, AnotherUsersClientThatClosedIsNotRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  sockaddr_in address{};
  int listener = loopback_listener(address);
  ASSERT_GE(listener, 0);
  pid_t child = fork();
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) _exit(3);
    if (write(client, "TELL", 4) != 4) _exit(4);
    close(client);
    _exit(0);
  }
  int accepted = accept(listener, nullptr, nullptr);
  char buffer[16];
  while (read(accepted, buffer, sizeof buffer) > 0) {
  }
  usleep(500 * 1000);  // the listener's delayed ACK of the FIN
  EXPECT_NE(peer_uid(accepted), std::optional<uint32_t>(0u));
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(accepted);
  close(listener);
}

}  // namespace
}  // namespace sw
