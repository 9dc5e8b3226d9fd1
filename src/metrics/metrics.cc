#include "metrics/metrics.h"

#include <functional>

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <vector>

namespace sw::metrics {

std::string render_prometheus(const WatchMetrics& m) {
  std::string out;
  auto header = [&](const char* name, const char* help, const char* type) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n", name, help, type);
  };
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    header(name, help, "counter");
    out += fmt::format("{} {}\n", name, v);
  };
  auto gauge = [&](const char* name, const char* help, int64_t v) {
    header(name, help, "gauge");
    out += fmt::format("{} {}\n", name, v);
  };
  auto per_type = [&](const char* name, const char* help, const char* type, const auto& values) {
    header(name, help, type);
    for (detect::ActorType t : detect::kAllActorTypes)
      out += fmt::format("{}{{actor_type=\"{}\"}} {}\n", name, detect::actor_type_name(t), values[size_t(t)].load());
  };
  counter("spamwarden_log_lines_total", "Main-log lines read", m.lines);
  counter("spamwarden_log_unparsed_lines_total", "Lines the parser did not recognise", m.unparsed);
  gauge("spamwarden_log_lag_bytes", "Bytes of the main log not yet read", int64_t(m.lag_bytes.load()));
  gauge("spamwarden_log_lag_seconds", "Wall clock minus the time of the last line read", m.lag_seconds);
  counter("spamwarden_log_rotations_total", "Rename rotations followed", m.rotations);
  counter("spamwarden_log_truncations_total", "copytruncate rotations followed", m.truncations);
  per_type("spamwarden_messages_total", "Messages counted per actor type", "counter", m.messages_by_type);
  per_type("spamwarden_messages_last_minute", "Messages counted per actor type in the last 60 s", "gauge",
           m.messages_last_minute);
  gauge("spamwarden_holds_active", "Actors held now", int64_t(m.holds_active.load()));
  counter("spamwarden_containment_events_total", "Holds placed since start", m.containment_events);
  counter("spamwarden_frozen_messages_total", "Queued messages frozen by holds", m.frozen);
  gauge("spamwarden_active_actors", "Actors with live windows", int64_t(m.active_actors.load()));
  counter("spamwarden_alert_failures_total", "Alerts that could not be delivered", m.alerts_failed);
  counter("spamwarden_store_failures_total", "Failed writes to the state store", m.store_failures);
  counter("spamwarden_hold_list_write_failures_total", "Failed hold-list writes", m.list_write_failures);
  return out;
}

void TypeRates::sample(int64_t now_seconds, const Counts& totals) {
  samples_.emplace_back(now_seconds, totals);
  while (samples_.size() > kMaxSamples || (samples_.size() > 1 && samples_.front().first < now_seconds - 60))
    samples_.pop_front();
}

TypeRates::Counts TypeRates::last_minute() const {
  Counts out{};
  if (samples_.size() < 2) return out;
  const Counts& now = samples_.back().second;
  const Counts& then = samples_.front().second;
  for (size_t i = 0; i < out.size(); ++i) out[i] = now[i] >= then[i] ? now[i] - then[i] : 0;
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;

// One client: its request head as read so far, then the answer as written so far.
struct Connection {
  int fd = -1;
  std::string request;
  std::string response;  // empty while the request is being read
  size_t sent = 0;
  Clock::time_point deadline;
};

// The answer to one request head: GET (or HEAD) /metrics, anything else an error status. Every
// answer closes the connection, so one connection costs at most one read and one write deadline.
std::string answer(std::string_view head, const std::function<std::string()>& render) {
  std::string_view line = head.substr(0, head.find_first_of("\r\n"));
  size_t space = line.find(' ');
  std::string_view method = line.substr(0, space);
  std::string_view target = space == std::string_view::npos ? "" : line.substr(space + 1);
  target = target.substr(0, target.find(' '));
  std::string_view path = target.substr(0, target.find('?'));
  auto reply = [&](const char* status, const std::string& body) {
    std::string out = fmt::format(
        "HTTP/1.1 {}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        status, body.size());
    if (method != "HEAD") out += body;
    return out;
  };
  if (method != "GET" && method != "HEAD") return reply("405 Method Not Allowed", "GET /metrics\n");
  if (path != "/metrics") return reply("404 Not Found", "GET /metrics\n");
  return reply("200 OK", render());
}

bool ends_head(const std::string& request) {
  return request.find("\r\n\r\n") != std::string::npos || request.find("\n\n") != std::string::npos;
}

}  // namespace

// One thread polls the listening socket and every connection, none of them blocking: a client
// that trickles its request holds a slot and a few bytes, never the thread, and is closed at its
// deadline. (cpp-httplib's server gives each connection a pool thread and times out single
// reads only, so eight clients sending a byte every half second held every thread for good.)
struct MetricsServer::Impl {
  explicit Impl(std::function<std::string()> r) : render(std::move(r)) {}
  ~Impl() {
    stop();
    for (Connection& c : connections) ::close(c.fd);
    for (int fd : {listen_fd, wake_read, wake_write})
      if (fd >= 0) ::close(fd);
  }

  bool open(const std::string& host, int port, std::string* error);
  void serve();
  void stop() {
    if (!thread.joinable()) return;
    char stop_byte = 0;
    while (::write(wake_write, &stop_byte, 1) < 0 && errno == EINTR) {
    }
    thread.join();
  }

  void accept_waiting(Clock::time_point now);
  bool on_readable(Connection& c, Clock::time_point now);  // false: done with it
  bool on_writable(Connection& c);

  std::function<std::string()> render;
  int listen_fd = -1, wake_read = -1, wake_write = -1;
  std::thread thread;
  std::vector<Connection> connections;
  Clock::time_point accept_paused_until;
};

bool MetricsServer::Impl::open(const std::string& host, int port, std::string* error) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(uint16_t(port));
  ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int yes = 1;
  int wake[2];
  if (listen_fd < 0 || ::setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0 ||
      ::bind(listen_fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd, int(kMaxConnections)) != 0 || ::pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) {
    *error = fmt::format("metrics: cannot listen on {}:{}: {}", host, port, std::strerror(errno));
    return false;
  }
  wake_read = wake[0];
  wake_write = wake[1];
  return true;
}

