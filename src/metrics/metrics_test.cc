// Prometheus output of the watch daemon: every family present with its value, per-actor-type
// totals and trailing-minute rates, holds and containment events; TypeRates' window; and the
// server over real loopback sockets: slow clients, too many clients, a busy port.
#include "metrics/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

namespace sw::metrics {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(MetricsTest, RendersEveryFamilyWithItsValue) {
  WatchMetrics m;
  m.lines = 1234;
  m.holds_active = 3;
  m.containment_events = 5;
  m.frozen = 42;
  m.active_actors = 17;
  m.lag_seconds = 2;
  m.messages_by_type[size_t(detect::ActorType::Script)] = 300;
  m.messages_by_type[size_t(detect::ActorType::AuthAccount)] = 7;
  m.messages_last_minute[size_t(detect::ActorType::Script)] = 60;
  m.messages_last_minute[size_t(detect::ActorType::Sender)] = 2;
  std::string out = render_prometheus(m);
  EXPECT_TRUE(has_line(out, "spamwarden_log_lines_total 1234")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_holds_active 3")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_containment_events_total 5")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_frozen_messages_total 42")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_active_actors 17")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_log_lag_seconds 2")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_messages_total{actor_type=\"script\"} 300")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_messages_total{actor_type=\"auth_account\"} 7")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_messages_total{actor_type=\"client_ip\"} 0")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_messages_last_minute{actor_type=\"script\"} 60")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_messages_last_minute{actor_type=\"sender\"} 2")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_messages_last_minute{actor_type=\"local_user\"} 0")) << out;
  EXPECT_TRUE(has_line(out, "# TYPE spamwarden_holds_active gauge")) << out;
  EXPECT_TRUE(has_line(out, "# TYPE spamwarden_containment_events_total counter")) << out;
  EXPECT_TRUE(has_line(out, "# TYPE spamwarden_messages_last_minute gauge")) << out;
  // One sample line per actor type for each labelled family.
  size_t n = 0;
  for (size_t at = out.find("\nspamwarden_messages_total{"); at != std::string::npos;
       at = out.find("\nspamwarden_messages_total{", at + 1))
    ++n;
  EXPECT_EQ(n, detect::kActorTypes);
}

TEST(MetricsTest, TypeRatesCountTheTrailingMinute) {
  TypeRates r;
  TypeRates::Counts c{};
  EXPECT_EQ(r.last_minute()[0], 0u);
  r.sample(1000, c);
  EXPECT_EQ(r.last_minute()[0], 0u);  // one sample: no rate yet
  for (int s = 1; s <= 120; ++s) {    // 10 script messages a second for two minutes
    c[size_t(detect::ActorType::Script)] += 10;
    if (s % 2 == 0) c[size_t(detect::ActorType::ClientIp)] += 1;
    r.sample(1000 + s, c);
  }
  EXPECT_EQ(r.last_minute()[size_t(detect::ActorType::Script)], 600u);
  EXPECT_EQ(r.last_minute()[size_t(detect::ActorType::ClientIp)], 30u);
  EXPECT_EQ(r.last_minute()[size_t(detect::ActorType::Sender)], 0u);
  // Quiet for a while: the rate falls to zero once the busy samples leave the window.
  for (int s = 121; s <= 200; ++s) r.sample(1000 + s, c);
  EXPECT_EQ(r.last_minute()[size_t(detect::ActorType::Script)], 0u);
}

TEST(MetricsTest, TypeRatesStayBoundedWithFastSamples) {
  TypeRates r;
  TypeRates::Counts c{};
  for (int i = 0; i < 10000; ++i) {
    c[0] += 1;
    r.sample(5000, c);  // many samples within one second
  }
  EXPECT_LE(r.last_minute()[0], TypeRates::kMaxSamples);
  EXPECT_GT(r.last_minute()[0], 0u);
}

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A listening socket on a port the kernel picked; the caller closes it (or keeps it, to hold
// the port).
int listen_anywhere(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  socklen_t length = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length) != 0)
    ADD_FAILURE() << "cannot bind a loopback port";
  *port = ntohs(a.sin_port);
  return fd;
}

int free_port() {
  int port = 0;
  ::close(listen_anywhere(&port));
  return port;
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ADD_FAILURE() << "cannot connect";
  return fd;
}

// Reads until the server closes the connection or `limit` passes; `closed` says which.
std::string read_until_closed(int fd, Clock::duration limit, bool* closed) {
  std::string got;
  auto end = Clock::now() + limit;
  *closed = false;
  for (auto now = Clock::now(); now < end; now = Clock::now()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, int(std::chrono::ceil<milliseconds>(end - now).count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    got.append(buf, size_t(n));
  }
  return got;
}

// GET /metrics as Prometheus does it; the whole answer, "" if it did not end within `limit`.
std::string scrape(int port, Clock::duration limit) {
  int fd = connect_to(port);
  std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n\r\n";
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), ssize_t(request.size()));
  bool closed = false;
  std::string answer = read_until_closed(fd, limit, &closed);
  ::close(fd);
  return closed ? answer : "";
}

