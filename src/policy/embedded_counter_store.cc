#include "policy/embedded_counter_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>

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

int32_t width_for(int64_t window_ms) {
  return int32_t(std::clamp<int64_t>(window_ms / EmbeddedCounterStore::kBuckets, 1, INT32_MAX));
}

// Moves the counter's newest bucket to `index`, clearing the buckets it passes.
void advance(EmbeddedCounterStore::Counter* c, int64_t index) {
  if (index <= c->head) return;
  if (index - c->head >= EmbeddedCounterStore::kBuckets) {
    std::memset(c->counts, 0, sizeof c->counts);
  } else {
    for (int64_t i = c->head + 1; i <= index; ++i) c->counts[i % EmbeddedCounterStore::kBuckets] = 0;
  }
  c->head = index;
}

uint64_t window_sum(const EmbeddedCounterStore::Counter& c, int64_t index) {
  uint64_t total = 0;
  for (int64_t i = std::max(c.head - EmbeddedCounterStore::kBuckets + 1, index - EmbeddedCounterStore::kBuckets + 1);
       i <= c.head; ++i)
    total += c.counts[((i % EmbeddedCounterStore::kBuckets) + EmbeddedCounterStore::kBuckets) %
                      EmbeddedCounterStore::kBuckets];
  return total;
}

bool expired(const EmbeddedCounterStore::Counter& c, int64_t now_ms) {
  return c.width_ms == 0 || now_ms / c.width_ms - c.head >= EmbeddedCounterStore::kBuckets;
}

}  // namespace

EmbeddedCounterStore::EmbeddedCounterStore(size_t max_keys) : max_keys_(std::max<size_t>(max_keys, 16)) {}

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
}

EmbeddedCounterStore::Counter* EmbeddedCounterStore::find_or_insert(uint64_t key, int64_t now_ms) {
  if (Counter* c = map_.find(key)) return c;
  if (map_.size() >= max_keys_) evict(now_ms);
  return &map_[key];
}

std::optional<uint64_t> EmbeddedCounterStore::add(std::string_view key, uint64_t amount, int64_t now_ms,
                                                  int64_t window_ms) {
  uint64_t h = counter_key_hash(key);
  Counter* c = find_or_insert(h, now_ms);
  int32_t width = width_for(window_ms);
  if (c->width_ms != width) *c = Counter{.head = now_ms / width, .width_ms = width};
  int64_t index = now_ms / width;
  advance(c, index);
  uint16_t& bucket = c->counts[index % kBuckets];
  bucket = uint16_t(std::min<uint64_t>(uint64_t(bucket) + amount, UINT16_MAX));
  if (!c->dirty && db_) {
    c->dirty = true;
    dirty_.push_back(h);
  }
  return window_sum(*c, index);
}

std::optional<uint64_t> EmbeddedCounterStore::sum(std::string_view key, int64_t now_ms, int64_t window_ms) {
  const Counter* c = map_.find(counter_key_hash(key));
  int32_t width = width_for(window_ms);
  if (!c || c->width_ms != width) return 0;
  return window_sum(*c, now_ms / width);
}

