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
#include "store/redis_connection.h"

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

using store::redis_address_error;

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
  bool load_script(store::RedisConnection& c, int64_t deadline_ms);

  RedisCounterOptions options_;
  mutable std::mutex mutex_;
  store::RedisConnection redis_;
  std::string script_sha_;
};

}  // namespace sw::policy
