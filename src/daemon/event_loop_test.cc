#include "daemon/event_loop.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "base/temp_dir.h"
#include "daemon/policy_sessions.h"

namespace sw::daemon {
namespace {

int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int connect_tcp(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(0x7f000001);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Everything until EOF or `timeout`; "<open>" appended when the server kept the connection open.
std::string read_until_eof(int fd, int timeout_ms = 2000) {
  std::string out;
  char buf[4096];
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int left =
        int(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, left) <= 0) return out + "<open>";
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, size_t(n));
  }
}

std::string read_some(int fd, size_t want) {
  std::string out;
  char buf[4096];
  while (out.size() < want) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  return out;
}

void send_all(int fd, std::string_view s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), ssize_t(s.size()));
}

struct Server {
  explicit Server(ServerLimits limits = {}, std::optional<std::vector<uint32_t>> postfix_users = std::nullopt)
      : loop(limits, [this](const std::string& l) { log.push_back(l); }) {
    config::ServePolicy policy = config::default_serve_policy();
    policy.limits[size_t(config::Actor::AuthAccount)] = {{3600, 2, 0}};
    engine = std::make_unique<policy::Engine>(policy, &counters, &counters, nullptr, nullptr);
    decisions.now_ms = [] { return int64_t(1e12); };
    exim = std::make_unique<EximSessionFactory>(engine.get(), &decisions);
    postfix = std::make_unique<PostfixSessionFactory>(engine.get(), &decisions);
    postfix->set_allowed_uids(std::move(postfix_users));
    socket = dir.path + "/serve.sock";
    for (port = 20000 + int(::getpid() % 20000);; ++port) {
      std::string error;
      EventLoop probe(limits, nullptr);
      if (probe.listen({{"127.0.0.1:" + std::to_string(port), postfix.get()}}, &error)) break;
    }
    std::string error;
    EXPECT_TRUE(loop.listen({{socket, exim.get()}, {"127.0.0.1:" + std::to_string(port), postfix.get()}}, &error))
        << error;
    thread = std::thread([this] { loop.run(std::chrono::milliseconds(50), [] {}); });
  }
  ~Server() {
    loop.stop();
    thread.join();
  }
  using ServePolicy = config::ServePolicy;
  TempDir dir;
  std::vector<std::string> log;
  policy::EmbeddedCounterStore counters;
  std::unique_ptr<policy::Engine> engine;
  DecisionLog decisions;
  std::unique_ptr<EximSessionFactory> exim;
  std::unique_ptr<PostfixSessionFactory> postfix;
  EventLoop loop;
  std::string socket;
  int port = 0;
  std::thread thread;
};

TEST(EventLoop, EximRequestIsAnsweredAtItsNewlineOrAtTheHalfClose) {
  Server s;
  int fd = connect_unix(s.socket);
  ASSERT_GE(fd, 0);
  send_all(fd, "v1 stage=rcpt ip=192.0.2.1 rcpt=a@b.example\n");
  EXPECT_EQ(read_until_eof(fd), "DUNNO\n");
  ::close(fd);
  // Like ${readsocket}: the request without a newline, then shutdown(SHUT_WR).
  for (int i = 0; i < 3; ++i) {
    fd = connect_unix(s.socket);
    send_all(fd, "v1 stage=data ip=192.0.2.1 auth=a@b.example rcpts=1");
    ::shutdown(fd, SHUT_WR);
    std::string reply = read_until_eof(fd);
    ::close(fd);
    if (i < 2) EXPECT_EQ(reply, "DUNNO\n");
    else EXPECT_EQ(reply, "DEFER rate_limit auth_account:a@b.example 3 messages in 3600s (limit 2)\n");
  }
}

TEST(EventLoop, PostfixConnectionServesManyRequests) {
  Server s;
  int fd = connect_tcp(s.port);
  ASSERT_GE(fd, 0);
  std::string request = "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.1\n\n";
  send_all(fd, request + request);
  EXPECT_EQ(read_some(fd, 28), "action=DUNNO\n\naction=DUNNO\n\n");
  send_all(fd, request);
  EXPECT_EQ(read_some(fd, 14), "action=DUNNO\n\n");
  send_all(fd, "garbage without equals\n");  // the protocol's rule: close without a reply
  EXPECT_EQ(read_until_eof(fd), "");
  ::close(fd);
}

