// A small server for one SessionFactory on a Unix socket or a loopback TCP port: what serve runs
// for the content filter, and what the tests and bench/content drive. It owns the sockets, the
// per-connection deadline and the connection cap; the session owns the protocol.
//
// Each open connection has a thread of its own (a slow client never holds up another), but the
// threads are kept and reused: Exim opens one connection per message, and creating and tearing
// down a thread for each cost more CPU than the scan itself. The idle threads accept the
// connections themselves (each waits on the listening socket with EPOLLEXCLUSIVE, so one is
// woken per connection), so no thread hands a connection to another; one more thread starts
// when the last idle one takes a connection. Idle threads beyond a few end after a while, so a
// burst does not keep hundreds of them.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "daemon/session.h"
#include "daemon/thinned_log.h"

namespace sw::daemon {

struct ListenerOptions {
  int deadline_ms = 30'000;   // a connection's whole life: read, scan, write
  int max_connections = 256;  // more at once are closed unanswered (Exim then fails open)
  int idle_threads_kept = 8;  // idle connection threads kept beyond idle_thread_linger
  std::chrono::milliseconds idle_thread_linger{30'000};
  std::function<void(std::string_view line)> log;
};

class SpamdListener {
 public:
  // address: "/path/to.sock" (a Unix socket, mode 0666, replacing a stale one) or "127.x.y.z:PORT"
  // (port 0 picks a free one). nullptr with *error when it cannot listen. Bound and listening,
  // but no connection is taken until run(): a daemon binds as root and serves after dropping
  // its privileges (connections made meanwhile wait in the backlog).
  static std::unique_ptr<SpamdListener> open(const std::string& address, SessionFactory& factory,
                                             ListenerOptions options, std::string* error);
  void run();
  // open() and run().
  static std::unique_ptr<SpamdListener> start(const std::string& address, SessionFactory& factory,
                                              ListenerOptions options, std::string* error);
  ~SpamdListener();
  SpamdListener(const SpamdListener&) = delete;
  SpamdListener& operator=(const SpamdListener&) = delete;

  // Stops accepting and waits for the open connections to end (each within its deadline).
  void stop();
  int port() const { return port_; }  // the bound TCP port; 0 for a Unix socket
  int threads() const;                // connection threads alive (busy or idle)

 private:
  using Clock = std::chrono::steady_clock;
  using Workers = std::list<std::thread>;

  SpamdListener(int fd, int port, std::string unix_path, SessionFactory& factory, ListenerOptions options);
  void start_worker();  // with mutex_ held
  void worker_loop(Workers::iterator self);
  // The next connection for an idle worker: its fd (or -1: none yet, or stopping) and peer name.
  int accept_one(int epoll_fd, std::string* peer);
  bool take_connection(int fd, const std::string& peer);
  void serve(int fd, const std::string& peer, Clock::time_point deadline, std::string& buffer);
  void log(std::string_view line) const;

  int listen_fd_;
  int port_;
  std::string unix_path_;
  SessionFactory& factory_;
  ListenerOptions options_;
  int stop_pipe_[2] = {-1, -1};         // readable once stop() began: wakes every idle worker
  ThinnedLog over_limit_, unfinished_;  // connections closed at the cap, requests never finished
  mutable std::mutex mutex_;
  std::condition_variable idle_;  // open_connections_ fell to 0
  int open_connections_ = 0;
  Workers workers_;  // threads alive; one that ends for idleness moves itself to retired_
  Workers retired_;  // ended (or ending) threads, joined when a thread starts and by stop()
  int idle_workers_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace sw::daemon
