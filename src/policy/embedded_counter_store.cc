#include "policy/embedded_counter_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "base/probe_run.h"

namespace sw::policy {

uint64_t counter_key_hash(std::string_view key) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a, then a final mix so close keys spread
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

namespace {

using Ring = EmbeddedCounterStore::Ring;
using Event = EmbeddedCounterStore::Event;
constexpr int kBuckets = EmbeddedCounterStore::kBuckets;
constexpr int kSample = 16;
constexpr uint32_t kKeepBusyS = 3600;  // a busy actor counted this recently is never evicted

uint32_t window_of(int64_t window_ms) { return uint32_t(std::clamp<int64_t>(window_ms, 1, UINT32_MAX)); }
int64_t ring_index(const Ring& r, int64_t now_ms) { return now_ms / std::max<uint32_t>(1, r.window_ms / kBuckets); }
// Buckets from the ring's newest to now; negative when the clock went back.
int32_t ring_delta(const Ring& r, int64_t index) { return int32_t(uint32_t(index) - r.head); }
uint16_t saturated(uint64_t a, uint64_t b) { return uint16_t(std::min<uint64_t>(a + b, UINT16_MAX)); }

void ring_start(Ring* r, uint32_t window_ms, int64_t now_ms) {
  *r = Ring{.window_ms = window_ms};
  r->head = uint32_t(ring_index(*r, now_ms));
}

void ring_add(Ring* r, int64_t now_ms, uint32_t messages, uint32_t recipients) {
  int64_t index = ring_index(*r, now_ms);
  int32_t delta = ring_delta(*r, index);
  if (delta >= kBuckets) {
    std::memset(r->messages, 0, sizeof r->messages);
    std::memset(r->recipients, 0, sizeof r->recipients);
  } else {
    for (int32_t k = 1; k <= delta; ++k)
      r->messages[(r->head + k) % kBuckets] = r->recipients[(r->head + k) % kBuckets] = 0;
  }
  if (delta > 0) r->head = uint32_t(index);  // else the clock went back: into the newest bucket
  uint32_t b = r->head % kBuckets;
  r->messages[b] = saturated(r->messages[b], messages);
  r->recipients[b] = saturated(r->recipients[b], recipients);
}

// An inline event moving into a fresh ring: into its bucket if that is still in the window.
void ring_replay(Ring* r, int64_t now_ms, const Event& e) {
  int64_t delta = ring_index(*r, now_ms) - ring_index(*r, int64_t(e.time_s) * 1000);
  if (delta < 0 || delta >= kBuckets) return;
  uint32_t b = (r->head - uint32_t(delta)) % kBuckets;
  r->messages[b] = saturated(r->messages[b], e.messages);
  r->recipients[b] = saturated(r->recipients[b], e.recipients);
}

WindowSums ring_sum(const Ring& r, int64_t now_ms) {
  int32_t delta = std::max(ring_delta(r, ring_index(r, now_ms)), 0);
  WindowSums out;
  for (int32_t k = 0; k < kBuckets - delta; ++k) {
    uint32_t b = (r.head - uint32_t(k)) % kBuckets;
    out.messages += r.messages[b];
    out.recipients += r.recipients[b];
  }
  return out;
}

bool empty(const Event& e) { return e.messages == 0 && e.recipients == 0; }

// Whether an event at time_s is inside a window of window_ms at now_s (a later one is).
bool within(uint32_t time_s, uint32_t now_s, int64_t window_ms) {
  return time_s >= now_s || int64_t(now_s - time_s) * 1000 < window_ms;
}

}  // namespace

EmbeddedCounterStore::EmbeddedCounterStore(size_t memory_bytes) {
  memory_bytes = std::max<size_t>(memory_bytes, 64 << 10);
  max_capacity_ = memory_bytes / 3 * 2 / sizeof(Slot);
  max_keys_ = max_capacity_ / 4 * 3;
  max_busy_ = (memory_bytes - max_capacity_ * sizeof(Slot)) / sizeof(Busy);
  // Small at first; then ×16, at last the full size (at most a quarter of it before). A table
  // grows incrementally (migrate_some), never by rehashing all its keys in one go: the pages of
  // a big fresh table take seconds of faults on a busy machine, and the loop must not wait.
  capacity_ = max_capacity_ < 4 * kFirstCapacity ? max_capacity_ : kFirstCapacity;
  table_ = static_cast<Slot*>(std::calloc(capacity_, sizeof(Slot)));
  if (!table_) throw std::bad_alloc();
}

EmbeddedCounterStore::~EmbeddedCounterStore() {
  if (writer_.joinable()) {
    flush();
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    writer_.join();
  }
  if (db_) sqlite3_close(db_);
  std::free(table_);
  std::free(old_);
}

size_t EmbeddedCounterStore::memory_bytes() const {
  return (capacity_ + old_capacity_) * sizeof(Slot) + chunks_.size() * (size_t(1) << kChunkBits) * sizeof(Busy);
}

void EmbeddedCounterStore::set_retention(int64_t ms) { retention_ms_ = std::max(retention_ms_, ms); }

size_t EmbeddedCounterStore::find_in(const Slot* table, size_t capacity, uint64_t key) {
  for (size_t i = home(key, capacity);; i = i + 1 == capacity ? 0 : i + 1) {
    if (table[i].key == key) return i;
    if (table[i].key == 0) return kNone;
  }
}

size_t EmbeddedCounterStore::place(const Slot& slot) {
  size_t i = home(slot.key, capacity_);
  while (table_[i].key) i = next(i);
  table_[i] = slot;
  return i;
}

size_t EmbeddedCounterStore::find(uint64_t key) {
  size_t i = find_in(table_, capacity_, key);
  if (i != kNone || !old_) return i;
  size_t j = find_in(old_, old_capacity_, key);
  if (j == kNone || j < migrate_at_ || (old_[j].record & kMoved)) return kNone;
  Slot moving = old_[j];
  old_[j].record |= kMoved;  // moved now; the migration skips its old copy
  return place(moving);
}

EmbeddedCounterStore::Slot* EmbeddedCounterStore::peek(uint64_t key) {
  // A key not yet moved is read where it is: no probe into the new table's untouched pages.
  if (size_t j = old_ ? find_in(old_, old_capacity_, key) : kNone;
      j != kNone && j >= migrate_at_ && !(old_[j].record & kMoved))
    return &old_[j];
  size_t i = find_in(table_, capacity_, key);
  return i == kNone ? nullptr : &table_[i];
}

void EmbeddedCounterStore::start_growing() {
  size_t wanted = capacity_ * 16;
  if (wanted * 4 > max_capacity_) wanted = max_capacity_;
  Slot* fresh = static_cast<Slot*>(std::calloc(wanted, sizeof(Slot)));
  if (!fresh) return;           // stays at its size, evicting
  while (old_) migrate_some();  // the previous growth, if unfinished (a sixteenth of this one's keys)
  old_ = table_;
  old_capacity_ = capacity_;
  table_ = fresh;
  capacity_ = wanted;
  migrate_at_ = cursor_ = 0;
}

void EmbeddedCounterStore::migrate_some() {
  // Copies, never erases, in the old table: its probe runs stay intact for the keys not yet
  // moved, and a key already moved (looked up meanwhile, kMoved) is not copied over its newer self.
  // No key is evicted meanwhile: the new table is at least 4 times bigger, the cap far away.
  for (size_t end = std::min(old_capacity_, migrate_at_ + kMigrateStep); migrate_at_ < end; ++migrate_at_) {
    const Slot& s = old_[migrate_at_];
    if (s.key && !(s.record & kMoved)) place(s);
  }
  if (migrate_at_ == old_capacity_) {
    std::free(old_);
    old_ = nullptr;
    old_capacity_ = 0;
  }
}

size_t EmbeddedCounterStore::insert(uint64_t key, uint32_t now_s) {
  if ((size_ + 1) * 4 > capacity_ * 3 && capacity_ < max_capacity_) start_growing();
  if (size_ + 1 > std::min(max_keys_, capacity_ / 4 * 3) && !make_room(now_s)) return kNone;
  ++size_;
  return place(Slot{.key = key});
}

void EmbeddedCounterStore::erase_at(size_t i) {
  i = shift_back(
      i, [&](size_t j) { return next(j); }, [&](size_t j) { return table_[j].key != 0; },
      [&](size_t j) { return home(table_[j].key); }, [&](size_t to, size_t from) { table_[to] = table_[from]; });
  table_[i] = Slot{};
  --size_;
}

void EmbeddedCounterStore::drop(size_t i) {
  free_busy(&table_[i]);
  if (db_ && erased_.size() < max_keys_) erased_.push_back(table_[i].key);
  erase_at(i);
  ++evictions_;
}

bool EmbeddedCounterStore::expired(const Slot& s, uint32_t now_s) const {
  return retention_ms_ > 0 && !within(s.newest_s, now_s, retention_ms_);
}

bool EmbeddedCounterStore::make_room(uint32_t now_s) {
  while (old_) migrate_some();  // an eviction must not leave a copy behind to move back later
  // A sample from a sweeping cursor, not a scan of the table: constant work per new key.
  size_t best = kNone;
  uint64_t best_rank = 0;
  for (int seen = 0, looked = 0; seen < kSample && looked < 4 * kSample; ++looked) {
    size_t i = cursor_;
    cursor_ = next(cursor_);
    const Slot& s = table_[i];
    if (!s.key) continue;
    ++seen;
    if (expired(s, now_s)) {
      drop(i);
      return true;
    }
    uint32_t idle = now_s > s.newest_s ? now_s - s.newest_s : 0;
    if (is_busy(s) && idle < kKeepBusyS) continue;
    uint64_t rank = (is_busy(s) ? 0 : uint64_t(1) << 32) | idle;  // quiet ones first, then the longest idle
    if (best == kNone || rank > best_rank) best = i, best_rank = rank;
  }
  if (best == kNone) return false;
  drop(best);
  return true;
}

uint32_t EmbeddedCounterStore::allocate_busy(uint32_t now_s) {
  // Expired actors give theirs back (the slots stay where they are: a caller holds one).
  for (int looked = 0; busy_used_ >= max_busy_ && looked < 4 * kSample; ++looked) {
    Slot& s = table_[cursor_];
    cursor_ = next(cursor_);
    if (s.key && is_busy(s) && expired(s, now_s)) clear_counts(&s);
  }
  if (busy_used_ >= max_busy_) return 0;
  if (free_busy_.empty()) {
    uint32_t base = uint32_t(chunks_.size() << kChunkBits);
    chunks_.push_back(std::make_unique<Busy[]>(size_t(1) << kChunkBits));
    for (uint32_t i = kChunkMask + 1; i-- > 0;) free_busy_.push_back(base + i);
  }
  uint32_t index = free_busy_.back();
  free_busy_.pop_back();
  ++busy_used_;
  return index + 1;
}

void EmbeddedCounterStore::free_busy(Slot* s) {
  if (!is_busy(*s)) return;
  free_busy_.push_back((s->record & kIndexMask) - 1);
  --busy_used_;
  s->record &= kDirty;
}

void EmbeddedCounterStore::clear_counts(Slot* s) {
  free_busy(s);
  s->events[0] = s->events[1] = Event{};
}

void EmbeddedCounterStore::mark_dirty(Slot* s) {
  if (!db_ || (s->record & kDirty)) return;
  s->record |= kDirty;
  dirty_.push_back(s->key);
}

bool EmbeddedCounterStore::promote(Slot* s, int64_t now_ms, std::span<const int64_t> windows_ms) {
  uint32_t record = allocate_busy(uint32_t(now_ms / 1000));
  if (!record) return false;
  s->record = (s->record & kDirty) | record;
  Busy& b = busy(*s);
  b = Busy{};
  for (size_t w = 0; w < windows_ms.size(); ++w) {
    ring_start(&b.rings[w], window_of(windows_ms[w]), now_ms);
    for (const Event& e : s->events)
      if (!empty(e)) ring_replay(&b.rings[w], now_ms, e);
  }
  s->events[0] = s->events[1] = Event{};
  return true;
}

void EmbeddedCounterStore::record(Slot* s, uint32_t messages, uint32_t recipients, int64_t now_ms,
                                  std::span<const int64_t> windows_ms) {
  uint32_t now_s = uint32_t(now_ms / 1000);
  if (!is_busy(*s)) {
    Event* slot = nullptr;
    for (Event& e : s->events) {
      if (!empty(e) && !within(e.time_s, now_s, retention_ms_)) e = Event{};
      if (!empty(e) && e.time_s == now_s) slot = &e;  // the same second: one event
    }
    for (Event& e : s->events)
      if (!slot && empty(e)) slot = &e, e.time_s = now_s;
    if (!slot && !promote(s, now_ms, windows_ms)) {
      // No busy record left: the counts go to the newer event, kept but dated a little early.
      slot = s->events[0].time_s >= s->events[1].time_s ? &s->events[0] : &s->events[1];
    }
    if (slot) {
      slot->messages = saturated(slot->messages, messages);
      slot->recipients = saturated(slot->recipients, recipients);
    }
  }
  if (is_busy(*s)) {
    Busy& b = busy(*s);
    for (int64_t window : windows_ms) {
      uint32_t w = window_of(window);
      Ring* ring = nullptr;
      for (Ring& r : b.rings)
        if (r.window_ms == w) ring = &r;
      for (Ring& r : b.rings) {  // a window new since the last reload: a ring no window uses
        if (ring) break;
        if (std::none_of(windows_ms.begin(), windows_ms.end(),
                         [&](int64_t x) { return window_of(x) == r.window_ms; })) {
          ring_start(&r, w, now_ms);
          ring = &r;
        }
      }
      if (ring) ring_add(ring, now_ms, messages, recipients);
    }
  }
  s->newest_s = std::max(s->newest_s, now_s);
  mark_dirty(s);
}

void EmbeddedCounterStore::count_slot(uint64_t key, uint32_t messages, uint32_t recipients, int64_t now_ms,
                                      std::span<const int64_t> windows_ms, std::span<WindowSums> out) {
  for (int64_t w : windows_ms) retention_ms_ = std::max(retention_ms_, w);
  uint32_t now_s = uint32_t(now_ms / 1000);
  if (old_) migrate_some();
  size_t i = find(key);
  bool adding = messages || recipients;
  if (i == kNone) {
    std::fill(out.begin(), out.end(), WindowSums{adding ? messages : 0, adding ? recipients : 0});
    if (!adding) return;
    i = insert(key, now_s);
    if (i == kNone) {
      ++untracked_;
      return;
    }
  } else if (expired(table_[i], now_s)) {
    clear_counts(&table_[i]);
  }
  Slot* s = &table_[i];
  if (adding) record(s, messages, recipients, now_ms, windows_ms);
  for (size_t w = 0; w < windows_ms.size(); ++w) {
    out[w] = {};
    if (is_busy(*s)) {
      for (const Ring& r : busy(*s).rings)
        if (r.window_ms == window_of(windows_ms[w])) out[w] = ring_sum(r, now_ms);
      continue;
    }
    for (const Event& e : s->events)
      if (!empty(e) && within(e.time_s, now_s, windows_ms[w])) {
        out[w].messages += e.messages;
        out[w].recipients += e.recipients;
      }
  }
}

bool EmbeddedCounterStore::count(std::string_view actor, uint32_t messages, uint32_t recipients, int64_t now_ms,
                                 std::span<const int64_t> windows_ms, std::span<WindowSums> out) {
  uint64_t key = counter_key_hash(actor);
  for (size_t first = 0; first < windows_ms.size(); first += kRings) {
    size_t n = std::min<size_t>(kRings, windows_ms.size() - first);
    // Windows past the first kRings: another slot, under a key derived from the actor's.
    uint64_t slot_key =
        first ? counter_key_hash(std::string_view(reinterpret_cast<const char*>(&key), sizeof key)) + first : key;
    count_slot(slot_key ? slot_key : 1, messages, recipients, now_ms, windows_ms.subspan(first, n),
               out.subspan(first, n));
  }
  return true;
}

std::optional<uint64_t> EmbeddedCounterStore::add(std::string_view key, uint64_t amount, int64_t now_ms,
                                                  int64_t window_ms) {
  WindowSums out;
  count(key, uint32_t(std::min<uint64_t>(amount, UINT32_MAX)), 0, now_ms, {&window_ms, 1}, {&out, 1});
  return out.messages;
}

std::optional<uint64_t> EmbeddedCounterStore::sum(std::string_view key, int64_t now_ms, int64_t window_ms) {
  return add(key, 0, now_ms, window_ms);
}

bool EmbeddedCounterStore::attach_file(const std::string& path, int64_t now_ms, std::string* error) {
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    *error = "cannot open " + path + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
    return false;
  }
  sqlite3_busy_timeout(db_, 2000);
  char* msg = nullptr;
  // A few MB of page cache; the WAL is cut back after each checkpoint so the disk stays bounded too.
  const char* schema =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-4096;"
      "PRAGMA journal_size_limit=67108864;"
      "CREATE TABLE IF NOT EXISTS actors (key INTEGER PRIMARY KEY, newest INTEGER NOT NULL, data BLOB NOT NULL);"
      "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);";
  if (sqlite3_exec(db_, schema, nullptr, nullptr, &msg) != SQLITE_OK) {
    *error = "cannot set up " + path + ": " + (msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db_);
    db_ = nullptr;
    return false;
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE name = 'retention_ms'", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    set_retention(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  uint32_t now_s = uint32_t(now_ms / 1000);
  int64_t cutoff_s = int64_t(now_s) - (retention_ms_ + 999) / 1000;
  st = nullptr;
  sqlite3_prepare_v2(db_, "SELECT key, newest, data FROM actors WHERE newest > ?", -1, &st, nullptr);
  sqlite3_bind_int64(st, 1, cutoff_s);
  while (st && sqlite3_step(st) == SQLITE_ROW && size_ < max_keys_) {
    Slot s{.key = uint64_t(sqlite3_column_int64(st, 0)), .newest_s = uint32_t(sqlite3_column_int64(st, 1))};
    int bytes = sqlite3_column_bytes(st, 2);
    const void* data = sqlite3_column_blob(st, 2);
    if (s.key == 0 || find_in(table_, capacity_, s.key) != kNone || expired(s, now_s)) continue;
    if (bytes == int(sizeof s.events)) {
      std::memcpy(s.events, data, sizeof s.events);
    } else if (bytes == int(sizeof(Busy))) {
      if (!(s.record = allocate_busy(now_s))) continue;
      std::memcpy(&busy(s), data, sizeof(Busy));
    } else {
      continue;
    }
    if ((size_ + 1) * 4 > capacity_ * 3 && capacity_ < max_capacity_) {
      start_growing();
      while (old_) migrate_some();  // before serving: at once
    }
    ++size_;
    place(s);
  }
  sqlite3_finalize(st);
  purge_before_s_ = cutoff_s;  // the writer's first job: the expired rows, the old table
  writer_ = std::thread([this] { writer_loop(); });
  wake_.notify_one();
  return true;
}

void EmbeddedCounterStore::checkpoint() {
  if (!db_ || (dirty_.empty() && erased_.empty())) return;
  {
    // One batch in flight at a time: while the disk is slower than the changes, the keys wait
    // here as dirty (8 bytes each, once per key), not as ever more copies of their rows.
    std::lock_guard lock(mutex_);
    if (writing_ || !pending_.empty()) return;
  }
  std::vector<Row> rows;
  std::vector<Busy> copies;
  size_t erase = std::min(erased_.size(), kBatch);
  rows.reserve(erase + std::min(dirty_.size(), kBatch));
  for (size_t i = erased_.size() - erase; i < erased_.size(); ++i) rows.push_back({erased_[i], 0, kErase, {}});
  erased_.resize(erased_.size() - erase);
  while (!dirty_.empty() && rows.size() < kBatch + erase) {
    uint64_t key = dirty_.front();
    dirty_.pop_front();
    Slot* found = peek(key);
    if (!found) continue;  // evicted since
    Slot& s = *found;
    s.record &= ~kDirty;  // in the old table while growing: its copy takes the flag along
    Row row{key, s.newest_s, kInline, {s.events[0], s.events[1]}};
    if (is_busy(s)) {
      row.busy = int32_t(copies.size());
      copies.push_back(busy(s));
    }
    rows.push_back(row);
  }
  if (dirty_.empty()) dirty_.shrink_to_fit();
  {
    std::lock_guard lock(mutex_);
    pending_ = std::move(rows);
    pending_busy_ = std::move(copies);
    pending_retention_ms_ = retention_ms_;
  }
  wake_.notify_one();
}

bool EmbeddedCounterStore::flush() {
  // Bounded: on a full disk the writer keeps failing, and a shutdown must not wait for it.
  auto idle = [&] {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, std::chrono::seconds(5),
                          [&] { return pending_.empty() && !writing_ && purge_before_s_ < 0; });
  };
  if (!writer_.joinable()) return false;
  do {
    if (!idle()) return false;  // the batch in flight
    checkpoint();               // then what waited behind it
  } while (!dirty_.empty() || !erased_.empty());
  if (!idle()) return false;
  std::lock_guard lock(mutex_);
  return write_failures_ == 0;
}

