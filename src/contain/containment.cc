#include "contain/containment.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <set>
#include <unordered_map>

#include "base/atomic_file.h"
#include "base/text.h"
#include "contain/script_disable.h"
#include "eximlog/log_line.h"
#include "queue/actions.h"
#include "queue/spool_files.h"

namespace sw::contain {

using detect::ActorRef;
using detect::ActorType;

namespace {
constexpr int64_t kSecondFreezePassDelay = 3;
constexpr std::string_view kRunsHeldScript = "runs held script ";  // the note of a script's user
}  // namespace

void for_each_list_entry(const store::HoldRecord& h, const std::function<void(ActorType, HoldListEntry)>& add) {
  add(h.actor.type, {h.actor.key, h.reason});
  if (h.actor.type == ActorType::Script && !h.related_user.empty())
    add(ActorType::LocalUser, {h.related_user, std::string(kRunsHeldScript) + h.actor.key});
}

std::map<ActorType, std::vector<HoldListEntry>> hold_list_entries(const std::vector<store::HoldRecord>& holds) {
  std::map<ActorType, std::vector<HoldListEntry>> lists;
  for (ActorType t : detect::kAllActorTypes) lists[t];
  for (const store::HoldRecord& h : holds)
    for_each_list_entry(h, [&](ActorType type, HoldListEntry e) { lists[type].push_back(std::move(e)); });
  return lists;
}

namespace {

// A list's text and stat; nullopt when it is absent, a link or not a regular file.
std::optional<std::string> read_list(const std::string& path, struct stat* st) {
  queue::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  std::string text;
  if (!fd.valid() || !queue::read_regular_file(fd.get(), text, st)) return std::nullopt;
  return text;
}

}  // namespace

bool update_hold_lists(const std::string& state_dir, const std::vector<store::HoldRecord>& released,
                       const std::vector<store::HoldRecord>& active, std::string* error) {
  std::set<std::pair<ActorType, std::string>> gone;
  for (const store::HoldRecord& h : released)
    for_each_list_entry(h, [&](ActorType type, const HoldListEntry& e) { gone.insert({type, e.key}); });
  ::mkdir(state_dir.c_str(), 0755);
  ::mkdir(hold_list_dir(state_dir).c_str(), 0755);
  bool ok = true;
  for (auto& [type, entries] : hold_list_entries(active)) {
    std::set<std::string> keys;
    for (const HoldListEntry& e : entries) keys.insert(e.key);
    struct stat st;
    std::string path = hold_list_path(state_dir, type);
    for (HoldListEntry& e : parse_hold_list(read_list(path, &st).value_or(""), nullptr))
      if (!gone.count({type, e.key}) && keys.insert(e.key).second) entries.push_back(std::move(e));
    ok &= write_file_atomically(path, render_hold_list(type, entries), error);
  }
  return ok;
}

// The selection's text options are globs; a held key is a name, so it matches only itself
// (a sender '*@shop.example' must not select every sender of shop.example).
queue::SelectionArgs selection_for(const store::HoldRecord& hold) {
  queue::SelectionArgs a;
  switch (hold.actor.type) {
    case ActorType::Script: a.login = hold.related_user.empty() ? "-" : glob_literal(hold.related_user); break;
    case ActorType::LocalUser: a.login = glob_literal(hold.actor.key); break;
    case ActorType::AuthAccount: a.auth_id = glob_literal(hold.actor.key); break;
    case ActorType::ClientIp: a.client_ip = hold.actor.key; break;
    case ActorType::Sender: a.sender = glob_literal(hold.actor.key); break;
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
  index_holds();
  recover_listed_holds();
  // Lists a writer killed mid-write left behind (its pid is gone). watch holds the state lock:
  // no other process writes here, so they go however recent.
  remove_stale_temporaries_in(hold_list_dir(options_.state_dir), "", std::chrono::seconds(0));
  written_.clear();  // every list is written afresh, from the store and what the lists held
  dirty_.fill(true);
  std::vector<std::string> changed;
  rewrite_lists(&changed);
  sync_files(changed, hold_list_dir(options_.state_dir));
  return holds_;
}

void Containment::index_holds() {
  incident_of_.clear();
  script_user_incident_.clear();
  for (auto& entries : entries_) entries.clear();
  for (const store::HoldRecord& h : holds_) index(h);
  dirty_.fill(true);
}

void Containment::index(const store::HoldRecord& h) {
  incident_of_[detect::format_actor_ref(h.actor)] = h.incident;
  if (h.actor.type == ActorType::Script && !h.related_user.empty())
    script_user_incident_.emplace(h.related_user, h.incident);
  for_each_list_entry(h, [&](ActorType type, HoldListEntry e) {
    entries_[size_t(type)].push_back(std::move(e));
    dirty_[size_t(type)] = true;
  });
}

void Containment::rewrite_lists(std::vector<std::string>* changed) {
  // Only lists whose content changed (or that went missing) are rewritten, without fsync:
  // Exim sees a list as soon as it is renamed into place; the fsync of the changed lists
  // happens on the store thread (hold) or right after (release, start), off the hot path.
  std::string error;
  ::mkdir(options_.state_dir.c_str(), 0755);
  ::mkdir(hold_list_dir(options_.state_dir).c_str(), 0755);
  bool ok = true;
  for (ActorType type : detect::kAllActorTypes) {
    std::string path = hold_list_path(options_.state_dir, type);
    if (!dirty_[size_t(type)] && written_.count(type) && ::access(path.c_str(), F_OK) == 0) continue;
    std::string content = render_hold_list(type, entries_[size_t(type)]);
    dirty_[size_t(type)] = false;
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

// Entries on the lists that the store does not have: holds placed by a run that died before
// recording them (kill -9, a failing store). Rebuilding the lists from the store alone would
// release them without a word; they are held and recorded instead. An entry whose actor the
// store saw released after the list was last written is a leftover of that release.
void Containment::recover_listed_holds() {
  std::set<std::pair<ActorType, std::string>> covered;
  for (const store::HoldRecord& h : holds_)
    for_each_list_entry(h, [&](ActorType type, const HoldListEntry& e) { covered.insert({type, e.key}); });
  std::map<std::string, std::string> user_of_script;  // from the local_user list's notes
  std::map<ActorType, std::pair<std::vector<HoldListEntry>, int64_t>> listed;
  for (ActorType type : detect::kAllActorTypes) {
    struct stat st {};
    std::optional<std::string> text = read_list(hold_list_path(options_.state_dir, type), &st);
    if (!text) continue;
    listed[type] = {parse_hold_list(*text, nullptr), int64_t(st.st_mtime)};
    if (type == ActorType::LocalUser)
      for (const HoldListEntry& e : listed[type].first)
        if (e.note.starts_with(kRunsHeldScript)) user_of_script[e.note.substr(kRunsHeldScript.size())] = e.key;
  }
  int64_t now = ::time(nullptr);
  for (const auto& [type, list] : listed) {
    const auto& [entries, written_at] = list;
    for (const HoldListEntry& e : entries) {
      if (covered.count({type, e.key})) continue;
      if (type == ActorType::LocalUser && e.note.starts_with(kRunsHeldScript) && listed.count(ActorType::Script) &&
          user_of_script.count(e.note.substr(kRunsHeldScript.size())))
        continue;  // held with its script, recovered with it
      ActorRef actor{type, e.key};
      std::string error, name = detect::format_actor_ref(actor);
      if (store_) {
        auto released = store_->released_hold(actor, 0, &error);
        if (released && released->released_at > written_at) {
          log_("hold list entry " + name + " dropped: released " + released->release_note);
          continue;
        }
      }
      store::HoldRecord hold{.actor = actor,
                             .reason = e.note.empty() ? "on the hold list" : e.note,
                             .related_user = type == ActorType::Script ? user_of_script[e.key] : "",
                             .incident = name,
                             .since = written_at,
                             .frozen = 0,
                             .active = true,
                             .released_at = 0,
                             .release_note = ""};
      covered.insert({type, e.key});
      holds_.push_back(hold);
      index(hold);
      log_("hold on " + name +
           " recovered from its hold list (the store did not have it: the last run stopped "
           "before recording it)");
      store::EventRecord event{now, "recover", name, "on the hold list, not in the store: " + hold.reason};
      if (!record(hold, event)) {
        std::lock_guard lock(mutex_);
        store_jobs_.push_back({.hold = hold, .event = event, .lists = {}, .stored = false, .failure_logged = false});
        store_wake_.notify_one();
      }
    }
  }
}

bool Containment::record(const store::HoldRecord& hold, const store::EventRecord& event) {
  if (!store_) return true;
  std::string error;
  store_->add_hold(hold, &error);  // false without an error: already held (a restart)
  if (!error.empty()) return false;
  store_->add_event(event, nullptr);
  return true;
}

bool Containment::record_all(const std::vector<PendingHold>& batch) {
  if (!store_) return true;
  std::vector<store::HoldRecord> holds;
  std::vector<store::EventRecord> events;
  for (const PendingHold& p : batch) holds.push_back(p.hold), events.push_back(p.event);
  std::string error;
  return store_->add_holds(holds, events, &error);
}

std::string Containment::incident_for(const detect::Trip& trip) const {
  auto incident = [&](const std::unordered_map<std::string, std::string>& map, const std::string& key) {
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  };
  for (const ActorRef& companion : trip.companions)
    if (auto* found = incident(incident_of_, detect::format_actor_ref(companion))) return *found;
  if (!trip.related_user.empty()) {
    if (auto* found = incident(incident_of_, detect::format_actor_ref({ActorType::LocalUser, trip.related_user})))
      return *found;
    if (auto* found = incident(script_user_incident_, trip.related_user)) return *found;
  }
  if (trip.actor.type == ActorType::LocalUser)
    if (auto* found = incident(script_user_incident_, trip.actor.key)) return *found;
  return detect::format_actor_ref(trip.actor);
}

bool Containment::hold(const detect::Trip& trip, int64_t now) {
  std::string actor = detect::format_actor_ref(trip.actor);
  if (incident_of_.count(actor)) return false;
  // Exim's own users hand in its bounces and own every message it took over SMTP: the queue's
  // selection by login would freeze all of them, and nothing of a user's would be held.
  if (trip.actor.type == ActorType::LocalUser && eximlog::is_exim_login(trip.actor.key)) {
    log_(fmt::format("not holding {}: it is Exim's own user ({})", actor, trip.reason));
    return false;
  }
  // A script held without its user says why in its reason, so `holds` shows it too.
  std::string reason = trip.related_user_note.empty() ? trip.reason : trip.reason + " (" + trip.related_user_note + ")";
  store::HoldRecord record{.actor = trip.actor,
                           .reason = reason,
                           .related_user = trip.related_user,
                           .incident = incident_for(trip),
                           .since = now,
                           .frozen = 0,
                           .active = true,
                           .released_at = 0,
                           .release_note = ""};
  holds_.push_back(record);
  index(record);
  std::string summary = fmt::format("held {}: {}", actor, reason);
  if (!trip.related_user.empty()) summary += " (local user " + trip.related_user + " held with it)";
  if (record.incident != actor) summary += " [incident " + record.incident + "]";
  pending_.push_back({record, {now, "hold", actor, reason}, std::move(summary)});
  if (!batching_) publish();
  return true;
}

void Containment::publish() {
  if (pending_.empty()) return;
  std::vector<PendingHold> batch;
  batch.swap(pending_);
  // The store before the lists: a hold Exim acts on must survive kill -9 of this process. The
  // commit costs no fsync (WAL); if it fails, the worker retries and the lists hold anyway (a
  // restart recovers them from the lists).
  bool stored = record_all(batch);
  std::vector<std::string> changed;
  rewrite_lists(&changed);  // this is what stops new mail
  int64_t now = ::time(nullptr);
  {
    std::lock_guard lock(mutex_);
    counts_.holds += batch.size();
    for (const PendingHold& p : batch) {
      if (!stored)
        store_jobs_.push_back(
            {.hold = p.hold, .event = p.event, .lists = {}, .stored = false, .failure_logged = false});
      if (((options_.freeze_queued && exim_) || disables_scripts(p.hold.actor, p.hold.related_user)) &&
          !options_.spool_dir.empty()) {
        jobs_.push_back({p.hold, 0});
        jobs_.push_back({p.hold, now + kSecondFreezePassDelay});
      }
    }
    store_jobs_.push_back({.hold = {},
                           .event = {},
                           .lists = std::move(changed),
                           .stored = true,
                           .failure_logged = false});  // the fsync of the lists
  }
  store_wake_.notify_one();
  wake_.notify_one();
  for (const PendingHold& p : batch) {
    log_(p.summary);
    if (alerter_)
      alerter_->post({"hold",
                      detect::format_actor_ref(p.hold.actor),
                      p.summary,
                      {{"reason", p.hold.reason}, {"local_user", p.hold.related_user}, {"since", p.hold.since}}});
  }
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
  publish();
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
      std::unordered_map<std::string, bool> in_store;
      for (const store::HoldRecord& a : *active) in_store[detect::format_actor_ref(a.actor)] = true;
      for (const store::HoldRecord& h : holds_) {
        std::string why, name = detect::format_actor_ref(h.actor);
        if (in_store.count(name)) continue;
        // Only a release the store recorded lifts a hold; a hold the store lost (its file
        // replaced, a failed write) is recorded again, never dropped without a word.
        if (auto r = store_->released_hold(h.actor, h.since, &why)) {
          released.push_back(h.actor);
          log_("hold on " + name + " released (" + r->release_note + ")");
          continue;
        }
        if (!why.empty() || !record(h, {now, "recover", name, "missing from the store, recorded again"})) {
          log_("hold on " + name + " kept: the store cannot say it was released" + (why.empty() ? "" : ": " + why));
        } else {
          log_("hold on " + name + " was missing from the store: recorded again");
        }
        active->push_back(h);
      }
      if (!released.empty() || active->size() != holds_.size()) {
        holds_ = std::move(*active);
        index_holds();
        lists_dirty_ = true;
      }
    }
  }
  if (lists_dirty_) {
    std::vector<std::string> changed;
    rewrite_lists(&changed);
    sync_files(changed, hold_list_dir(options_.state_dir));
  }
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
  FreezeTally tally = tally_freeze(r.outcomes);
  {
    std::lock_guard lock(mutex_);
    counts_.frozen += tally.frozen;
    counts_.freeze_failures += tally.failed;
  }
  if (std::string line = describe_freeze(tally, actor); !line.empty()) log_(line);
  if (tally.failed) log_(describe_freeze_failure(tally, actor));
  if (tally.frozen && store_ && !store_->set_frozen(hold.actor, int64_t(tally.frozen), &error))
    log_("cannot record frozen count: " + error);
}

FreezeTally tally_freeze(const std::vector<queue::ActionOutcome>& outcomes) {
  FreezeTally t;
  for (const queue::ActionOutcome& o : outcomes) {
    // Exim 4.9x: "Message ID is locked", "Spool file for ID is locked (another process is
    // handling this message)"; "Spool data file for ID does not exist".
    if (o.ok) ++t.frozen;
    else if (o.detail.find(" is locked") != std::string::npos) ++t.locked;
    else if (o.detail.find("does not exist") != std::string::npos) ++t.gone;
    else if (++t.failed == 1) t.failure = o.detail;
  }
  return t;
}

std::string describe_freeze(const FreezeTally& t, const std::string& actor) {
  if (!t.frozen && !t.locked && !t.gone) return "";
  std::string line = fmt::format("froze {} queued messages of {}", t.frozen, actor);
  if (t.locked)
    line += fmt::format("; {} were being delivered (locked by their delivery): the next pass freezes any still queued",
                        t.locked);
  if (t.gone) line += fmt::format("; {} had left the queue", t.gone);
  return line;
}

std::string describe_freeze_failure(const FreezeTally& t, const std::string& actor) {
  return fmt::format("could not freeze {} queued messages of {}: {}", t.failed, actor, t.failure);
}

size_t Containment::active() const { return holds_.size(); }

ContainmentCounts Containment::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

}  // namespace sw::contain
