// Sliding-window counters in Redis, shared by every `serve` of a fleet. Each key is a sorted set of
// running totals scored by time, updated by one Lua script per call (atomic across instances). The
// store never stalls mail: connect and command time out after tens of milliseconds, and while Redis
// is out of reach every call returns nullopt at once until the next reconnect attempt (backoff).
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/counter_store.h"

struct redisContext;

namespace sw::policy {

struct RedisCounterOptions {
  std::string address = "127.0.0.1:6379";  // HOST:PORT, or the path of a Unix socket
  std::string key_prefix = "spamwarden:";  // every key is PREFIX + counter key
  int connect_timeout_ms = 50;
  int command_timeout_ms = 50;
  int backoff_min_ms = 100;  // first wait after a failure; doubles up to backoff_max_ms
  int backoff_max_ms = 5000;
  int64_t retention_ms = 86'400'000;  // the longest window asked for; older entries are pruned
};

// "host:port" or "/unix/path" -> error text, empty when the address is usable.
std::string redis_address_error(std::string_view address);

class RedisCounterStore final : public CounterStore {
 public:
  explicit RedisCounterStore(RedisCounterOptions options);
  ~RedisCounterStore() override;
  RedisCounterStore(const RedisCounterStore&) = delete;
  RedisCounterStore& operator=(const RedisCounterStore&) = delete;

  std::optional<uint64_t> add(std::string_view key, uint64_t amount, int64_t now_ms, int64_t window_ms) override;
  std::optional<uint64_t> sum(std::string_view key, int64_t now_ms, int64_t window_ms) override;

  // Whether the last call reached Redis, and why not when it did not (for logs and metrics).
  bool reachable() const;
  std::string last_error() const;

 private:
  std::optional<uint64_t> run_script(std::string_view key, uint64_t amount, int64_t now_ms, int64_t window_ms);
  bool ensure_connected(int64_t mono_ms);
  bool wait_connected(int64_t deadline_ms);
  bool load_script(int64_t deadline_ms);
  // Sends argv and reads one reply before deadline; nullptr (connection dropped) on failure.
  struct ReplyDeleter {
    void operator()(void* reply) const;
  };
  using Reply = std::unique_ptr<void, ReplyDeleter>;
  Reply command(const std::vector<std::string>& argv, int64_t deadline_ms);
  void drop(std::string why, int64_t mono_ms);

  RedisCounterOptions options_;
  mutable std::mutex mutex_;
  redisContext* context_ = nullptr;
  std::string script_sha_;
  int64_t next_attempt_ms_ = 0;
  int backoff_ms_ = 0;
  bool reachable_ = false;
  std::string last_error_;
};

}  // namespace sw::policy
