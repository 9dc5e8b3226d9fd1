// A small thread-per-connection server for one SessionFactory on a Unix socket or a loopback
// TCP port: what `spamwarden spamd` runs when the content filter is wanted on its own, and what
// the tests and bench/content drive. It owns the sockets, the per-connection deadline and the
// connection cap; the session owns the protocol.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "daemon/session.h"

namespace sw::daemon {

struct ListenerOptions {
  int deadline_ms = 30'000;   // a connection's whole life: read, scan, write
  int max_connections = 256;  // more at once are closed unanswered (Exim then fails open)
  std::function<void(std::string_view line)> log;
};

class SpamdListener {
 public:
  // address: "/path/to.sock" (a Unix socket, mode 0666, replacing a stale one) or "127.x.y.z:PORT"
  // (port 0 picks a free one). nullptr with *error when it cannot listen.
  static std::unique_ptr<SpamdListener> start(const std::string& address, SessionFactory& factory,
                                              ListenerOptions options, std::string* error);
  ~SpamdListener();
  SpamdListener(const SpamdListener&) = delete;
  SpamdListener& operator=(const SpamdListener&) = delete;

  // Stops accepting and waits for the open connections to end (each within its deadline).
  void stop();
  int port() const { return port_; }  // the bound TCP port; 0 for a Unix socket

 private:
  SpamdListener(int fd, int port, std::string unix_path, SessionFactory& factory, ListenerOptions options);
  void accept_loop();
  void serve(int fd, std::string peer);
  void log(std::string_view line) const;

  int listen_fd_;
  int port_;
  std::string unix_path_;
  SessionFactory& factory_;
  ListenerOptions options_;
  int stop_pipe_[2] = {-1, -1};
  std::thread acceptor_;
  std::mutex mutex_;
  std::condition_variable idle_;
  int open_connections_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace sw::daemon