void MetricsServer::Impl::accept_waiting(Clock::time_point now) {
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors or memory: the connection stays in the backlog and the listening
      // socket readable, so polling it again at once would spin.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        accept_paused_until = now + std::chrono::milliseconds(100);
      return;  // otherwise none left (EAGAIN), or it went away before we took it
    }
    if (connections.size() >= kMaxConnections) {
      ::close(fd);  // closed at once rather than queued behind clients that may never finish
      continue;
    }
    connections.push_back({fd, {}, {}, 0, now + kReadDeadline});
  }
}

bool MetricsServer::Impl::on_readable(Connection& c, Clock::time_point now) {
  char buf[4096];
  ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  if (n == 0) return false;  // the client gave up
  c.request.append(buf, size_t(n));
  if (c.request.size() > kMaxRequestBytes) {
    c.response = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  } else if (ends_head(c.request)) {
    c.response = answer(c.request, render);
  } else {
    return true;
  }
  c.deadline = now + kWriteDeadline;
  return on_writable(c);
}

bool MetricsServer::Impl::on_writable(Connection& c) {
  ssize_t n = ::send(c.fd, c.response.data() + c.sent, c.response.size() - c.sent, MSG_NOSIGNAL);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  c.sent += size_t(n);
  if (c.sent < c.response.size()) return true;
  ::shutdown(c.fd, SHUT_WR);  // all written: the client reads the end of the answer
  return false;
}

void MetricsServer::Impl::serve() {
  std::vector<pollfd> polled;
  for (;;) {
    Clock::time_point now = Clock::now();
    bool accepting = now >= accept_paused_until;
    polled.assign({{wake_read, POLLIN, 0}, {accepting ? listen_fd : -1, POLLIN, 0}});
    Clock::time_point next_deadline = accepting ? Clock::time_point::max() : accept_paused_until;
    for (const Connection& c : connections) {
      polled.push_back({c.fd, short(c.response.empty() ? POLLIN : POLLOUT), 0});
      next_deadline = std::min(next_deadline, c.deadline);
    }
    int timeout_ms = -1;
    if (next_deadline != Clock::time_point::max())
      timeout_ms =
          int(std::clamp<int64_t>(std::chrono::ceil<std::chrono::milliseconds>(next_deadline - now).count(), 0, 1000));
    if (::poll(polled.data(), polled.size(), timeout_ms) < 0 && errno != EINTR) return;
    if (polled[0].revents) return;  // stop()
    now = Clock::now();
    size_t polled_connections = polled.size() - 2;
    for (size_t i = 0; i < polled_connections; ++i) {
      Connection& c = connections[i];
      short events = polled[i + 2].revents;
      bool keep = true;
      if (events & (POLLERR | POLLNVAL)) keep = false;
      else if (events & (POLLIN | POLLHUP) && c.response.empty()) keep = on_readable(c, now);
      else if (events & (POLLOUT | POLLHUP)) keep = on_writable(c);
      if (!keep || now >= c.deadline) {  // done, failed, or too slow
        ::close(c.fd);
        c.fd = -1;
      }
    }
    std::erase_if(connections, [](const Connection& c) { return c.fd < 0; });
    if (polled[1].revents) accept_waiting(now);
  }
}

MetricsServer::MetricsServer(const WatchMetrics& metrics)
    : impl_(std::make_unique<Impl>([&metrics] { return render_prometheus(metrics); })) {}

MetricsServer::MetricsServer(std::function<std::string()> render) : impl_(std::make_unique<Impl>(std::move(render))) {}

MetricsServer::~MetricsServer() = default;

bool MetricsServer::open(const std::string& listen, std::string* error) {
  std::string host;
  int port = 0;
  if (!parse_loopback_listen(listen, &host, &port, error)) {
    *error = "metrics: " + *error;
    return false;
  }
  return impl_->open(host, port, error);
}

void MetricsServer::run() {
  if (impl_->listen_fd >= 0 && !impl_->thread.joinable()) impl_->thread = std::thread([this] { impl_->serve(); });
}

bool MetricsServer::start(const std::string& listen, std::string* error) {
  if (!open(listen, error)) return false;
  run();
  return true;
}

}  // namespace sw::metrics