uint64_t EmbeddedCounterStore::write_failures() const {
  std::lock_guard lock(mutex_);
  return write_failures_;
}

void EmbeddedCounterStore::writer_loop() {
  std::unique_lock lock(mutex_);
  if (purge_before_s_ >= 0) {
    int64_t before = purge_before_s_;
    writing_ = true;
    lock.unlock();
    purge(before);
    lock.lock();
    writing_ = false;
    purge_before_s_ = -1;
    idle_.notify_all();
  }
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty() && stopping_) return;
    std::vector<Row> rows = std::move(pending_);
    std::vector<Busy> copies = std::move(pending_busy_);
    pending_.clear();
    pending_busy_.clear();
    int64_t retention = pending_retention_ms_;
    writing_ = true;
    lock.unlock();
    bool ok = write_rows(rows, copies, retention);
    lock.lock();
    writing_ = false;
    if (!ok) {
      // A full disk: keep the rows for the next round, before what came since (newer wins), bounded.
      ++write_failures_;
      if (pending_.size() + rows.size() <= 4 * kBatch) {
        for (Row& r : pending_)
          if (r.busy >= 0) r.busy += int32_t(copies.size());
        rows.insert(rows.end(), pending_.begin(), pending_.end());
        copies.insert(copies.end(), pending_busy_.begin(), pending_busy_.end());
        pending_ = std::move(rows);
        pending_busy_ = std::move(copies);
      }
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::seconds(1));
      lock.lock();
    }
    idle_.notify_all();
    if (!ok && stopping_) return;
  }
}

