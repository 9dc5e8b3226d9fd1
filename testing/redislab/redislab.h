// redislab.h - a throwaway real redis-server for tests and benchmarks.
//
// The constructor starts `redis-server` on 127.0.0.1 on a free port, with its working directory in a
// fresh temp dir and no persistence (no RDB snapshots, no AOF); the destructor stops it by PID and
// removes the directory. kill() (SIGKILL) and start() again on the same port simulate a crash and a
// restart.
//
//   sw::testing::RedisLab redis;
//   RedisCounterOptions options{.address = redis.address()};
//   redis.kill();      // SIGKILL by PID
//   redis.start();     // same port, empty data
//
// Call RedisLab::available() first and GTEST_SKIP() when it says no.
#pragma once

#include <sys/types.h>

#include <string>

namespace sw::testing {

class RedisLab {
 public:
  RedisLab();
  ~RedisLab();
  RedisLab(const RedisLab&) = delete;
  RedisLab& operator=(const RedisLab&) = delete;

  // True when redis-server is installed; why says otherwise.
  static bool available(std::string* why = nullptr);

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  void start();  // starts (again) on port(); returns once it answers PING; throws std::runtime_error
  void stop();   // SIGTERM by PID and wait (SIGKILL after 5 s)
  void kill();   // SIGKILL by PID and wait
  // Sends one command (inline protocol) and returns the raw reply line(s); for test assertions.
  std::string command(const std::string& inline_command) const;

 private:
  void wait_ready();
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sw::testing