void EmbeddedCounterStore::evict(int64_t now_ms) {
  std::vector<std::pair<int64_t, uint64_t>> by_age;  // newest bucket's start time, key
  by_age.reserve(map_.size());
  std::vector<uint64_t> gone;
  map_.for_each([&](uint64_t key, const Counter& c) {
    if (expired(c, now_ms)) gone.push_back(key);
    else by_age.emplace_back(c.head * c.width_ms, key);
  });
  if (gone.size() < max_keys_ / 10 && !by_age.empty()) {
    size_t n = std::min(by_age.size(), max_keys_ / 10 - gone.size());
    std::nth_element(by_age.begin(), by_age.begin() + ptrdiff_t(n), by_age.end());
    for (size_t i = 0; i < n; ++i) gone.push_back(by_age[i].second);
  }
  for (uint64_t key : gone) map_.erase(key);
  evictions_ += gone.size();
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
  const char* schema =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS counters (key INTEGER PRIMARY KEY, width INTEGER NOT NULL,"
      " head INTEGER NOT NULL, counts BLOB NOT NULL);";
  if (sqlite3_exec(db_, schema, nullptr, nullptr, &msg) != SQLITE_OK) {
    *error = "cannot set up " + path + ": " + (msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db_);
    db_ = nullptr;
    return false;
  }
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "SELECT key, width, head, counts FROM counters", -1, &st, nullptr);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    Counter c;
    c.width_ms = int32_t(sqlite3_column_int64(st, 1));
    c.head = sqlite3_column_int64(st, 2);
    if (sqlite3_column_bytes(st, 3) != int(sizeof c.counts) || c.width_ms <= 0 || expired(c, now_ms)) continue;
    std::memcpy(c.counts, sqlite3_column_blob(st, 3), sizeof c.counts);
    if (map_.size() >= max_keys_) break;
    map_[uint64_t(sqlite3_column_int64(st, 0))] = c;
  }
  sqlite3_finalize(st);
  sqlite3_exec(db_, "DELETE FROM counters", nullptr, nullptr, nullptr);  // rewritten below, expired rows gone
  map_.for_each([&](uint64_t key, const Counter&) { dirty_.push_back(key); });
  writer_ = std::thread([this] { writer_loop(); });
  checkpoint();
  return true;
}

void EmbeddedCounterStore::checkpoint() {
  if (!db_ || dirty_.empty()) return;
  {
    // One batch in flight at a time: while the disk is slower than the changes, the keys wait
    // here as dirty (8 bytes each, once per key), not as ever more copies of their rows.
    std::lock_guard lock(mutex_);
    if (writing_ || !pending_.empty()) return;
  }
  std::vector<Row> rows;
  rows.reserve(dirty_.size());
  for (uint64_t key : dirty_)
    if (Counter* c = map_.find(key)) {
      c->dirty = false;
      rows.push_back({key, *c});
    }
  dirty_.clear();
  {
    std::lock_guard lock(mutex_);
    if (pending_.empty()) pending_ = std::move(rows);
    else pending_.insert(pending_.end(), rows.begin(), rows.end());
  }
  wake_.notify_one();
}

bool EmbeddedCounterStore::flush() {
  // Bounded: on a full disk the writer keeps failing, and a shutdown must not wait for it.
  auto idle = [&] {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, std::chrono::seconds(5), [&] { return pending_.empty() && !writing_; });
  };
  if (!writer_.joinable()) return false;
  if (!idle()) return false;  // the batch in flight
  checkpoint();               // then what waited behind it
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
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty() && stopping_) return;
    std::vector<Row> rows = std::move(pending_);
    pending_.clear();
    writing_ = true;
    lock.unlock();
    bool ok = write_rows(rows);
    lock.lock();
    writing_ = false;
    if (!ok) {
      // A full disk: keep the rows for the next round (newer snapshots of a key win), bounded.
      ++write_failures_;
      if (pending_.size() + rows.size() <= max_keys_) pending_.insert(pending_.begin(), rows.begin(), rows.end());
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::seconds(1));
      lock.lock();
    }
    idle_.notify_all();
    if (!ok && stopping_) return;
  }
}

bool EmbeddedCounterStore::write_rows(const std::vector<Row>& rows) {
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return false;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO counters (key, width, head, counts) VALUES (?, ?, ?, ?)", -1, &st,
                         nullptr) != SQLITE_OK) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return false;
  }
  bool ok = true;
  for (const Row& r : rows) {
    sqlite3_bind_int64(st, 1, int64_t(r.key));
    sqlite3_bind_int64(st, 2, r.counter.width_ms);
    sqlite3_bind_int64(st, 3, r.counter.head);
    sqlite3_bind_blob(st, 4, r.counter.counts, sizeof r.counter.counts, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) ok = false;
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  if (!ok || sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return false;
  }
  return true;
}

}  // namespace sw::policy
