#include "contain/containment.h"

#include <unistd.h>

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>

#include "contain/script_disable.h"
#include "queue/actions.h"

namespace sw::contain {

using detect::ActorRef;
using detect::ActorType;

namespace {
constexpr int64_t kSecondFreezePassDelay = 3;
}

std::map<ActorType, std::vector<HoldListEntry>> hold_list_entries(const std::vector<store::HoldRecord>& holds) {
  std::map<ActorType, std::vector<HoldListEntry>> lists;
  for (ActorType t : detect::kAllActorTypes) lists[t];
  for (const store::HoldRecord& h : holds) {
    lists[h.actor.type].push_back({h.actor.key, h.reason});
    // Exim cannot see a script's directory at submission time; the user running it can be held.
    if (h.actor.type == ActorType::Script && !h.related_user.empty())
      lists[ActorType::LocalUser].push_back({h.related_user, "runs held script " + h.actor.key});
  }
  return lists;
}

bool write_hold_lists(const std::string& state_dir, const std::vector<store::HoldRecord>& holds, std::string* error) {
  ::mkdir(state_dir.c_str(), 0755);
  ::mkdir(hold_list_dir(state_dir).c_str(), 0755);
  bool ok = true;
  for (const auto& [type, entries] : hold_list_entries(holds))
    ok &= write_file_atomically(hold_list_path(state_dir, type), render_hold_list(type, entries), error);
  return ok;
}

queue::SelectionArgs selection_for(const store::HoldRecord& hold) {
  queue::SelectionArgs a;
  switch (hold.actor.type) {
    case ActorType::Script: a.login = hold.related_user.empty() ? "-" : hold.related_user; break;
    case ActorType::LocalUser: a.login = hold.actor.key; break;
    case ActorType::AuthAccount: a.auth_id = hold.actor.key; break;
    case ActorType::ClientIp: a.client_ip = hold.actor.key; break;
    case ActorType::Sender: a.sender = hold.actor.key; break;
  }
  return a;
}

Containment::Containment(ContainmentOptions options, store::HoldStore* store, queue::EximRunner* exim,
                         alert::Alerter* alerter, Log log)
    : options_(std::move(options)), store_(store), exim_(exim), alerter_(alerter), log_(std::move(log)),
      worker_([this] { freeze_worker(); }), store_thread_([this] { store_worker(); }) {}

Containment::~Containment() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  store_wake_.notify_all();
  worker_.join();
  store_thread_.join();  // writes what is still queued first (one attempt each)
}

std::vector<store::HoldRecord> Containment::start() {
  std::string error;
  if (store_) {
    if (auto holds = store_->active_holds(&error)) holds_ = *holds;
    else log_("cannot read holds from the store: " + error);
  }
  written_.clear();  // every list is written afresh: the store is what survives a crash
  std::vector<std::string> changed;
  rewrite_lists(&changed);
  sync_files(changed, hold_list_dir(options_.state_dir));
  return holds_;
}

void Containment::rewrite_lists(std::vector<std::string>* changed) {
  // Only lists whose content changed (or that went missing) are rewritten, without fsync:
  // Exim sees a list as soon as it is renamed into place; the fsync of the changed lists
  // happens on the store thread (hold) or right after (release, start), off the hot path.
  std::string error;
  ::mkdir(options_.state_dir.c_str(), 0755);
  ::mkdir(hold_list_dir(options_.state_dir).c_str(), 0755);
  bool ok = true;
  for (const auto& [type, entries] : hold_list_entries(holds_)) {
    std::string content = render_hold_list(type, entries), path = hold_list_path(options_.state_dir, type);
    auto it = written_.find(type);
    if (it != written_.end() && it->second == content && ::access(path.c_str(), F_OK) == 0) continue;
    if (write_file_atomically(path, content, &error, Durability::visible_only)) {
      written_[type] = std::move(content);
      if (changed) changed->push_back(path);
    } else {
      written_.erase(type);
      ok = false;
    }
  }
  lists_dirty_ = !ok;
  if (lists_dirty_) {
    std::lock_guard lock(mutex_);
    ++counts_.list_write_failures;
    log_("cannot write hold lists (old lists stay in place, retrying): " + error);
  }
}

