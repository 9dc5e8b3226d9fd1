// dunnod: the do-nothing policy server, the ceiling of bench/serve. Single thread, epoll,
// listen(SOMAXCONN), answers "action=DUNNO" to every request (a blank line ends one; EOF ends a
// last unterminated one) and closes on the client's EOF after flushing. Loopback or Unix only.
//
//   dunnod 127.0.0.1:PORT | unix:/path
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_map>

namespace {

constexpr const char kReply[] = "action=DUNNO\n\n";

struct Conn {
  std::string in, out;
  bool eof = false;
};

int listen_on(const std::string& where) {
  int fd;
  if (where.starts_with("unix:")) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::string path = where.substr(5);
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    unlink(path.c_str());
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  } else {
    size_t colon = where.rfind(':');
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(std::stoi(where.substr(colon + 1))));
    if (inet_pton(AF_INET, where.substr(0, colon).c_str(), &a.sin_addr) != 1 || ntohl(a.sin_addr.s_addr) >> 24 != 127) {
      return -1;
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  }
  return listen(fd, SOMAXCONN) == 0 ? fd : -1;
}

// Reads what is there, queues one reply per complete request, writes; false when done with fd.
bool serve(int fd, Conn& c) {
  char buf[16384];
  for (ssize_t n; !c.eof;) {
    n = read(fd, buf, sizeof buf);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      c.eof = true;
    } else if (errno == EAGAIN) {
      break;
    } else {
      return false;
    }
  }
  for (size_t end; (end = c.in.find("\n\n")) != std::string::npos; c.in.erase(0, end + 2)) c.out += kReply;
  if (c.eof && c.in.find_first_not_of("\n") != std::string::npos) c.out += kReply, c.in.clear();
  while (!c.out.empty()) {
    ssize_t n = write(fd, c.out.data(), c.out.size());
    if (n < 0) return errno == EAGAIN;
    c.out.erase(0, static_cast<size_t>(n));
  }
  return !c.eof;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return fprintf(stderr, "usage: dunnod 127.0.0.1:PORT | unix:/path\n"), 2;
  signal(SIGPIPE, SIG_IGN);
  int lfd = listen_on(argv[1]);
  if (lfd < 0) return fprintf(stderr, "dunnod: cannot listen on %s (loopback or unix: only)\n", argv[1]), 1;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event e{EPOLLIN, {.fd = lfd}};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
  std::unordered_map<int, Conn> conns;
  epoll_event events[256];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        for (int c; (c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
          epoll_event ce{EPOLLIN | EPOLLOUT | EPOLLET, {.fd = c}};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
          conns[c];
        }
        continue;
      }
      if (!serve(fd, conns[fd])) close(fd), conns.erase(fd);
    }
  }
}
