#include "store/hold_store.h"

#include <sqlite3.h>

namespace sw::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS holds (
  id INTEGER PRIMARY KEY,
  actor_type TEXT NOT NULL, actor_key TEXT NOT NULL,
  reason TEXT NOT NULL, related_user TEXT NOT NULL DEFAULT '',
  since INTEGER NOT NULL, frozen INTEGER NOT NULL DEFAULT 0,
  active INTEGER NOT NULL DEFAULT 1, released_at INTEGER NOT NULL DEFAULT 0,
  release_note TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX IF NOT EXISTS holds_one_active ON holds(actor_type, actor_key) WHERE active = 1;
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL,
  actor TEXT NOT NULL, detail TEXT NOT NULL);
)sql";

// One prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql, std::string* error) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK && error) *error = sqlite3_errmsg(db);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  explicit operator bool() const { return stmt_ != nullptr; }
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.c_str(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  int step() { return sqlite3_step(stmt_); }
  bool run(std::string* error) {
    int rc = step();
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return true;
    if (error) *error = sqlite3_errmsg(db_);
    return false;
  }
  std::string text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

constexpr const char* kHoldColumns =
    "SELECT actor_type, actor_key, reason, related_user, since, frozen, active, released_at, release_note, incident "
    "FROM holds";

HoldRecord read_hold(const Statement& s) {
  HoldRecord h;
  h.actor.type = detect::parse_actor_type(s.text(0)).value_or(detect::ActorType::Sender);
  h.actor.key = s.text(1);
  h.reason = s.text(2);
  h.related_user = s.text(3);
  h.since = s.integer(4);
  h.frozen = s.integer(5);
  h.active = s.integer(6) != 0;
  h.released_at = s.integer(7);
  h.release_note = s.text(8);
  h.incident = s.text(9);
  if (h.incident.empty()) h.incident = detect::format_actor_ref(h.actor);  // stored before incidents existed
  return h;
}

}  // namespace

std::string store_path(const std::string& state_dir) { return state_dir + "/spamwarden.db"; }

std::unique_ptr<HoldStore> HoldStore::open(const std::string& path, std::string* error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    if (error) *error = "cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);  // `release` and `watch` may write at the same moment
  std::unique_ptr<HoldStore> store(new HoldStore(db));
  // WAL with synchronous=NORMAL: a commit is in the log file before it returns, so it survives
  // kill -9 of the process (not a power cut before the next checkpoint) without an fsync each.
  if (!store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error) || !store->exec(kSchema, error) ||
      !store->add_incident_column(error)) {
    if (error) *error = path + ": " + *error;
    return nullptr;
  }
  return store;
}

HoldStore::~HoldStore() { sqlite3_close(db_); }

bool HoldStore::add_incident_column(std::string* error) {
  Statement s(db_, "SELECT 1 FROM pragma_table_info('holds') WHERE name = 'incident'", error);
  if (!s) return false;
  if (s.step() == SQLITE_ROW) return true;
  return exec("ALTER TABLE holds ADD COLUMN incident TEXT NOT NULL DEFAULT ''", error);
}

bool HoldStore::exec(const char* sql, std::string* error) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
  if (error) *error = message ? message : "sqlite error";
  sqlite3_free(message);
  return false;
}

bool HoldStore::add_hold(const HoldRecord& h, std::string* error) {
  Statement s(db_,
              "INSERT OR IGNORE INTO holds(actor_type, actor_key, reason, related_user, since, frozen, incident) "
              "VALUES(?,?,?,?,?,?,?)",
              error);
  if (!s) return false;
  s.bind(1, std::string(detect::actor_type_name(h.actor.type))).bind(2, h.actor.key).bind(3, h.reason);
  s.bind(4, h.related_user).bind(5, h.since).bind(6, h.frozen);
  s.bind(7, h.incident.empty() ? detect::format_actor_ref(h.actor) : h.incident);
  if (!s.run(error)) return false;
  return sqlite3_changes(db_) > 0;
}

