// The embedded CounterStore: sliding-window counters in memory, persisted to SQLite under the
// state directory so a restart keeps them (a kill -9 loses at most the last second, or what
// the disk had not yet taken when it is slower than the changes: one batch is written at a time).
//
// One 32-byte slot per actor holds all of its windows. Most actors send a message now and then:
// the slot keeps their last two events (second, messages, recipients) inline, exact for every
// window, and events within the same second share one. An actor's third event within its
// longest window moves it to a busy record of one ring of 8 buckets per window (exact up to
// 1/8 of the window at the old edge; 3 windows, 120 bytes; more windows take another slot).
//
// Memory is a budget: two thirds for the table (filled to 75% at most), the rest for busy
// records. The table grows ×16 (then to its full size) and moves its keys to the bigger one a
// few per call, never all at once on the daemon's loop. At the cap a new key takes the place
// of an expired one, else of the least recently counted quiet one (two events at most) among a
// sample of 16; a busy actor counted within the last hour is never evicted, since dropping it
// could reset an account near its limit (the new key then goes uncounted, which costs at most
// its own message). Counts saturate at 65,535 per bucket or event.
//
// One thread calls count/add/sum/checkpoint (the daemon's loop); writes to the file happen on
// a writer thread from the batches checkpoint() hands it.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "policy/counter_store.h"

struct sqlite3;

namespace sw::policy {

class EmbeddedCounterStore final : public CounterStore {
 public:
  static constexpr int kBuckets = 8;
  static constexpr int kRings = 3;                 // windows in one busy record
  static constexpr size_t kDefaultMemoryMb = 192;  // with the daemon's own ~20 MB: under 256 MB

  struct Event {  // inline; messages == recipients == 0: none
    uint32_t time_s = 0;
    uint16_t messages = 0, recipients = 0;
  };
  struct Ring {
    uint32_t window_ms = 0;  // 0: unused
    uint32_t head = 0;       // bucket index (time / (window / 8)) of the newest bucket, modulo 2^32
    uint16_t messages[kBuckets] = {}, recipients[kBuckets] = {};
  };
  struct Busy {
    Ring rings[kRings];
  };
  struct Slot {
    uint64_t key = 0;       // the actor's hash; 0: empty
    uint32_t newest_s = 0;  // when it last counted something: expiry and eviction
    uint32_t record = 0;    // kDirty, kMoved; below: 1 + busy record, 0: inline
    Event events[2] = {};
  };
  static_assert(sizeof(Slot) == 32 && sizeof(Busy) == 120);

  explicit EmbeddedCounterStore(size_t memory_bytes = kDefaultMemoryMb << 20);
  ~EmbeddedCounterStore() override;
  EmbeddedCounterStore(const EmbeddedCounterStore&) = delete;
  EmbeddedCounterStore& operator=(const EmbeddedCounterStore&) = delete;

  bool count(std::string_view actor, uint32_t messages, uint32_t recipients, int64_t now_ms,
             std::span<const int64_t> windows_ms, std::span<WindowSums> out) override;
  // One window, messages only (the dictionary guard).
  std::optional<uint64_t> add(std::string_view key, uint64_t amount, int64_t now_ms, int64_t window_ms) override;
  std::optional<uint64_t> sum(std::string_view key, int64_t now_ms, int64_t window_ms) override;
  // How long a quiet key is kept: the longest window in use (the store also learns it from the
  // windows it is asked about). Set it before attach_file, which drops older rows.
  void set_retention(int64_t ms);

  // Loads <path> (creating it) and persists to it from now on; false with *error if the file
  // cannot be opened (the store then works in memory only).
  bool attach_file(const std::string& path, int64_t now_ms, std::string* error);
  // Hands (at most kBatch of) the keys changed since the last call to the writer thread, unless
  // it is still writing the last batch. Call often (the daemon: every 200 ms): the work per
  // call stays small and a flood of new actors still reaches the disk within the second.
  void checkpoint();
  // Writes every change so far (shutdown, tests); false if a write failed or the disk took more
  // than a few seconds.
  bool flush();

