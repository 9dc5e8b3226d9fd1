// Prometheus text exposition of the watch (and serve) daemon's counters, served on a loopback port only.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/loopback_listen.h"
#include "detect/actor_type.h"

namespace sw::metrics {

// Written by the watch loop, read by the HTTP thread.
struct WatchMetrics {
  std::atomic<uint64_t> lines{0}, unparsed{0}, lag_bytes{0}, rotations{0}, truncations{0};
  std::atomic<int64_t> lag_seconds{0};
  std::array<std::atomic<uint64_t>, detect::kActorTypes> messages_by_type{};
  std::array<std::atomic<uint64_t>, detect::kActorTypes> messages_last_minute{};  // per-type rate
  std::atomic<uint64_t> holds_active{0}, containment_events{0}, frozen{0}, active_actors{0};
  std::atomic<uint64_t> alerts_failed{0}, store_failures{0}, list_write_failures{0};
};

std::string render_prometheus(const WatchMetrics& m);

// Messages per actor type over the trailing minute, from the ever-growing per-type totals,
// sampled by the watch loop (about once a second). Keeps at most kMaxSamples samples.
class TypeRates {
 public:
  using Counts = std::array<uint64_t, detect::kActorTypes>;
  static constexpr size_t kMaxSamples = 128;
  void sample(int64_t now_seconds, const Counts& totals);
  // Totals now minus the totals of the oldest sample no more than 60 s old (0 with one sample).
  Counts last_minute() const;

 private:
  std::deque<std::pair<int64_t, Counts>> samples_;
};

// Serves GET /metrics on a loopback address from one thread. Each connection answers one
// request and is closed; a client gets kReadDeadline to send its request and kWriteDeadline to
// take the answer, and is closed when either runs out, however slowly it trickles. At most
// kMaxConnections are open at once: one more is closed as soon as it is accepted.
class MetricsServer {
 public:
  static constexpr size_t kMaxConnections = 64;
  static constexpr size_t kMaxRequestBytes = 8192;
  static constexpr std::chrono::seconds kReadDeadline{2}, kWriteDeadline{2};

  MetricsServer(const WatchMetrics& metrics);
  // Any exposition text: `render` runs on the server's thread, so it must be thread-safe.
  explicit MetricsServer(std::function<std::string()> render);
  ~MetricsServer();
  // Binds `listen` ("127.0.0.1:9813"); false with `error` set (the address and the reason,
  // such as "Address already in use") when it cannot. Requests wait until run(), so that a
  // daemon binds as root and serves after dropping its privileges.
  bool open(const std::string& listen, std::string* error);
  void run();
  // open() and run().
  bool start(const std::string& listen, std::string* error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sw::metrics
