// The embedded store of holds and containment events: SQLite in WAL mode under the state
// directory, so a restart of `watch` keeps its holds and `holds`/`release` (other processes)
// read and change the same data safely. Every method reports failure instead of throwing;
// the caller keeps working from memory (e.g. on a full disk) and retries later.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "detect/actor_type.h"

struct sqlite3;

namespace sw::store {

struct HoldRecord {
  detect::ActorRef actor;
  std::string reason;
  std::string related_user;  // scripts: the local user held with them
  // The actors held together for one burst (a script, its user, its sender) share an incident,
  // named after the first of them ("script:/home/u/x"); `release` lifts an incident as a whole.
  std::string incident;
  int64_t since = 0;   // unix seconds
  int64_t frozen = 0;  // queued messages frozen when the hold began
  bool active = true;
  int64_t released_at = 0;
  std::string release_note;
};

struct EventRecord {
  int64_t time = 0;
  std::string kind;   // hold, release, freeze, error
  std::string actor;  // "local_user:userx1" or empty
  std::string detail;
};

class HoldStore {
 public:
  // Opens (creating) <path>; nullptr with *error when it cannot.
  static std::unique_ptr<HoldStore> open(const std::string& path, std::string* error);
  ~HoldStore();
  HoldStore(const HoldStore&) = delete;
  HoldStore& operator=(const HoldStore&) = delete;

  // Inserts an active hold; true if it was new, false if already held or on error (*error set).
  bool add_hold(const HoldRecord& hold, std::string* error);
  // Inserts holds (those already held are left as they are) and their events in one
  // transaction: all or none; false on error.
  bool add_holds(const std::vector<HoldRecord>& holds, const std::vector<EventRecord>& events, std::string* error);
  std::optional<std::vector<HoldRecord>> active_holds(std::string* error);
  std::optional<HoldRecord> active_hold(const detect::ActorRef& actor, std::string* error);
  // Marks the actor's active hold released; false if there was none (or on error).
  bool release(const detect::ActorRef& actor, int64_t now, const std::string& note, std::string* error);
  // Releases all of them in one transaction (all or none); false on error.
  bool release_all(const std::vector<detect::ActorRef>& actors, int64_t now, const std::string& note,
                   std::string* error);
  // The latest released hold of the actor that began at or after `since`: how a running `watch`
  // tells a release (recorded) from a hold the store never had or lost (not a release).
  std::optional<HoldRecord> released_hold(const detect::ActorRef& actor, int64_t since, std::string* error);
  bool set_frozen(const detect::ActorRef& actor, int64_t frozen, std::string* error);
  bool add_event(const EventRecord& event, std::string* error);
  std::optional<std::vector<EventRecord>> recent_events(size_t limit, std::string* error);

 private:
  explicit HoldStore(sqlite3* db) : db_(db) {}
  bool exec(const char* sql, std::string* error);
  bool add_incident_column(std::string* error);  // stores made before incidents
  sqlite3* db_;
};

std::string store_path(const std::string& state_dir);  // <state>/spamwarden.db

}  // namespace sw::store
