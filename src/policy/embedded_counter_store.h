// The embedded CounterStore: sliding-window counters in memory, persisted to SQLite under the
// state directory so a restart keeps them (a kill -9 loses at most the last second, or what
// the disk had not yet taken when it is slower than the changes: one batch is written at a time).
//
// A key is kept as its 64-bit hash with 8 time buckets of its window (exact up to 1/8 of the
// window at the old edge), 48 bytes a key in an open-addressing table: a million actors with
// a few windows each stay well under 256 MB. Bucket counts saturate at 65,535 (far above any
// limit). At `max_keys` the expired keys are dropped, then the least recently used tenth.
//
// One thread calls add/sum/checkpoint (the daemon's loop); writes to the file happen on a
// writer thread from the snapshots checkpoint() hands it.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/flat_map.h"
#include "policy/counter_store.h"

struct sqlite3;

namespace sw::policy {

class EmbeddedCounterStore final : public CounterStore {
 public:
  static constexpr int kBuckets = 8;
  explicit EmbeddedCounterStore(size_t max_keys = 1'500'000);
  ~EmbeddedCounterStore() override;

  std::optional<uint64_t> add(std::string_view key, uint64_t amount, int64_t now_ms, int64_t window_ms) override;
  std::optional<uint64_t> sum(std::string_view key, int64_t now_ms, int64_t window_ms) override;

  // Loads <path> (creating it) and persists to it from now on; false with *error if the file
  // cannot be opened (the store then works in memory only).
  bool attach_file(const std::string& path, int64_t now_ms, std::string* error);
  // Hands the keys changed since the last call to the writer thread. Call about once a second.
  void checkpoint();
  // Writes every change so far (shutdown, tests); false if a write failed or the disk took more
  // than a few seconds.
  bool flush();

  size_t keys() const { return map_.size(); }
  uint64_t evictions() const { return evictions_; }
  uint64_t write_failures() const;

  struct Counter {
    int64_t head = 0;      // bucket index (time / width) of the newest bucket
    int32_t width_ms = 0;  // window / kBuckets
    bool dirty = false;
    uint16_t counts[kBuckets] = {};
  };

 private:
  struct Hash {
    size_t operator()(uint64_t k) const { return size_t(k ^ (k >> 29)); }
  };
  struct Row {
    uint64_t key;
    Counter counter;
  };
  Counter* find_or_insert(uint64_t key, int64_t now_ms);
  void evict(int64_t now_ms);
  void writer_loop();
  bool write_rows(const std::vector<Row>& rows);

  FlatMap<uint64_t, Counter, Hash> map_;
  size_t max_keys_;
  uint64_t evictions_ = 0;
  std::vector<uint64_t> dirty_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::vector<Row> pending_;
  bool writing_ = false, stopping_ = false;
  uint64_t write_failures_ = 0;
  std::string last_write_error_;
  std::thread writer_;
};

uint64_t counter_key_hash(std::string_view key);

}  // namespace sw::policy
