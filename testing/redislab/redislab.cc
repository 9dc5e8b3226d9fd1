// redislab.cc - see redislab.h.
#include "redislab.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace sw::testing {
namespace {

constexpr const char* kServer = "/usr/bin/redis-server";

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("redislab: " + what); }

int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    fail("no free port");
  }
  close(fd);
  return ntohs(a.sin_port);
}

int connect_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
  if (fd >= 0) close(fd);
  return -1;
}

// Waits up to timeout_ms for the child to exit; true when it did.
bool reap(pid_t pid, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

bool RedisLab::available(std::string* why) {
  if (access(kServer, X_OK) == 0) return true;
  if (why) *why = std::string(kServer) + " not installed (apt-get install redis-server)";
  return false;
}

RedisLab::RedisLab() {
  char tmpl[] = "/tmp/sw-redislab.XXXXXX";
  if (!mkdtemp(tmpl)) fail("mkdtemp failed");
  dir_ = tmpl;
  port_ = free_loopback_port();
  try {
    start();
  } catch (...) {
    std::filesystem::remove_all(dir_);
    throw;
  }
}

RedisLab::~RedisLab() {
  try {
    stop();
  } catch (...) {
  }
  if (!getenv("SW_REDISLAB_KEEP")) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void RedisLab::start() {
  if (running()) return;
  std::string port = std::to_string(port_), log = dir_ + "/redis.log";
  pid_t pid = fork();
  if (pid < 0) fail("fork failed");
  if (pid == 0) {
    // No RDB, no AOF, loopback only, foreground; the server dies with its parent's session in tests.
    execl(kServer, kServer, "--bind", "127.0.0.1", "--port", port.c_str(), "--dir", dir_.c_str(), "--save", "",
          "--appendonly", "no", "--daemonize", "no", "--logfile", log.c_str(), "--protected-mode", "yes",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  pid_ = pid;
  wait_ready();
}

void RedisLab::wait_ready() {
  for (int i = 0; i < 500; ++i) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      fail("redis-server exited at start; see " + dir_ + "/redis.log");
    }
    if (command("PING").starts_with("+PONG")) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill();
  fail("redis-server did not answer PING within 5 s");
}

void RedisLab::stop() {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  if (!reap(pid_, 5000)) {
    ::kill(pid_, SIGKILL);
    reap(pid_, 5000);
  }
  pid_ = -1;
}

void RedisLab::kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  reap(pid_, 5000);
  pid_ = -1;
}

std::string RedisLab::command(const std::string& inline_command) const {
  int fd = connect_loopback(port_);
  if (fd < 0) return "";
  std::string request = inline_command + "\r\n", reply;
  if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    pollfd p{fd, POLLIN, 0};
    char buf[4096];
    // One reply: wait for the first bytes, then take what follows within a short pause.
    for (int timeout = 1000; poll(&p, 1, timeout) > 0; timeout = 20) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      reply.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return reply;
}

}  // namespace sw::testing