// The Postfix listener is loopback TCP, open to every local user: only the users allowed (the
// kernel's answer for the client's socket) are answered; anyone else is closed unanswered.
TEST(EventLoop, PostfixRequestsOnlyFromTheAllowedUsers) {
  const std::string request = "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.1\n\n";
  for (bool allowed : {true, false}) {
    std::vector<std::string> written;
    Server s({}, std::vector<uint32_t>{allowed ? uint32_t(::geteuid()) : uint32_t(::geteuid()) + 12345});
    s.decisions.write = [&written](const std::string& line) { written.push_back(line); };
    int fd = connect_tcp(s.port);
    ASSERT_GE(fd, 0);
    send_all(fd, request);
    // Postfix keeps its connection open for the next request; a refused one is closed.
    EXPECT_EQ(read_until_eof(fd, 500), allowed ? "action=DUNNO\n\n<open>" : "") << allowed;
    ::close(fd);
    if (!allowed) {
      ASSERT_EQ(written.size(), 1u);
      EXPECT_NE(written[0].find("is not Postfix's ([serve] policy_users)"), std::string::npos) << written[0];
    }
  }
}

TEST(EventLoop, BadAndOversizedRequestsCloseTheConnectionWithoutAnAnswer) {
  Server s;
  int fd = connect_unix(s.socket);
  send_all(fd, "v9 stage=rcpt\n");
  EXPECT_EQ(read_until_eof(fd), "");
  ::close(fd);
  fd = connect_unix(s.socket);
  std::string huge(1 << 20, 'a');
  ::send(fd, huge.data(), huge.size(), MSG_NOSIGNAL);  // may fail part-way once the server closed
  EXPECT_EQ(read_until_eof(fd), "");
  ::close(fd);
  EXPECT_GE(s.decisions.bad_requests, 2u);
}

TEST(EventLoop, SlowlorisIsClosedAtTheRequestDeadline) {
  ServerLimits limits;
  limits.request_timeout = std::chrono::milliseconds(300);
  Server s(limits);
  int fd = connect_unix(s.socket);
  auto start = std::chrono::steady_clock::now();
  std::string result;
  for (int i = 0; i < 20; ++i) {  // a byte every 50 ms never extends the deadline
    if (::send(fd, "v", 1, MSG_NOSIGNAL) != 1) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) break;
  }
  result = read_until_eof(fd, 1000);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(result, "");
  EXPECT_LT(seconds, 0.9);
  ::close(fd);
}

TEST(EventLoop, ConnectionsBeyondTheLimitAreClosed) {
  ServerLimits limits;
  limits.max_connections = 5;
  Server s(limits);
  std::vector<int> open;
  for (int i = 0; i < 5; ++i) open.push_back(connect_unix(s.socket));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int extra = connect_unix(s.socket);
  EXPECT_EQ(read_until_eof(extra, 1000), "");  // closed at once, no answer
  ::close(extra);
  send_all(open[0], "v1 stage=connect ip=192.0.2.1\n");
  EXPECT_EQ(read_until_eof(open[0]), "DUNNO\n");  // the ones inside still work
  for (int fd : open) ::close(fd);
  EXPECT_GE(s.loop.counts().refused_over_limit, 1u);
}

TEST(EventLoop, AThousandConcurrentConnections) {
  Server s;
  std::vector<int> fds;
  for (int i = 0; i < 1000; ++i) {
    int fd = connect_unix(s.socket);
    ASSERT_GE(fd, 0) << i;
    fds.push_back(fd);
  }
  for (int fd : fds) send_all(fd, "v1 stage=rcpt ip=192.0.2.1\n");
  int answered = 0;
  for (int fd : fds) {
    answered += read_until_eof(fd) == "DUNNO\n";
    ::close(fd);
  }
  EXPECT_EQ(answered, 1000);
}

TEST(EventLoop, RefusesNonLoopbackTcp) {
  EventLoop loop({}, nullptr);
  std::string error;
  EXPECT_FALSE(loop.listen({{"0.0.0.0:10040", nullptr}}, &error));
  EXPECT_NE(error.find("0.0.0.0"), std::string::npos);
}

}  // namespace
}  // namespace sw::daemon
