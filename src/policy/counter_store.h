// Sliding-window counters behind the rate limits: the embedded store on one server, Redis for a
// fleet. A failed call returns nullopt (count: false); the engine then counts locally and says
// so, it never blocks mail because its counters are out of reach.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sw::policy {

struct WindowSums {
  uint64_t messages = 0, recipients = 0;
};

class CounterStore {
 public:
  virtual ~CounterStore() = default;
  // Adds `amount` to `key` at now_ms and returns the key's sum over (now_ms - window_ms, now_ms].
  virtual std::optional<uint64_t> add(std::string_view key, uint64_t amount, int64_t now_ms, int64_t window_ms) = 0;
  // The key's sum over (now_ms - window_ms, now_ms] without adding.
  virtual std::optional<uint64_t> sum(std::string_view key, int64_t now_ms, int64_t window_ms) = 0;
  // Counts one message of `actor` with `recipients` at now_ms (nothing when both are 0) and puts
  // its sums over each of `windows_ms` in `out` (as many). This one keeps a counter per window
  // and per what is counted ("<actor>/<seconds>m" and "...r"); the embedded store keeps one slot
  // per actor for all its windows.
  virtual bool count(std::string_view actor, uint32_t messages, uint32_t recipients, int64_t now_ms,
                     std::span<const int64_t> windows_ms, std::span<WindowSums> out) {
    std::string key;
    for (size_t i = 0; i < windows_ms.size(); ++i) {
      key.assign(actor).append("/").append(std::to_string(windows_ms[i] / 1000));
      size_t base = key.size();
      std::optional<uint64_t> m = add(key.append("m"), messages, now_ms, windows_ms[i]);
      key.resize(base);
      std::optional<uint64_t> r = recipients ? add(key.append("r"), recipients, now_ms, windows_ms[i]) : 0;
      if (!m || !r) return false;
      out[i] = {*m, *r};
    }
    return true;
  }
};

}  // namespace sw::policy