bool HoldStore::add_holds(const std::vector<HoldRecord>& holds, const std::vector<EventRecord>& events,
                          std::string* error) {
  if (!exec("BEGIN IMMEDIATE", error)) return false;
  std::string failure;
  for (const HoldRecord& h : holds) {
    add_hold(h, &failure);  // false without an error: already held
    if (!failure.empty()) break;
  }
  bool ok = failure.empty();
  if (!ok && error) *error = failure;
  for (const EventRecord& e : events) ok = ok && add_event(e, error);
  if (ok && exec("COMMIT", error)) return true;
  exec("ROLLBACK", nullptr);
  return false;
}

std::optional<std::vector<HoldRecord>> HoldStore::active_holds(std::string* error) {
  Statement s(db_, (std::string(kHoldColumns) + " WHERE active = 1 ORDER BY since, id").c_str(), error);
  if (!s) return std::nullopt;
  std::vector<HoldRecord> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_hold(s));
  if (rc != SQLITE_DONE) {
    if (error) *error = sqlite3_errmsg(db_);
    return std::nullopt;
  }
  return out;
}

std::optional<HoldRecord> HoldStore::active_hold(const detect::ActorRef& actor, std::string* error) {
  Statement s(db_, (std::string(kHoldColumns) + " WHERE active = 1 AND actor_type = ? AND actor_key = ?").c_str(),
              error);
  if (!s) return std::nullopt;
  s.bind(1, std::string(detect::actor_type_name(actor.type))).bind(2, actor.key);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return read_hold(s);
}

bool HoldStore::release(const detect::ActorRef& actor, int64_t now, const std::string& note, std::string* error) {
  Statement s(db_,
              "UPDATE holds SET active = 0, released_at = ?, release_note = ? "
              "WHERE active = 1 AND actor_type = ? AND actor_key = ?",
              error);
  if (!s) return false;
  s.bind(1, now).bind(2, note).bind(3, std::string(detect::actor_type_name(actor.type))).bind(4, actor.key);
  if (!s.run(error)) return false;
  return sqlite3_changes(db_) > 0;
}

bool HoldStore::release_all(const std::vector<detect::ActorRef>& actors, int64_t now, const std::string& note,
                            std::string* error) {
  if (!exec("BEGIN IMMEDIATE", error)) return false;
  for (const detect::ActorRef& actor : actors) {
    std::string ignored;
    if (!release(actor, now, note, &ignored) && !ignored.empty()) {
      if (error) *error = ignored;
      exec("ROLLBACK", nullptr);
      return false;
    }
  }
  return exec("COMMIT", error) || (exec("ROLLBACK", nullptr), false);
}

std::optional<HoldRecord> HoldStore::released_hold(const detect::ActorRef& actor, int64_t since, std::string* error) {
  Statement s(db_,
              (std::string(kHoldColumns) +
               " WHERE active = 0 AND actor_type = ? AND actor_key = ? AND since >= ? ORDER BY id DESC LIMIT 1")
                  .c_str(),
              error);
  if (!s) return std::nullopt;
  s.bind(1, std::string(detect::actor_type_name(actor.type))).bind(2, actor.key).bind(3, since);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return read_hold(s);
}

bool HoldStore::set_frozen(const detect::ActorRef& actor, int64_t frozen, std::string* error) {
  Statement s(db_, "UPDATE holds SET frozen = frozen + ? WHERE active = 1 AND actor_type = ? AND actor_key = ?", error);
  if (!s) return false;
  s.bind(1, frozen).bind(2, std::string(detect::actor_type_name(actor.type))).bind(3, actor.key);
  return s.run(error);
}

bool HoldStore::add_event(const EventRecord& e, std::string* error) {
  Statement s(db_, "INSERT INTO events(time, kind, actor, detail) VALUES(?,?,?,?)", error);
  if (!s) return false;
  s.bind(1, e.time).bind(2, e.kind).bind(3, e.actor).bind(4, e.detail);
  return s.run(error);
}

std::optional<std::vector<EventRecord>> HoldStore::recent_events(size_t limit, std::string* error) {
  Statement s(db_, "SELECT time, kind, actor, detail FROM events ORDER BY id DESC LIMIT ?", error);
  if (!s) return std::nullopt;
  s.bind(1, int64_t(limit));
  std::vector<EventRecord> out;
  while (s.step() == SQLITE_ROW) out.push_back(EventRecord{s.integer(0), s.text(1), s.text(2), s.text(3)});
  return out;
}

}  // namespace sw::store
