// Sliding-window counters behind the rate limits: the embedded store on one server, Redis for a
// fleet. A failed call returns nullopt; the engine then counts locally and says so, it never
// blocks mail because its counters are out of reach.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace sw::policy {

class CounterStore {
 public:
  virtual ~CounterStore() = default;
  // Adds `amount` to `key` at now_ms and returns the key's sum over (now_ms - window_ms, now_ms].
  virtual std::optional<uint64_t> add(std::string_view key, uint64_t amount, int64_t now_ms, int64_t window_ms) = 0;
  // The key's sum over (now_ms - window_ms, now_ms] without adding.
  virtual std::optional<uint64_t> sum(std::string_view key, int64_t now_ms, int64_t window_ms) = 0;
};

}  // namespace sw::policy