  size_t keys() const { return size_; }
  size_t busy_keys() const { return busy_used_; }
  size_t max_keys() const { return max_keys_; }
  // Bytes the counters may hold: the table as allocated (resident as actors spread over it) and
  // the busy records' chunks.
  size_t memory_bytes() const;
  uint64_t evictions() const { return evictions_; }
  uint64_t untracked() const { return untracked_; }  // new keys not counted: the table full of busy ones
  uint64_t write_failures() const;

 private:
  static constexpr int32_t kErase = -2, kInline = -1;
  struct Row {  // a key's state for the file
    uint64_t key = 0;
    uint32_t newest_s = 0;
    int32_t busy = kInline;  // kErase, kInline or the index of its copy in the batch's busy records
    Event events[2] = {};
  };
  static constexpr size_t kBatch = 16384;
  static constexpr size_t kNone = SIZE_MAX;
  void count_slot(uint64_t key, uint32_t messages, uint32_t recipients, int64_t now_ms,
                  std::span<const int64_t> windows_ms, std::span<WindowSums> out);
  static size_t home(uint64_t key, size_t capacity) { return size_t((unsigned __int128)key * capacity >> 64); }
  size_t home(uint64_t key) const { return home(key, capacity_); }
  size_t next(size_t i) const { return i + 1 == capacity_ ? 0 : i + 1; }
  static size_t find_in(const Slot* table, size_t capacity, uint64_t key);
  size_t find(uint64_t key);                    // in table_, moving it there from old_ if need be
  Slot* peek(uint64_t key);                     // where it is, moving nothing (no page faults)
  size_t insert(uint64_t key, uint32_t now_s);  // kNone: full of busy actors
  size_t place(const Slot& slot);               // into table_, not counted in size_
  void start_growing();
  void migrate_some();
  void erase_at(size_t i);
  void drop(size_t i);  // evicts: frees the busy record, deletes the row
  bool make_room(uint32_t now_s);
  bool expired(const Slot& s, uint32_t now_s) const;
  void clear_counts(Slot* s);
  void record(Slot* s, uint32_t messages, uint32_t recipients, int64_t now_ms, std::span<const int64_t> windows_ms);
  bool promote(Slot* s, int64_t now_ms, std::span<const int64_t> windows_ms);
  Busy& busy(const Slot& s) {
    uint32_t i = (s.record & kIndexMask) - 1;
    return chunks_[i >> kChunkBits][i & kChunkMask];
  }
  static bool is_busy(const Slot& s) { return (s.record & kIndexMask) != 0; }
  uint32_t allocate_busy(uint32_t now_s);  // 1 + index; 0: the budget is spent
  void free_busy(Slot* s);
  void mark_dirty(Slot* s);
  void writer_loop();
  bool write_rows(const std::vector<Row>& rows, const std::vector<Busy>& copies, int64_t retention_ms);
  bool purge(int64_t older_than_s);

  // In record: changed since the last batch; (while growing, in the old table) moved already.
  static constexpr uint32_t kDirty = 1u << 31, kMoved = 1u << 30, kIndexMask = kMoved - 1;
  static constexpr int kChunkBits = 12;
  static constexpr size_t kFirstCapacity = 65536, kMigrateStep = 64;
  static constexpr uint32_t kChunkMask = (1u << kChunkBits) - 1;

  Slot* table_ = nullptr;  // calloc: pages no actor landed on cost nothing
  size_t capacity_ = 0, size_ = 0, max_capacity_ = 0, max_keys_ = 0, cursor_ = 0;
  Slot* old_ = nullptr;  // while growing: the smaller table, its keys moving over a few per call
  size_t old_capacity_ = 0, migrate_at_ = 0;
  std::vector<std::unique_ptr<Busy[]>> chunks_;
  std::vector<uint32_t> free_busy_;
  size_t busy_used_ = 0, max_busy_ = 0;
  int64_t retention_ms_ = 0;
  uint64_t evictions_ = 0, untracked_ = 0;

  std::deque<uint64_t> dirty_;
  std::vector<uint64_t> erased_;  // evicted keys whose rows are to go (bounded)
  sqlite3* db_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::vector<Row> pending_;
  std::vector<Busy> pending_busy_;
  int64_t purge_before_s_ = -1, pending_retention_ms_ = 0;
  bool writing_ = false, stopping_ = false;
  uint64_t write_failures_ = 0;
  std::thread writer_;
};

uint64_t counter_key_hash(std::string_view key);

}  // namespace sw::policy