// A client that sends its request a byte every 500 ms, for at most `give_up` (its request
// would take half a minute); how long until the server closed it, or Clock::duration::max().
Clock::duration trickle(int port, Clock::duration give_up) {
  int fd = connect_to(port);
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n\r\n";
  auto start = Clock::now();
  Clock::duration closed_after = Clock::duration::max();
  for (size_t i = 0; i < request.size() && Clock::now() - start < give_up; ++i) {
    if (::send(fd, &request[i], 1, MSG_NOSIGNAL) != 1) {
      closed_after = Clock::now() - start;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    char byte;
    if (::poll(&p, 1, 500) == 1 && ::recv(fd, &byte, 1, MSG_DONTWAIT) <= 0) {
      closed_after = Clock::now() - start;
      break;
    }
  }
  ::close(fd);
  return closed_after;
}

WatchMetrics& sample_metrics() {
  static WatchMetrics m;
  m.lines = 1234;
  return m;
}

// Sixteen clients trickling their request headers hold no thread: a scrape made meanwhile is
// answered at once, and each of them is closed at its deadline.
TEST(MetricsServerTest, SlowClientsCannotStarveAScrape) {
  MetricsServer server(sample_metrics());
  int port = free_port();
  std::string error;
  ASSERT_TRUE(server.start("127.0.0.1:" + std::to_string(port), &error)) << error;
  constexpr int kSlowClients = 16;
  std::vector<Clock::duration> closed_after(kSlowClients);
  std::vector<std::thread> slow;
  for (int i = 0; i < kSlowClients; ++i)
    slow.emplace_back([&, i] { closed_after[i] = trickle(port, std::chrono::seconds(8)); });
  std::this_thread::sleep_for(milliseconds(700));  // all of them connected and trickling
  auto asked = Clock::now();
  std::string answer = scrape(port, std::chrono::seconds(3));
  auto took = Clock::now() - asked;
  for (auto& t : slow) t.join();
  EXPECT_LT(took, std::chrono::seconds(1)) << std::chrono::duration<double>(took).count() << " s";
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  EXPECT_TRUE(has_line(answer, "spamwarden_log_lines_total 1234")) << answer;
  for (int i = 0; i < kSlowClients; ++i)
    EXPECT_LT(closed_after[i], std::chrono::seconds(4)) << "slow client " << i << " was never closed";
}

// Clients beyond the limit are closed as soon as they are accepted, not queued behind the
// ones that hold the slots; once those reach their deadline a scrape is answered again.
TEST(MetricsServerTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  MetricsServer server(sample_metrics());
  int port = free_port();
  std::string error;
  ASSERT_TRUE(server.start("127.0.0.1:" + std::to_string(port), &error)) << error;
  std::vector<int> idle;
  for (size_t i = 0; i < MetricsServer::kMaxConnections; ++i) idle.push_back(connect_to(port));
  std::this_thread::sleep_for(milliseconds(300));
  int extra = connect_to(port);
  bool closed = false;
  auto asked = Clock::now();
  read_until_closed(extra, std::chrono::seconds(1), &closed);
  EXPECT_TRUE(closed) << "the connection beyond the limit was kept waiting";
  EXPECT_LT(Clock::now() - asked, milliseconds(500));
  ::close(extra);
  for (int fd : idle) {
    read_until_closed(fd, MetricsServer::kReadDeadline + std::chrono::seconds(2), &closed);
    EXPECT_TRUE(closed) << "an idle client outlived its deadline";
    ::close(fd);
  }
  std::string answer = scrape(port, std::chrono::seconds(1));
  EXPECT_TRUE(has_line(answer, "spamwarden_log_lines_total 1234")) << answer;
}

TEST(MetricsServerTest, AnswersGetMetricsAndNothingElse) {
  MetricsServer server(sample_metrics());
  int port = free_port();
  std::string error;
  ASSERT_TRUE(server.start("127.0.0.1:" + std::to_string(port), &error)) << error;
  auto ask = [&](const std::string& request) {
    int fd = connect_to(port);
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    bool closed = false;
    std::string answer = read_until_closed(fd, std::chrono::seconds(3), &closed);
    ::close(fd);
    return answer.substr(0, answer.find("\r\n"));
  };
  EXPECT_EQ(ask("GET /metrics?x=1 HTTP/1.0\r\n\r\n"), "HTTP/1.1 200 OK");
  EXPECT_EQ(ask("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(ask("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_EQ(ask("GET /metrics HTTP/1.1\r\nX: " + std::string(10000, 'x') + "\r\n\r\n"),
            "HTTP/1.1 431 Request Header Fields Too Large");
}

// A port another process holds, or an address off loopback: start() fails and says why, and
// `watch` exits 2 with that message.
TEST(MetricsServerTest, ABusyPortIsAClearError) {
  int port = 0;
  int holder = listen_anywhere(&port);
  MetricsServer server(sample_metrics());
  std::string error;
  EXPECT_FALSE(server.start("127.0.0.1:" + std::to_string(port), &error));
  EXPECT_NE(error.find("cannot listen on 127.0.0.1:" + std::to_string(port) + ": Address already in use"),
            std::string::npos)
      << error;
  ::close(holder);
  MetricsServer elsewhere(sample_metrics());
  EXPECT_FALSE(elsewhere.start("0.0.0.0:" + std::to_string(port), &error));
  EXPECT_EQ(error.rfind("metrics: ", 0), 0u) << error;
}

}  // namespace
}  // namespace sw::metrics
