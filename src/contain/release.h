// Lifting a hold (`spamwarden release`): the store marks it released, the hold lists are
// rewritten without it (a running `watch` notices within a second and forgets the actor's
// windows), and the actor's frozen mail is thawed (exim -Mt) or quarantined and removed
// through the queue module - or left frozen for the admin to decide. Script files disabled
// when a script directory was held are put back (original name and mode).
#pragma once
#include <cstdint>
#include <string>

#include "detect/actor_type.h"
#include "queue/exim_runner.h"
#include "store/hold_store.h"

namespace sw::contain {

enum class HeldMail { keep, thaw, remove };

struct ReleaseResult {
  bool released = false;
  size_t thawed = 0, removed = 0, failed = 0;
  size_t scripts_restored = 0;  // script files disabled on hold, put back (script_disable.h)
  std::string batch_dir;  // quarantine batch (remove)
  std::string error;      // why nothing was released, or a partial failure
};

ReleaseResult release_actor(store::HoldStore& store, const std::string& state_dir, const std::string& spool_dir,
                            queue::EximRunner& exim, const detect::ActorRef& actor, HeldMail mail, int64_t now,
                            const std::string& operator_name);

}  // namespace sw::contain
