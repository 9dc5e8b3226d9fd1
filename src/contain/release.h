// Lifting a hold (`spamwarden release`). An incident - the actors held for one burst, e.g. a
// script, its user and its sender - is released as a whole; `--only` lifts one actor of it.
// The store marks the holds released, the hold lists lose their entries (a running `watch`
// notices within a second and forgets the actors' windows), and the held mail is thawed
// (exim -Mt) or quarantined and removed through the queue module - or left frozen for the
// admin to decide. Mail that a hold still active covers is never touched: it stays frozen
// until that hold is released too. Script files disabled when a script directory was held
// are put back (original name and mode).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "detect/actor_type.h"
#include "queue/exim_runner.h"
#include "spool/spool_location.h"
#include "store/hold_store.h"

namespace sw::contain {

enum class HeldMail { keep, thaw, remove };
enum class ReleaseScope { incident, only };

struct ReleaseResult {
  bool released = false;
  std::vector<store::HoldRecord> lifted;  // the holds released
  size_t thawed = 0, removed = 0, failed = 0;
  size_t still_held = 0;        // frozen mail of these actors that another active hold covers: left frozen
  std::string still_held_by;    // one such hold ("local_user:userx1"), for the message
  size_t scripts_restored = 0;  // script files disabled on hold, put back (script_disable.h)
  std::string batch_dir;        // quarantine batch (remove)
  std::vector<spool::MessageLocation> thawed_mail;  // what was thawed, still in the spool
  std::vector<std::string> removed_ids;             // what was removed (its copy is in batch_dir)
  std::string error;                                // why nothing was released, or a partial failure
};

ReleaseResult release_actor(store::HoldStore& store, const std::string& state_dir, const std::string& spool_dir,
                            queue::EximRunner& exim, const detect::ActorRef& actor, HeldMail mail, ReleaseScope scope,
                            int64_t now, const std::string& operator_name);

}  // namespace sw::contain
