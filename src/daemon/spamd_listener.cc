#include "daemon/spamd_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "base/loopback_listen.h"
#include "base/peer_uid.h"

namespace sw::daemon {
namespace {

using Clock = std::chrono::steady_clock;  // the same as SpamdListener::Clock

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

int listen_unix(const std::string& path, std::string* error) {
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) {
    *error = "socket path too long: " + path;
    return -1;
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());  // a stale socket
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::chmod(path.c_str(), 0666) != 0 || ::listen(fd, 128) != 0) {
    *error = fmt::format("cannot listen on {}: {}", path, std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

int listen_loopback(const std::string& spec, int* bound_port, std::string* error) {
  std::string host;
  int port = 0;
  bool any_port = spec.ends_with(":0");
  if (!parse_loopback_listen(any_port ? spec.substr(0, spec.size() - 1) + "1" : spec, &host, &port, error)) return -1;
  if (any_port) port = 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    *error = fmt::format("cannot listen on {}: {}", spec, std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return -1;
  }
  *bound_port = ntohs(address.sin_port);
  return fd;
}

// Writes all of `bytes` before the deadline; false otherwise.
bool write_all(int fd, std::string_view bytes, Clock::time_point deadline) {
  while (!bytes.empty()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::unique_ptr<SpamdListener> SpamdListener::open(const std::string& address, SessionFactory& factory,
                                                   ListenerOptions options, std::string* error) {
  int port = 0;
  bool is_unix = address.starts_with("/");
  int fd = is_unix ? listen_unix(address, error) : listen_loopback(address, &port, error);
  if (fd < 0) return nullptr;
  return std::unique_ptr<SpamdListener>(
      new SpamdListener(fd, port, is_unix ? address : "", factory, std::move(options)));
}

std::unique_ptr<SpamdListener> SpamdListener::start(const std::string& address, SessionFactory& factory,
                                                    ListenerOptions options, std::string* error) {
  auto listener = open(address, factory, std::move(options), error);
  if (listener) listener->run();
  return listener;
}

SpamdListener::SpamdListener(int fd, int port, std::string unix_path, SessionFactory& factory, ListenerOptions options)
    : listen_fd_(fd), port_(port), unix_path_(std::move(unix_path)), factory_(factory), options_(std::move(options)) {
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) stop_pipe_[0] = stop_pipe_[1] = -1;
}

void SpamdListener::run() {
  std::lock_guard lock(mutex_);
  if (!workers_.empty() || stopped_) return;
  start_worker();
}

SpamdListener::~SpamdListener() { stop(); }

void SpamdListener::stop() {
  if (stopped_.exchange(true)) return;
  if (stop_pipe_[1] >= 0) (void)!::write(stop_pipe_[1], "x", 1);
  Workers all;
  {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return open_connections_ == 0; });
    all.splice(all.end(), workers_);
    all.splice(all.end(), retired_);
  }
  for (std::thread& t : all) t.join();
  ::close(listen_fd_);
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
  for (int fd : stop_pipe_) {
    if (fd >= 0) ::close(fd);
  }
}

int SpamdListener::threads() const {
  std::lock_guard lock(mutex_);
  return int(workers_.size());
}

void SpamdListener::log(std::string_view line) const {
  if (options_.log) options_.log(line);
}

void SpamdListener::start_worker() {
  ++idle_workers_;
  // Started under the lock: the new thread's first step takes it, so `self` is set by then.
  auto self = workers_.emplace(workers_.end());
  try {
    *self = std::thread([this, self] { worker_loop(self); });
  } catch (const std::system_error& e) {  // out of threads: the busy ones accept again when done
    workers_.erase(self);
    --idle_workers_;
    log(fmt::format("spamd: no thread for the next connection: {}", e.what()));
  }
}

void SpamdListener::worker_loop(Workers::iterator self) {
  { std::lock_guard wait_for_self(mutex_); }
  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event on_listen{EPOLLIN | EPOLLEXCLUSIVE, {.fd = listen_fd_}};
  epoll_event on_stop{EPOLLIN, {.fd = stop_pipe_[0]}};
  if (epoll_fd < 0 || ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd_, &on_listen) != 0 ||
      ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, stop_pipe_[0], &on_stop) != 0) {
    log(fmt::format("spamd: cannot wait for connections: {}", std::strerror(errno)));
  }
  std::string buffer(64 * 1024, '\0');
  std::string peer;
  while (!stopped_) {
    int fd = accept_one(epoll_fd, &peer);
    if (fd == -2) {  // idle for idle_thread_linger
      std::lock_guard lock(mutex_);
      if (idle_workers_ > options_.idle_threads_kept && !stopped_) {
        --idle_workers_;
        retired_.splice(retired_.end(), workers_, self);
        break;
      }
      continue;
    }
    if (fd < 0 || !take_connection(fd, peer)) continue;
    serve(fd, peer, Clock::now() + std::chrono::milliseconds(options_.deadline_ms), buffer);
    std::lock_guard lock(mutex_);
    ++idle_workers_;
    if (--open_connections_ == 0) idle_.notify_all();
  }
  if (epoll_fd >= 0) ::close(epoll_fd);
}