bool Containment::hold(const detect::Trip& trip, int64_t now) {
  auto held = [&](const store::HoldRecord& h) { return h.actor == trip.actor; };
  if (std::any_of(holds_.begin(), holds_.end(), held)) return false;
  store::HoldRecord record{.actor = trip.actor, .reason = trip.reason, .related_user = trip.related_user,
                           .since = now, .frozen = 0, .active = true, .released_at = 0, .release_note = ""};
  holds_.push_back(record);
  std::vector<std::string> changed;
  rewrite_lists(&changed);  // first: this is what stops new mail
  std::string actor = detect::format_actor_ref(trip.actor);
  {
    std::lock_guard lock(mutex_);
    ++counts_.holds;
    store_jobs_.push_back({.hold = record, .event = {now, "hold", actor, trip.reason}, .lists = std::move(changed),
                           .stored = false, .failure_logged = false});
    if (((options_.freeze_queued && exim_) || disables_scripts(trip.actor, trip.related_user)) &&
        !options_.spool_dir.empty()) {
      jobs_.push_back({record, 0});
      jobs_.push_back({record, now + kSecondFreezePassDelay});
    }
  }
  store_wake_.notify_one();
  wake_.notify_one();
  std::string summary = fmt::format("held {}: {}", actor, trip.reason);
  if (!trip.related_user.empty()) summary += " (local user " + trip.related_user + " held with it)";
  if (!trip.related_user_note.empty()) summary += " (" + trip.related_user_note + ")";
  log_(summary);
  if (alerter_)
    alerter_->post({"hold", actor, summary,
                    {{"reason", trip.reason}, {"related_user", trip.related_user}, {"since", now}}});
  return true;
}

void Containment::store_worker() {
  std::unique_lock lock(mutex_);
  for (;;) {
    store_wake_.wait(lock, [&] { return stopping_ || !store_jobs_.empty(); });
    if (store_jobs_.empty()) return;  // stopping, nothing left to write
    StoreJob job = store_jobs_.front();
    lock.unlock();
    std::string error, actor = detect::format_actor_ref(job.hold.actor);
    if (store_ && !job.stored) {
      store_->add_hold(job.hold, &error);  // false without an error: already held (a restart)
      if (error.empty()) {
        job.stored = true;
        store_->add_event(job.event, nullptr);
      }
    }
    sync_files(job.lists, hold_list_dir(options_.state_dir));
    job.lists.clear();
    lock.lock();
    if (!store_ || job.stored) {
      store_jobs_.pop_front();
      if (store_jobs_.empty()) store_idle_.notify_all();
      continue;
    }
    ++counts_.store_failures;
    StoreJob& front = store_jobs_.front();
    front.lists.clear();
    if (!front.failure_logged) {
      front.failure_logged = true;
      log_("cannot record hold of " + actor + " (kept in memory, retrying): " + error);
    }
    if (stopping_) {
      store_jobs_.clear();
      store_idle_.notify_all();
      return;
    }
    store_wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
  }
}

void Containment::flush() {
  std::unique_lock lock(mutex_);
  store_idle_.wait(lock, [&] { return store_jobs_.empty(); });
}

std::vector<ActorRef> Containment::sync(int64_t now) {
  std::vector<ActorRef> released;
  std::string error;
  bool pending = false;
  {
    std::lock_guard lock(mutex_);
    pending = !store_jobs_.empty();
  }
  // While a hold is still on its way into the store, the store's view is behind ours: no
  // release is read from it until the store worker has caught up.
  if (store_ && !pending) {
    if (auto active = store_->active_holds(&error)) {
      for (const store::HoldRecord& h : holds_)
        if (std::none_of(active->begin(), active->end(), [&](const auto& a) { return a.actor == h.actor; }))
          released.push_back(h.actor);
      bool changed = !released.empty() || active->size() != holds_.size();
      holds_ = std::move(*active);
      if (changed) lists_dirty_ = true;
    }
  }
  for (const ActorRef& r : released) log_("hold on " + detect::format_actor_ref(r) + " released");
  if (lists_dirty_) {
    std::vector<std::string> changed;
    rewrite_lists(&changed);
    sync_files(changed, hold_list_dir(options_.state_dir));
  }
  (void)now;
  return released;
}

