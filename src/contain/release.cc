#include "contain/release.h"

#include <fmt/format.h>

#include <algorithm>

#include "contain/containment.h"
#include "contain/held_mail.h"
#include "contain/script_disable.h"
#include "queue/actions.h"
#include "queue/audit_log.h"
#include "queue/quarantine.h"

namespace sw::contain {

namespace {

// The message when the actor has no hold of its own: a user held only as the runner of a held
// script is released with the script.
std::string not_held(const std::vector<store::HoldRecord>& active, const detect::ActorRef& actor) {
  std::string name = detect::format_actor_ref(actor);
  for (const store::HoldRecord& h : active)
    if (actor.type == detect::ActorType::LocalUser && h.related_user == actor.key)
      return fmt::format("{} is held as the user running {} (incident {}): release that", name,
                         detect::format_actor_ref(h.actor), h.incident);
  return name + " is not held";
}

void append_error(std::string& error, const std::string& more) { error += (error.empty() ? "" : "; ") + more; }

// Frozen mail of the lifted holds that no remaining hold covers: what may be thawed or removed.
std::vector<spool::MessageLocation> releasable_mail(const std::string& spool_dir,
                                                    const std::vector<store::HoldRecord>& lifted,
                                                    const std::vector<store::HoldRecord>& remaining, int64_t now,
                                                    ReleaseResult& r) {
  std::vector<store::HoldRecord> holds = lifted;
  holds.insert(holds.end(), remaining.begin(), remaining.end());
  std::vector<spool::MessageLocation> out;
  CoverageScan scan = scan_coverage(spool_dir, holds, true, now);
  if (!scan.error.empty())
    append_error(r.error, "could not read the queue, its held mail may be left frozen: " + scan.error);
  for (const CoveredMessage& m : scan.messages) {
    if (m.holds.front() >= lifted.size()) continue;  // indices are sorted: no lifted hold covers it
    if (m.holds.back() >= lifted.size()) {
      ++r.still_held;
      r.still_held_by = detect::format_actor_ref(holds[m.holds.back()].actor);
      continue;
    }
    out.push_back(m.location);
  }
  return out;
}

void act_on_held_mail(const std::string& state_dir, const std::string& spool_dir, queue::EximRunner& exim,
                      HeldMail mail, const std::vector<store::HoldRecord>& remaining, int64_t now,
                      const std::string& operator_name, ReleaseResult& r) {
  std::vector<spool::MessageLocation> messages = releasable_mail(spool_dir, r.lifted, remaining, now, r);
  if (messages.empty()) return;
  if (mail == HeldMail::thaw) {
    std::string error;
    if (!queue::verify_exim_spool(exim, spool_dir, &error)) {  // exim -Mt acts on its own spool
      r.failed += messages.size();
      return append_error(r.error, error);
    }
    std::vector<std::string> ids;
    for (const auto& m : messages) ids.push_back(m.id);
    std::vector<queue::ActionOutcome> outcomes = queue::run_exim_action(exim, queue::EximAction::thaw, ids);
    for (size_t i = 0; i < outcomes.size(); ++i) {
      outcomes[i].ok ? ++r.thawed : ++r.failed;
      if (outcomes[i].ok) r.thawed_mail.push_back(messages[i]);  // one outcome per id, in input order
    }
    return;
  }
  std::string selection = "release";
  for (const store::HoldRecord& h : r.lifted) selection += " " + detect::format_actor_ref(h.actor);
  // As `queue remove` does: the intent is in the audit log before exim -Mrm runs, or nothing goes.
  auto audit_intent = [&](const queue::Manifest& m, const std::vector<std::string>& ids, std::string* error) {
    return queue::append_audit_record(
        state_dir,
        {{"action", "release"}, {"stage", "intent"}, {"selection", selection}, {"batch", m.batch}, {"ids", ids}},
        operator_name, error);
  };
  queue::RemoveResult removed =
      queue::quarantine_and_remove(messages, state_dir, spool_dir, selection, operator_name, now, exim, audit_intent);
  r.removed = removed.removed;
  r.failed += removed.failed;
  r.batch_dir = removed.batch_dir;
  for (const queue::QuarantinedMessage& m : removed.manifest.messages) {
    if (m.removed) r.removed_ids.push_back(m.id);
  }
  if (!removed.error.empty()) r.error = removed.error;
  if (!removed.manifest_error.empty())
    append_error(r.error, "the batch's manifest does not record this removal (" + removed.manifest_error +
                              "); the messages are quarantined and `queue restore` still puts them back");
}

}  // namespace

ReleaseResult release_actor(store::HoldStore& store, const std::string& state_dir, const std::string& spool_dir,
                            queue::EximRunner& exim, const detect::ActorRef& actor, HeldMail mail, ReleaseScope scope,
                            int64_t now, const std::string& operator_name) {
  ReleaseResult r;
  std::string error;
  auto active = store.active_holds(&error);
  if (!active) return r.error = error, r;
  auto hold = std::find_if(active->begin(), active->end(), [&](const auto& h) { return h.actor == actor; });
  if (hold == active->end()) return r.error = not_held(*active, actor), r;
  std::vector<store::HoldRecord> remaining;
  for (const store::HoldRecord& h : *active)
    (h.actor == actor || (scope == ReleaseScope::incident && h.incident == hold->incident) ? r.lifted : remaining)
        .push_back(h);
  std::vector<detect::ActorRef> actors;
  for (const store::HoldRecord& h : r.lifted) actors.push_back(h.actor);
  const char* note = mail == HeldMail::thaw ? "thaw" : mail == HeldMail::remove ? "remove" : "keep";
  if (!store.release_all(actors, now, std::string(note) + " by " + operator_name, &r.error)) return r;
  r.released = true;
  // New mail flows again first; then the held mail is dealt with.
  if (!update_hold_lists(state_dir, r.lifted, remaining, &error))
    append_error(r.error, "hold lists not rewritten: " + error);
  for (const store::HoldRecord& h : r.lifted) {
    if (h.actor.type != detect::ActorType::Script) continue;
    std::vector<std::string> problems;
    r.scripts_restored += restore_scripts(state_dir, h.actor.key, operator_name, &problems);
    for (const std::string& p : problems) append_error(r.error, p);
  }
  if (mail != HeldMail::keep && !spool_dir.empty())
    act_on_held_mail(state_dir, spool_dir, exim, mail, remaining, now, operator_name, r);
  for (const store::HoldRecord& h : r.lifted)
    store.add_event({now, "release", detect::format_actor_ref(h.actor),
                     fmt::format("{} by {} (incident {}): thawed {}, removed {}, failed {}, left frozen {}", note,
                                 operator_name, h.incident, r.thawed, r.removed, r.failed, r.still_held)},
                    nullptr);
  return r;
}

}  // namespace sw::contain
