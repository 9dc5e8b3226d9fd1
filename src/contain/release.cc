#include "contain/release.h"

#include <fmt/format.h>

#include "contain/containment.h"
#include "contain/script_disable.h"
#include "queue/actions.h"
#include "queue/quarantine.h"
#include "queue/selection.h"

namespace sw::contain {

namespace {

void act_on_held_mail(const store::HoldRecord& hold, const std::string& state_dir, const std::string& spool_dir,
                      queue::EximRunner& exim, HeldMail mail, int64_t now, const std::string& operator_name,
                      ReleaseResult& r) {
  queue::SelectionArgs args = selection_for(hold);
  args.frozen = true;
  auto selection = queue::compile_selection(args, &r.error);
  if (!selection) return;
  queue::SelectionResult selected = queue::select_messages(spool_dir, *selection, now);
  if (selected.messages.empty()) return;
  if (mail == HeldMail::thaw) {
    std::vector<std::string> ids;
    for (const auto& m : selected.messages) ids.push_back(m.location.id);
    for (const auto& o : queue::run_exim_action(exim, queue::EximAction::thaw, ids)) o.ok ? ++r.thawed : ++r.failed;
    return;
  }
  std::vector<spool::MessageLocation> locations;
  for (const auto& m : selected.messages) locations.push_back(m.location);
  queue::RemoveResult removed = queue::quarantine_and_remove(
      locations, state_dir, spool_dir, "release " + detect::format_actor_ref(hold.actor), operator_name, now, exim);
  r.removed = removed.removed;
  r.failed += removed.failed;
  r.batch_dir = removed.batch_dir;
  if (!removed.error.empty()) r.error = removed.error;
}

}  // namespace

ReleaseResult release_actor(store::HoldStore& store, const std::string& state_dir, const std::string& spool_dir,
                            queue::EximRunner& exim, const detect::ActorRef& actor, HeldMail mail, int64_t now,
                            const std::string& operator_name) {
  ReleaseResult r;
  std::string error;
  auto hold = store.active_hold(actor, &error);
  if (!hold) {
    r.error = error.empty() ? detect::format_actor_ref(actor) + " is not held" : error;
    return r;
  }
  const char* note = mail == HeldMail::thaw ? "thaw" : mail == HeldMail::remove ? "remove" : "keep";
  if (!store.release(actor, now, std::string(note) + " by " + operator_name, &r.error)) return r;
  r.released = true;
  // New mail flows again first; then the held mail is dealt with.
  if (auto active = store.active_holds(&error)) {
    if (!write_hold_lists(state_dir, *active, &error)) r.error = "hold lists not rewritten: " + error;
  }
  if (actor.type == detect::ActorType::Script) {
    std::vector<std::string> problems;
    r.scripts_restored = restore_scripts(state_dir, actor.key, operator_name, &problems);
    for (const std::string& p : problems) r.error += (r.error.empty() ? "" : "; ") + p;
  }
  if (mail != HeldMail::keep && !spool_dir.empty())
    act_on_held_mail(*hold, state_dir, spool_dir, exim, mail, now, operator_name, r);
  store.add_event({now, "release", detect::format_actor_ref(actor),
                   fmt::format("{} by {}: thawed {}, removed {}, failed {}", note, operator_name, r.thawed, r.removed,
                               r.failed)},
                  nullptr);
  return r;
}

}  // namespace sw::contain
