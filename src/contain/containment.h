// Containment, "hold, don't delete": a tripped actor is (a) written to the hold lists Exim
// reads in its ACLs (new mail frozen at submission; temp + rename in the caller's thread, so
// Exim sees the list at once), (b) its already-queued mail is frozen through the queue module
// (on a worker thread: a slow spool scan or a missing Exim never delays the next hold), (c)
// alerted on, and (d) recorded in the store so holds survive a restart, together with an
// fsync of the changed lists — on a second worker thread, so that a slow disk never holds up
// the caller (the log follower). The in-memory set is authoritative while running: a store
// that fails (full disk) is logged and retried, the hold lists and the holds keep working.
#pragma once
#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "alert/alerter.h"
#include "contain/hold_list.h"
#include "detect/detector.h"
#include "queue/actions.h"
#include "queue/exim_runner.h"
#include "queue/selection.h"
#include "store/hold_store.h"

namespace sw::contain {

struct ContainmentOptions {
  std::string state_dir;
  std::string spool_dir;  // empty: do not freeze queued mail
  bool freeze_queued = true;
  bool disable_scripts = false;  // rename a held script's files out of service (script_disable.h)
};

struct ContainmentCounts {
  uint64_t holds = 0, frozen = 0, freeze_failures = 0, list_write_failures = 0, store_failures = 0;
};

// The list entries one hold puts in place, each with its list: its own, and for a script the
// user who runs it (Exim cannot see a script's directory at submission time). Pure.
void for_each_list_entry(const store::HoldRecord& hold,
                         const std::function<void(detect::ActorType, HoldListEntry)>& add);
// The hold lists for a set of holds, every list present (empty ones too). Pure.
std::map<detect::ActorType, std::vector<HoldListEntry>> hold_list_entries(const std::vector<store::HoldRecord>& holds);
// Writes every list (empty ones too: Exim's lsearch needs the files to exist) for a process
// other than `watch` (release): the active holds, plus the entries it finds that belong to no
// released hold (a hold `watch` has not recorded yet, a line an admin added), instead of
// rebuilding the lists from the store alone.
bool update_hold_lists(const std::string& state_dir, const std::vector<store::HoldRecord>& released,
                       const std::vector<store::HoldRecord>& active, std::string* error);
// What a freeze pass did, from Exim's replies. A message being delivered is locked and one
// delivered meanwhile is gone: neither is a failure (the delivery ends, the second pass freezes
// what stays queued). Pure.
struct FreezeTally {
  size_t frozen = 0, locked = 0, gone = 0, failed = 0;
  std::string failure;  // Exim's words for the first real failure
};
FreezeTally tally_freeze(const std::vector<queue::ActionOutcome>& outcomes);
// The log line for a pass ("" when nothing happened) and, apart, the warning for real failures.
std::string describe_freeze(const FreezeTally& tally, const std::string& actor);
std::string describe_freeze_failure(const FreezeTally& tally, const std::string& actor);
// The queue selection that finds an actor's messages (a script's: its local user's). Pure.
queue::SelectionArgs selection_for(const store::HoldRecord& hold);

class Containment {
 public:
  using Log = std::function<void(const std::string&)>;
  Containment(ContainmentOptions options, store::HoldStore* store, queue::EximRunner* exim, alert::Alerter* alerter,
              Log log);
  ~Containment();

  // Loads the store's active holds, recovers holds that reached the lists but not the store
  // (a crash, a failing store), writes the lists; returns the holds (to mark as tripped).
  std::vector<store::HoldRecord> start();
  // Holds the actor now; false if it was already held. In batches (set_batching), the store
  // record, the lists, the log line and the alert follow at the next publish().
  bool hold(const detect::Trip& trip, int64_t now);
  // `watch` reading a backlog trips many actors per block of lines: one store transaction and
  // one write of each changed list per block keep a hold's cost flat however many are active.
  void set_batching(bool on) { batching_ = on; }
  void publish();
  // Picks up releases made by `spamwarden release` (another process) and retries a failed
  // list write (a failed store write is retried by the store worker). Returns the actors
  // released since the last call.
  std::vector<detect::ActorRef> sync(int64_t now);
  // Blocks until every hold so far is in the store and its lists are synced (tests, shutdown).
  void flush();

  size_t active() const;
  ContainmentCounts counts() const;

 private:
  struct FreezeJob {
    store::HoldRecord hold;
    int64_t not_before = 0;  // second pass a few seconds later catches mail then in flight
  };
  struct StoreJob {
    store::HoldRecord hold;
    store::EventRecord event;
    std::vector<std::string> lists;  // list files to fsync
    bool stored = false, failure_logged = false;
  };
  struct PendingHold {
    store::HoldRecord hold;
    store::EventRecord event;
    std::string summary;  // the log line and alert text
  };
  void rewrite_lists(std::vector<std::string>* changed = nullptr);
  void recover_listed_holds();
  // Store writes in the caller's thread; false if the store failed (the worker retries).
  bool record(const store::HoldRecord& hold, const store::EventRecord& event);
  bool record_all(const std::vector<PendingHold>& batch);
  std::string incident_for(const detect::Trip& trip) const;
  void index_holds();  // rebuilds the look-ups below from holds_
  void index(const store::HoldRecord& hold);
  void freeze_worker();
  void store_worker();
  void run_freeze(const store::HoldRecord& hold);
  // Whether the actor is still held when a freeze pass comes due: `spamwarden release` (another
  // process) may have lifted the hold in the store meanwhile.
  bool still_held(const detect::ActorRef& actor);
  // Whether a hold of this actor takes its scripts out of service: a held script directory,
  // with the login whose queued mail names the scripts.
  bool disables_scripts(const detect::ActorRef& actor, const std::string& related_user) const {
    return options_.disable_scripts && actor.type == detect::ActorType::Script && !related_user.empty();
  }

  ContainmentOptions options_;
  store::HoldStore* store_;
  queue::EximRunner* exim_;
  alert::Alerter* alerter_;
  Log log_;
  std::vector<store::HoldRecord> holds_;  // active, in memory
  // Look-ups over holds_, so that a hold costs the same with 10 or 10,000 active: actor
  // ("type:key") -> incident; user -> incident of a held script that user runs; list entries.
  std::unordered_map<std::string, std::string> incident_of_, script_user_incident_;
  std::array<std::vector<HoldListEntry>, detect::kActorTypes> entries_;
  std::array<bool, detect::kActorTypes> dirty_{};
  std::vector<PendingHold> pending_;
  bool batching_ = false;
  bool lists_dirty_ = false;
  std::map<detect::ActorType, std::string> written_;  // last content written per list (skip unchanged)
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<FreezeJob> jobs_;
  std::condition_variable store_wake_, store_idle_;
  std::deque<StoreJob> store_jobs_;  // front: being written (or retried after a failure)
  bool stopping_ = false;
  ContainmentCounts counts_;
  std::thread worker_, store_thread_;
};

}  // namespace sw::contain
