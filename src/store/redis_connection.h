// One connection to Redis for the stores a fleet shares (rate counters, the content model's
// journal). It never stalls its caller for long: connect and command time out after the
// configured milliseconds, and while Redis is out of reach every command fails at once until
// the next reconnect attempt (backoff). Not thread-safe: each owner serialises its calls.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;
struct redisReply;

namespace sw::store {

struct RedisConnectionOptions {
  std::string address = "127.0.0.1:6379";  // HOST:PORT, or the path of a Unix socket
  int connect_timeout_ms = 50;
  int command_timeout_ms = 50;
  int backoff_min_ms = 100;  // first wait after a failure; doubles up to backoff_max_ms
  int backoff_max_ms = 5000;
};

// "host:port" or "/unix/path" -> error text, empty when the address is usable.
std::string redis_address_error(std::string_view address);

int64_t monotonic_ms();

class RedisConnection {
 public:
  struct ReplyDeleter {
    void operator()(redisReply* reply) const;
  };
  using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

  explicit RedisConnection(RedisConnectionOptions options) : options_(std::move(options)) {}
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Run after each connect, before the first command (e.g. SCRIPT LOAD), with the connect's
  // deadline; false drops the connection.
  std::function<bool(RedisConnection&, int64_t deadline_ms)> on_connect;

  // Connects first when needed (at most once per backoff period). Sends argv and reads one
  // reply before the deadline (now + command timeout when 0); nullptr when Redis could not be
  // reached or the connection dropped (last_error() says why). An error reply is a reply.
  Reply command(const std::vector<std::string>& argv, int64_t deadline_ms = 0);
  // For on_connect: the same on the connection being set up, without connecting.
  Reply send(const std::vector<std::string>& argv, int64_t deadline_ms);
  // Drops the connection and waits a backoff period before the next attempt.
  void drop(std::string why);

  bool connected() const { return context_ != nullptr; }
  // Whether the last command reached Redis, and why not when it did not.
  bool reachable() const { return reachable_; }
  const std::string& last_error() const { return last_error_; }
  // A reply Redis gave that the caller could not use: reachable, with this error.
  void note_refused(std::string why) {
    reachable_ = true;
    last_error_ = std::move(why);
  }
  const RedisConnectionOptions& options() const { return options_; }

 private:
  bool ensure_connected(int64_t mono_ms);
  bool wait_connected(int64_t deadline_ms);

  RedisConnectionOptions options_;
  redisContext* context_ = nullptr;
  int64_t next_attempt_ms_ = 0;
  int backoff_ms_ = 0;
  bool reachable_ = false;
  std::string last_error_;
};

}  // namespace sw::store
