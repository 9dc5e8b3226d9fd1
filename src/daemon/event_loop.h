// The policy daemon's server: one thread, epoll, non-blocking sockets. Listeners are a list of
// (address, SessionFactory): a Unix socket for Exim's readsocket, loopback TCP for Postfix's
// policy client, and whatever else plugs a SessionFactory in (spamd). Every connection is
// bounded: at most max_connections at once (one more is closed at accept), at most
// max_request_bytes waiting in a session, a deadline for each request (slowloris) and for an
// idle persistent connection.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/session.h"

namespace sw::daemon {

struct ListenerSpec {
  std::string address;  // "/run/spamwarden/serve.sock" (Unix) or "127.0.0.1:10040" (loopback TCP)
  SessionFactory* factory = nullptr;
  // Unix sockets: mode 0660, owned by root (or whoever runs this) and this group (-1: unchanged).
  int unix_group = -1;
};

struct ServerLimits {
  size_t max_connections = 1024;
  std::chrono::milliseconds request_timeout{5000};  // from a connection's start or last answer's end
  std::chrono::seconds idle_timeout{300};           // persistent connections between requests
};

struct ServerCounts {
  uint64_t accepted = 0, refused_over_limit = 0, timed_out = 0, closed_by_session = 0, read_errors = 0;
  uint64_t open = 0;
  // The longest turn of the loop (the requests of one epoll_wait, or a tick): while it runs,
  // every other client waits. Wall clock, and the thread's CPU time (without the time the
  // machine gave to others).
  uint64_t longest_turn_us = 0, longest_turn_cpu_us = 0;
};

class EventLoop {
 public:
  using Log = std::function<void(const std::string&)>;
  explicit EventLoop(ServerLimits limits, Log log);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Binds every listener (a stale Unix socket file is replaced); false with *error naming the
  // address and the reason. Call before dropping privileges.
  bool listen(const std::vector<ListenerSpec>& listeners, std::string* error);
  // An extra descriptor to watch (the hold broker's pipe); `ready` runs when it is readable.
  void watch_fd(int fd, std::function<void()> ready);
  // Runs until stop(); `tick` runs about every `tick_every` (timers, SIGHUP, metrics).
  void run(std::chrono::milliseconds tick_every, const std::function<void()>& tick);
  void stop() { stopping_ = true; }  // async-signal-safe
  void set_limits(const ServerLimits& limits) { limits_ = limits; }
  const ServerCounts& counts() const { return counts_; }

 private:
  struct Connection;
  struct Listener;
  void accept_all(Listener& l);
  bool may_read_socket_tables();
  void on_readable(Connection& c);
  void on_writable(Connection& c);
  void flush(Connection& c);
  void close(Connection& c);
  void expire(std::chrono::steady_clock::time_point now);
  void note_turn(std::chrono::steady_clock::time_point began, int64_t began_cpu_us);

  ServerLimits limits_;
  Log log_;
  int epoll_fd_ = -1;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<Connection>> by_fd_;  // index: the connection's fd
  std::vector<std::pair<int, std::function<void()>>> extra_fds_;
  ServerCounts counts_;
  volatile bool stopping_ = false;
  uint64_t last_refusal_logged_ = 0;
  static constexpr int kTableReadsPerSecond = 20;  // see may_read_socket_tables
  std::chrono::steady_clock::time_point table_reads_since_{};
  int table_reads_ = 0;
};

}  // namespace sw::daemon