int SpamdListener::accept_one(int epoll_fd, std::string* peer) {
  epoll_event events[2];
  int ready = ::epoll_wait(epoll_fd, events, 2, int(options_.idle_thread_linger.count()));
  if (ready == 0) return -2;
  if (ready < 0) {
    if (errno != EINTR) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // never a busy loop
    return -1;
  }
  if (stopped_) return -1;
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return -1;  // another thread took it
  *peer = "local";
  if (address.ss_family == AF_INET) {
    char text[INET_ADDRSTRLEN] = "";
    auto* in = reinterpret_cast<sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    *peer = fmt::format("{}:{}", text, ntohs(in->sin_port));
  }
  return fd;
}

// Counts an accepted connection in, or closes it at the cap; starts a thread to accept the next
// one when this was the last idle one. False when the connection was closed.
bool SpamdListener::take_connection(int fd, const std::string& peer) {
  Workers ended;
  bool taken = false;
  {
    std::lock_guard lock(mutex_);
    if (open_connections_ >= options_.max_connections) {
      if (uint64_t so_far = 0; over_limit_.next(&so_far))
        log(fmt::format("spamd {}: closed unanswered, {} connections already open ({} so far)", peer, open_connections_,
                        so_far));
      ::close(fd);
    } else {
      ++open_connections_;
      --idle_workers_;
      if (idle_workers_ == 0 && !stopped_) start_worker();
      ended.splice(ended.end(), retired_);
      taken = true;
    }
  }
  for (std::thread& t : ended) t.join();
  return taken;
}

void SpamdListener::serve(int fd, const std::string& peer, Clock::time_point deadline, std::string& buffer) {
  std::unique_ptr<Session> session = factory_.open_from(peer, [fd] { return peer_uid(fd); });
  std::string out;
  bool open = true;
  while (open) {
    // Read first, wait only when nothing is there yet: most requests are whole at accept.
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLIN, 0};
      int ready = ::poll(&p, 1, remaining_ms(deadline));
      if (ready == 0) {
        if (uint64_t so_far = 0; unfinished_.next(&so_far))
          log(fmt::format("spamd {}: no complete request within {} ms, closed unanswered ({} so far)", peer,
                          options_.deadline_ms, so_far));
        break;
      }
      if (ready > 0 || errno == EINTR) continue;
    }
    if (n <= 0) {  // half-close (or a reset): the session's last chance to answer
      session->on_end_of_input(&out);
      open = false;
    } else {
      open = session->on_input(std::string_view(buffer.data(), static_cast<size_t>(n)), &out);
    }
    if (!out.empty() && !write_all(fd, out, deadline)) {
      log(fmt::format("spamd {}: could not write the reply", peer));
      break;
    }
    out.clear();
  }
  ::close(fd);
}

}  // namespace sw::daemon
