#include "classify/scanner.h"

#include <sys/stat.h>

#include <chrono>
#include <mutex>
#include <shared_mutex>

#include "base/atomic_file.h"
#include "base/fd_io.h"
#include "classify/gmime_library.h"
#include "classify/mime.h"
#include "classify/model.h"
#include "classify/model_journal.h"
#include "classify/tokenizer.h"

namespace sw::classify {
namespace {

std::string model_file_for(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return path + "/" + Scanner::kModelFileName;
  return path;
}

// The calling thread's set, refilled: each thread keeps its buffers (a few hundred KB at most)
// instead of allocating them afresh per message. Valid until the thread's next call.
const TokenSet& features_of(std::string_view raw, const ScannerOptions& options) {
  if (raw.size() > options.max_message_bytes) raw = raw.substr(0, options.max_message_bytes);
  thread_local TokenSet tokens;
  tokenize(parse_message(raw), &tokens);
  return tokens;
}

constexpr std::string_view kFleetMagic = "swfleet1 ";
constexpr std::size_t kJournalBatch = 1000;

// A fleet server's copy: "swfleet1 POSITION\n", then the model file's bytes, in one file so
// that a crash never leaves a model and a position that do not belong together.
std::string fleet_copy(StreamId position, const std::string& model) {
  return std::string(kFleetMagic) + position.text() + "\n" + model;
}

// A missing copy is an empty model at the journal's start; false with *error for a damaged one.
bool read_fleet_copy(const std::string& path, Model* model, StreamId* position, std::string* error) {
  std::string data;
  bool missing = false;
  if (!read_file_whole(path, data, error, &missing)) return missing ? (error->clear(), true) : false;
  std::size_t nl = data.find('\n');
  std::optional<StreamId> at;
  if (data.starts_with(kFleetMagic) && nl != std::string::npos)
    at = StreamId::parse(std::string_view(data).substr(kFleetMagic.size(), nl - kFleetMagic.size()));
  if (!at) return *error = path + " is not a fleet model copy", false;
  // A copy from before the model remembered its messages: the messages this server would
  // remember are those of the journal it replays past its copy's position, which differs from
  // server to server, and a message taught again would count twice on one and once on
  // another. Each starts from the fleet's snapshot instead, all from the same position.
  std::string bytes = data.substr(nl + 1);
  if (uint32_t version = Model::file_version(bytes); version && version < Model::kFirstVersionRemembering)
    return *error = path + " was written before the model remembered its messages", false;
  if (!model->from_bytes(bytes, path, error)) return false;
  *position = *at;
  return true;
}

}  // namespace

Scanner::Scanner(const ScannerOptions& options, std::string model_file, std::unique_ptr<Model> model)
    : options_(options), model_file_(std::move(model_file)), model_(std::move(model)) {}
Scanner::~Scanner() = default;

namespace {

// The model in `file`; an empty one when there is no file yet; nullptr with *error otherwise.
std::unique_ptr<Model> read_model_file(const std::string& file, std::string* error) {
  auto model = std::make_unique<Model>();
  std::string data;
  bool missing = false;
  if (!read_file_whole(file, data, error, &missing)) return missing ? (error->clear(), std::move(model)) : nullptr;
  return model->from_bytes(data, file, error) ? std::move(model) : nullptr;
}

}  // namespace

std::unique_ptr<Scanner> Scanner::open(const std::string& path, const ScannerOptions& options, std::string* error) {
  if (!load_gmime(error)) return nullptr;
  std::string file = model_file_for(path);
  auto model = read_model_file(file, error);
  return model ? std::unique_ptr<Scanner>(new Scanner(options, file, std::move(model))) : nullptr;
}

bool Scanner::reload(std::string* error) {
  if (journal_ || model_file_.empty()) return *error = "not a single server's model file", false;
  auto model = read_model_file(model_file_, error);
  if (!model) return false;
  std::unique_lock lock(mutex_);
  model_ = std::move(model);
  ++generation_;  // a refit under way is of the model replaced
  return true;
}

std::unique_ptr<Scanner> Scanner::open_fleet(const std::string& state_dir, const ScannerOptions& options,
                                             const FleetOptions& fleet, std::string* error) {
  if (!load_gmime(error)) return nullptr;
  std::string file = state_dir + "/" + kFleetFileName;
  auto model = std::make_unique<Model>();
  StreamId position;
  std::string damaged;
  if (!read_fleet_copy(file, model.get(), &position, &damaged)) {
    model = std::make_unique<Model>();  // the fleet's snapshot and journal rebuild it
    position = {};
  }
  std::unique_ptr<Scanner> scanner(new Scanner(options, file, std::move(model)));
  scanner->fleet_ = fleet;
  scanner->journal_ = std::make_unique<ModelJournal>(ModelJournalOptions{fleet.redis, fleet.key_prefix});
  scanner->position_ = position;
  std::string why;
  std::lock_guard lock(scanner->journal_mutex_);
  // With no copy of its own, a server starts from the snapshot (refitted, and what the others
  // hold), not by replaying the journal.
  bool ok = position != StreamId{} || scanner->reload_snapshot(&why);
  if (!ok || !scanner->sync_locked(&why)) scanner->open_note_ = why;
  if (!damaged.empty()) scanner->open_note_ = damaged + " (not used)" + (why.empty() ? "" : "; " + why);
  return scanner;
}

std::unique_ptr<Scanner> Scanner::in_memory(const ScannerOptions& options) {
  return std::unique_ptr<Scanner>(new Scanner(options, "", std::make_unique<Model>()));
}

Verdict Scanner::scan(std::string_view raw_message) const {
  const TokenSet& tokens = features_of(raw_message, options_);
  ModelScore s;
  {
    std::shared_lock lock(mutex_);
    s = model_->score(tokens, options_.max_reasons);
  }
  Verdict v;
  v.score = s.score;
  v.threshold = options_.threshold;
  v.is_spam = v.score >= v.threshold;
  v.reasons = std::move(s.reasons);
  return v;
}

Taught Scanner::learn(std::string_view raw_message, bool spam, std::string* error) {
  return teach(raw_message, spam, false, error);
}

Taught Scanner::forget(std::string_view raw_message, std::string* error) {
  return teach(raw_message, false, true, error);
}

Taught Scanner::teach(std::string_view raw_message, bool spam, bool forget, std::string* error) {
  const TokenSet& tokens = features_of(raw_message, options_);
  thread_local std::vector<uint64_t> hashes;
  hashes.clear();
  for (const Token& t : tokens.tokens()) hashes.push_back(t.hash);
  if (!journal_) {
    std::unique_lock lock(mutex_);
    return forget ? model_->forget(hashes) : model_->teach(hashes, spam);
  }
  // A fleet's: what it would do to this copy, caught up first, decides whether to append. Two
  // servers taught the same message at once may both append; applying the second changes
  // nothing, and what applying its own entry did is what each answers.
  std::lock_guard lock(journal_mutex_);
  std::string unused;
  bool caught_up = sync_locked(&unused);
  Taught expected;
  {
    std::shared_lock model_lock(mutex_);
    expected = forget ? model_->would_forget(hashes) : model_->would_teach(hashes, spam);
  }
  // A copy that could not catch up may be stale (another server moved or forgot the message
  // since): the journal decides then, never this copy's "already learned". Out of reach, the
  // append below says so.
  if (caught_up && !changed(expected)) return expected;
  JournalEntry entry{spam, forget, {hashes.begin(), hashes.end()}};
  std::optional<StreamId> appended = journal_->append(encode_entry(entry));
  if (!appended) {
    if (error) *error = journal_->error();
    return Taught::Failed;
  }
  Taught applied = expected;  // learned: the next sync applies it if this one cannot
  sync_locked(&unused, *appended, &applied);
  return applied;
}

bool Scanner::sync(std::string* error) {
  if (!journal_) return true;
  std::string why;
  std::vector<Example> examples;
  uint64_t generation = 0;
  StreamId settled;
  {
    std::lock_guard lock(journal_mutex_);
    StreamId before = position_;
    bool ok = sync_locked(&why);
    if (error) *error = why;
    if (!ok) return false;
    // No snapshot, though this copy has learned: the fleet's first, or Redis lost it (restarted
    // empty, evicted, removed). This copy is what the journal up to its position made, so it
    // becomes the snapshot, and a server that starts now gets the fleet's model, not an empty
    // one. A newer one stored meanwhile is kept instead.
    if (snapshot_missing_ && position_ != StreamId{}) {
      std::string bytes;
      {
        std::shared_lock model_lock(mutex_);
        bytes = model_->to_bytes();
      }
      if (journal_->store_snapshot(position_, bytes)) ++snapshots_stored_;
      snapshot_missing_ = false;
    }
    // Settled: nothing new since the last sync. Every server refits at such positions, over the
    // same examples, so their regressions agree once the fleet's learning pauses. Learning that
    // never pauses still gets a refit a minute, as a single server's save gives it.
    auto now = std::chrono::steady_clock::now();
    bool settled_here = position_ == before, overdue = now - refitted_at_ >= std::chrono::minutes(1);
    if (position_ == refit_position_ || !(settled_here || overdue)) return true;
    refitted_at_ = now;
    std::shared_lock model_lock(mutex_);
    examples = model_->examples();
    generation = generation_;
    settled = position_;
  }
  fit_and_swap(std::move(examples), generation);
  std::lock_guard lock(journal_mutex_);
  refit_position_ = settled;
  return true;
}

bool Scanner::sync_locked(std::string* error, StreamId mine, Taught* applied) {
  bool reloaded = false;
  for (;;) {
    auto batch = journal_->read_after(position_, kJournalBatch);
    if (!batch) return *error = journal_->error(), false;
    if (batch->behind_trim) {
      if (reloaded) return *error = "the fleet's model snapshot is behind its journal's trim", false;
      if (!reload_snapshot(error)) return false;
      reloaded = true;
      continue;
    }
    snapshot_missing_ = !batch->snapshot_stored;
    for (const auto& [id, bytes] : batch->entries) {
      JournalEntry e;
      std::string why;
      if (decode_entry(bytes, &e, &why)) {
        std::unique_lock model_lock(mutex_);  // per entry: a scan waits a few microseconds at most
        Taught t = e.forget ? model_->forget(e.hashes) : model_->teach(e.hashes, e.spam);
        if (applied && id == mine) *applied = t;
      } else {
        ++skipped_;
      }
      position_ = id;
    }
    if (batch->entries.size() < kJournalBatch) return true;
  }
}

bool Scanner::reload_snapshot(std::string* error) {
  auto snapshot = journal_->snapshot();
  if (!snapshot) return *error = journal_->error(), false;
  auto model = std::make_unique<Model>();
  StreamId position;
  if (*snapshot) {
    if (!model->from_bytes((*snapshot)->model, "the fleet's model snapshot", error)) {
      // Damaged (not merely written by a newer spamwarden, which its own servers read): marked,
      // so the next server with a copy of its own stores that copy in its place.
      if (!Model::written_by_newer_version((*snapshot)->model) &&
          journal_->mark_snapshot_damaged((*snapshot)->position, *error))
        *error += "; marked for another server to store its copy";
      return false;
    }
    position = (*snapshot)->position;
  }
  std::unique_lock lock(mutex_);
  model_ = std::move(model);
  ++generation_;
  position_ = position;
  return true;
}

std::string Scanner::fleet_position() const {
  std::lock_guard lock(journal_mutex_);
  return position_.text();
}

uint64_t Scanner::snapshots_stored() const {
  std::lock_guard lock(journal_mutex_);
  return snapshots_stored_;
}

uint64_t Scanner::skipped_entries() const {
  std::lock_guard lock(journal_mutex_);
  return skipped_;
}

void Scanner::refit() {
  std::vector<Example> examples;
  uint64_t generation = 0;
  {
    std::shared_lock lock(mutex_);
    examples = model_->examples();
    generation = generation_;
  }
  fit_and_swap(std::move(examples), generation);
}

// The examples and the model's generation were taken together: a fit of a model that a
// snapshot replaced since is dropped.
void Scanner::fit_and_swap(std::vector<Example> examples, uint64_t generation) {
  LogisticParams params;
  {
    std::shared_lock lock(mutex_);
    params = model_->params().logistic;
  }
  std::vector<const Example*> all;
  all.reserve(examples.size());
  for (const Example& e : examples) all.push_back(&e);
  LogisticModel fitted(params);
  fitted.fit(all);
  std::unique_lock lock(mutex_);
  if (generation == generation_) model_->set_logistic(std::move(fitted));  // else replaced by a fleet's snapshot
}

bool Scanner::save(std::string* error) {
  if (model_file_.empty()) {
    *error = "this model is kept in memory only";
    return false;
  }
  if (journal_) return save_fleet(error);  // refitted by sync() where the journal settles
  refit();
  std::shared_lock lock(mutex_);
  return model_->save(model_file_, error);
}

bool Scanner::save_fleet(std::string* error) {
  std::string bytes;
  StreamId position;
  {
    std::lock_guard journal_lock(journal_mutex_);  // no entry applied between the two
    std::shared_lock lock(mutex_);
    bytes = model_->to_bytes();
    position = position_;
  }
  bool saved = write_file_atomically(model_file_, fleet_copy(position, bytes), error);
  // The snapshot is for servers that start or fall behind: when it cannot be stored now (out
  // of reach, or another server stored a newer one), a later save does.
  std::lock_guard journal_lock(journal_mutex_);
  auto entries = journal_->length();
  if (entries && *entries >= 2 * fleet_.snapshot_every && position != StreamId{})
    journal_->store_snapshot(position, bytes);
  return saved;
}

std::size_t Scanner::spam_learned() const {
  std::shared_lock lock(mutex_);
  return model_->spam_messages();
}
std::size_t Scanner::ham_learned() const {
  std::shared_lock lock(mutex_);
  return model_->ham_messages();
}

}  // namespace sw::classify
