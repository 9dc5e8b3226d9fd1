#include "daemon/event_loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "base/peer_uid.h"
#include "base/loopback_listen.h"

namespace sw::daemon {

using Clock = std::chrono::steady_clock;

namespace {
int64_t thread_cpu_us() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return int64_t(t.tv_sec) * 1'000'000 + t.tv_nsec / 1000;
}
constexpr uint64_t kListenerTag = 1ull << 40, kExtraTag = 1ull << 41;
constexpr size_t kReadChunk = 16384;
}  // namespace

struct EventLoop::Listener {
  int fd = -1;
  SessionFactory* factory = nullptr;
  std::string peer;  // what sessions are told about the client ("unix", "127.0.0.1")
};

struct EventLoop::Connection {
  int fd = -1;
  std::unique_ptr<Session> session;
  std::string out;
  size_t sent = 0;
  bool close_after_write = false, want_write = false;
  Clock::time_point deadline;
};

EventLoop::EventLoop(ServerLimits limits, Log log) : limits_(limits), log_(std::move(log)) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
}

EventLoop::~EventLoop() {
  for (auto& c : by_fd_)
    if (c) ::close(c->fd);
  for (auto& l : listeners_) ::close(l->fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

bool EventLoop::listen(const std::vector<ListenerSpec>& specs, std::string* error) {
  for (const ListenerSpec& spec : specs) {
    auto l = std::make_unique<Listener>();
    l->factory = spec.factory;
    auto fail = [&](const std::string& what) {
      *error = "cannot listen on " + spec.address + ": " + what + ": " + std::strerror(errno);
      if (l->fd >= 0) ::close(l->fd);
      return false;
    };
    if (!spec.address.empty() && spec.address.front() == '/') {
      sockaddr_un addr{};
      if (spec.address.size() >= sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        return fail("path");
      }
      addr.sun_family = AF_UNIX;
      std::memcpy(addr.sun_path, spec.address.c_str(), spec.address.size() + 1);
      l->fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (l->fd < 0) return fail("socket");
      struct stat st {};
      if (::lstat(spec.address.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(spec.address.c_str());
      mode_t old_mask = ::umask(0117);  // created 0660: no window in which others may connect
      int rc = ::bind(l->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      ::umask(old_mask);
      if (rc != 0) return fail("bind");
      if (spec.unix_group >= 0 && ::chown(spec.address.c_str(), uid_t(-1), gid_t(spec.unix_group)) != 0)
        return fail("chown");
      if (::chmod(spec.address.c_str(), 0660) != 0) return fail("chmod");
      l->peer = "unix";
    } else {
      std::string host, problem;
      int port = 0;
      if (!parse_loopback_listen(spec.address, &host, &port, &problem)) {
        *error = "cannot listen on " + spec.address + ": " + problem;
        return false;
      }
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(uint16_t(port));
      ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
      l->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (l->fd < 0) return fail("socket");
      int one = 1;
      ::setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (::bind(l->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail("bind");
      l->peer = host;
    }
    if (::listen(l->fd, 4096) != 0) return fail("listen");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerTag | listeners_.size();
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, l->fd, &ev);
    listeners_.push_back(std::move(l));
  }
  return true;
}

void EventLoop::watch_fd(int fd, std::function<void()> ready) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kExtraTag | extra_fds_.size();
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  extra_fds_.emplace_back(fd, std::move(ready));
}

// A client that resets its connection at once is a socket sock_diag no longer knows, and the
// tables are then read whole (milliseconds on a busy host): rationed, so that a local user
// repeating that cannot stall the loop. Postfix's connections last, and are rarely new.
bool EventLoop::may_read_socket_tables() {
  auto now = Clock::now();
  if (now - table_reads_since_ >= std::chrono::seconds(1)) table_reads_since_ = now, table_reads_ = 0;
  return table_reads_++ < kTableReadsPerSecond;
}

void EventLoop::accept_all(Listener& l) {
  for (;;) {
    int fd = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or EMFILE: the rest wait in the backlog
    }
    if (counts_.open >= limits_.max_connections) {
      ::close(fd);
      if (counts_.refused_over_limit++ == last_refusal_logged_) {
        log_("connection limit (" + std::to_string(limits_.max_connections) + ") reached: closing new connections");
        last_refusal_logged_ = counts_.refused_over_limit * 2;  // 1, 2, 4, 8...: no flood
      }
      continue;
    }
    if (by_fd_.size() <= size_t(fd)) by_fd_.resize(size_t(fd) + 64);
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->session = l.factory->open_from(l.peer, [this, fd] { return peer_uid(fd, may_read_socket_tables()); });
    c->deadline = Clock::now() + limits_.request_timeout;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = uint64_t(fd);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    by_fd_[size_t(fd)] = std::move(c);
    ++counts_.accepted;
    ++counts_.open;
  }
}

void EventLoop::close(Connection& c) {
  int fd = c.fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  --counts_.open;
  by_fd_[size_t(fd)].reset();  // c is gone from here on
}

void EventLoop::flush(Connection& c) {
  while (c.sent < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.sent += size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (!c.want_write) {
        c.want_write = true;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
        ev.data.u64 = uint64_t(c.fd);
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
      }
      return;
    }
    return close(c);  // the client went away
  }
  c.out.clear();
  c.sent = 0;
  if (c.close_after_write) return close(c);
  if (c.want_write) {
    c.want_write = false;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = uint64_t(c.fd);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  }
}

void EventLoop::on_readable(Connection& c) {
  char buffer[kReadChunk];
  for (;;) {
    ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      size_t before = c.out.size();
      bool keep = c.session->on_input(std::string_view(buffer, size_t(n)), &c.out);
      auto now = Clock::now();
      if (c.out.size() > before) c.deadline = now + limits_.idle_timeout;     // answered: idle until the next request
      else c.deadline = std::min(c.deadline, now + limits_.request_timeout);  // a trickle never extends it
      if (!keep) {
        ++counts_.closed_by_session;
        c.close_after_write = true;
        return flush(c);
      }
      if (size_t(n) < sizeof buffer) break;
      continue;
    }
    if (n == 0) {  // EOF: Exim's readsocket half-closes after its request
      c.session->on_end_of_input(&c.out);
      c.close_after_write = true;
      return flush(c);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) break;
    ++counts_.read_errors;
    return close(c);
  }
  if (!c.out.empty()) flush(c);
}

void EventLoop::on_writable(Connection& c) { flush(c); }

void EventLoop::expire(Clock::time_point now) {
  for (auto& slot : by_fd_)
    if (slot && slot->deadline <= now) {
      ++counts_.timed_out;
      close(*slot);
    }
}

void EventLoop::run(std::chrono::milliseconds tick_every, const std::function<void()>& tick) {
  epoll_event events[256];
  auto next_tick = Clock::now() + tick_every;
  auto next_expiry = Clock::now() + std::chrono::milliseconds(100);
  while (!stopping_) {
    int n = ::epoll_wait(epoll_fd_, events, 256, 100);
    auto began = Clock::now();
    int64_t began_cpu_us = n > 0 ? thread_cpu_us() : 0;
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag & kListenerTag) {
        accept_all(*listeners_[tag & ~kListenerTag]);
      } else if (tag & kExtraTag) {
        extra_fds_[tag & ~kExtraTag].second();
      } else if (tag < by_fd_.size() && by_fd_[tag]) {
        Connection& c = *by_fd_[tag];
        if (events[i].events & EPOLLOUT) {
          on_writable(c);
          if (!by_fd_[tag]) continue;
        }
        if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c);
      }
    }
    auto now = Clock::now();
    if (now >= next_expiry) {
      expire(now);
      next_expiry = now + std::chrono::milliseconds(100);
    }
    if (n > 0) note_turn(began, began_cpu_us);
    if (now >= next_tick) {
      int64_t tick_cpu_us = thread_cpu_us();
      tick();
      note_turn(now, tick_cpu_us);
      next_tick = now + tick_every;
    }
  }
}

void EventLoop::note_turn(Clock::time_point began, int64_t began_cpu_us) {
  auto wall = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began).count();
  counts_.longest_turn_us = std::max(counts_.longest_turn_us, uint64_t(std::max<int64_t>(wall, 0)));
  counts_.longest_turn_cpu_us =
      std::max(counts_.longest_turn_cpu_us, uint64_t(std::max<int64_t>(thread_cpu_us() - began_cpu_us, 0)));
}

}  // namespace sw::daemon