bool EmbeddedCounterStore::purge(int64_t older_than_s) {
  // Before this layout a row was one window of one counted thing; those counters start afresh.
  sqlite3_exec(db_, "DROP TABLE IF EXISTS counters", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "DELETE FROM actors WHERE newest <= ?", -1, &st, nullptr) != SQLITE_OK) return false;
  sqlite3_bind_int64(st, 1, older_than_s);
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  return ok;
}

bool EmbeddedCounterStore::write_rows(const std::vector<Row>& rows, const std::vector<Busy>& copies,
                                      int64_t retention_ms) {
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return false;
  sqlite3_stmt *put = nullptr, *erase = nullptr, *meta = nullptr;
  bool ok = sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO actors (key, newest, data) VALUES (?, ?, ?)", -1, &put,
                               nullptr) == SQLITE_OK &&
            sqlite3_prepare_v2(db_, "DELETE FROM actors WHERE key = ?", -1, &erase, nullptr) == SQLITE_OK &&
            sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO meta (name, value) VALUES ('retention_ms', ?)", -1, &meta,
                               nullptr) == SQLITE_OK;
  for (size_t i = 0; ok && i < rows.size(); ++i) {
    const Row& r = rows[i];
    sqlite3_stmt* st = r.busy == kErase ? erase : put;
    sqlite3_bind_int64(st, 1, int64_t(r.key));
    if (r.busy != kErase) {
      sqlite3_bind_int64(st, 2, r.newest_s);
      if (r.busy >= 0) sqlite3_bind_blob(st, 3, &copies[size_t(r.busy)], sizeof(Busy), SQLITE_STATIC);
      else sqlite3_bind_blob(st, 3, r.events, sizeof r.events, SQLITE_STATIC);
    }
    if (sqlite3_step(st) != SQLITE_DONE) ok = false;
    sqlite3_reset(st);
  }
  if (ok) {
    sqlite3_bind_int64(meta, 1, retention_ms);
    ok = sqlite3_step(meta) == SQLITE_DONE;
  }
  sqlite3_finalize(put);
  sqlite3_finalize(erase);
  sqlite3_finalize(meta);
  if (!ok || sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return false;
  }
  return true;
}

}  // namespace sw::policy