void Containment::freeze_worker() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) return;
    int64_t now = ::time(nullptr);
    auto due = std::find_if(jobs_.begin(), jobs_.end(), [&](const FreezeJob& j) { return j.not_before <= now; });
    if (due == jobs_.end()) {
      // Sleep until the earliest pass is due (a second pass waits 3 s), a new job or the stop;
      // waking only on "jobs not empty" would spin a core until the second pass is due.
      int64_t next = jobs_.empty() ? now + 1 : INT64_MAX;
      for (const FreezeJob& j : jobs_) next = std::min(next, j.not_before);  // all later than now
      size_t queued = jobs_.size();
      wake_.wait_until(lock, std::chrono::system_clock::from_time_t(std::time_t(next)),
                       [&] { return stopping_ || jobs_.size() != queued; });
      continue;
    }
    FreezeJob job = *due;
    jobs_.erase(due);
    lock.unlock();
    run_freeze(job.hold);
    lock.lock();
  }
}

bool Containment::still_held(const detect::ActorRef& actor) {
  if (!store_) return true;  // releases go through the store
  {
    std::lock_guard lock(mutex_);
    for (const StoreJob& j : store_jobs_)
      if (j.hold.actor == actor) return true;  // not in the store yet, so not released either
  }
  std::string error;
  // A store that cannot be read does not release anyone.
  return store_->active_hold(actor, &error).has_value() || !error.empty();
}

void Containment::run_freeze(const store::HoldRecord& hold) {
  std::string error, actor = detect::format_actor_ref(hold.actor);
  // The second pass comes seconds after the hold: an admin may have released it by then, and
  // its scripts and mail must stay as the release left them.
  if (!still_held(hold.actor)) return log_("freeze pass for " + actor + " skipped: released");
  if (disables_scripts(hold.actor, hold.related_user)) {
    // The held messages (frozen by the ACL, or below) name the script files in their headers.
    ScriptDisableResult d = disable_held_scripts(options_.spool_dir, options_.state_dir, hold.related_user,
                                                 hold.actor.key, ::time(nullptr), "spamwarden watch");
    for (const DisabledScript& s : d.disabled)
      log_(fmt::format("disabled script {} (now {}, mode 000; release {} restores it)", s.original, s.renamed, actor));
    for (const std::string& p : d.problems) log_("script of " + actor + " not disabled: " + p);
  }
  if (!options_.freeze_queued || !exim_) return;
  auto selection = queue::compile_selection(selection_for(hold), &error);
  if (!selection) return log_("cannot select queued mail of " + actor + ": " + error);
  queue::FreezeMatchingResult r = queue::freeze_matching(options_.spool_dir, *selection, *exim_, ::time(nullptr));
  size_t frozen = 0, failed = 0;
  for (const auto& o : r.outcomes) o.ok ? ++frozen : ++failed;
  {
    std::lock_guard lock(mutex_);
    counts_.frozen += frozen;
    counts_.freeze_failures += failed;
  }
  if (failed) log_(fmt::format("could not freeze {} queued messages of {} (Exim unavailable?): {}", failed, actor,
                               r.outcomes.empty() ? "" : r.outcomes.front().detail));
  if (frozen == 0) return;
  log_(fmt::format("froze {} queued messages of {}", frozen, actor));
  if (store_ && !store_->set_frozen(hold.actor, int64_t(frozen), &error))
    log_("cannot record frozen count: " + error);
}

size_t Containment::active() const { return holds_.size(); }

ContainmentCounts Containment::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

}  // namespace sw::contain
