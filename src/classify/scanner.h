// The content filter as the daemon, the CLI and the benchmark use it: parse a message, weigh
// its tokens against the trained model, answer a Verdict. Thread-safe: any number of threads
// scan at once; learn() takes the model's write lock for one message's update only (a few
// microseconds), so training in the background never stalls scanning for longer than that.
#pragma once
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "classify/journal_entry.h"
#include "classify/logistic.h"
#include "classify/taught.h"
#include "classify/verdict.h"

namespace sw::classify {

struct ScannerOptions {
  double threshold = 5.0;                      // Verdict.threshold; spam when score >= threshold
  std::size_t max_message_bytes = 512 * 1024;  // like spamc: the rest of a bigger message is skipped
  std::size_t max_reasons = 6;                 // Verdict.reasons kept, strongest first
};

class Model;
class ModelJournal;

// A fleet's shared model (model_journal.h): learning goes to the journal in Redis, and each
// server applies the journal to its own copy, which it scans with and keeps on disk too.
struct FleetOptions {
  std::string redis = "127.0.0.1:6379";
  std::string key_prefix = "spamwarden:";
  // save() stores a new snapshot once the journal holds twice this many entries (it keeps those
  // since the snapshot before the stored one, so it stays between this and twice this).
  uint64_t snapshot_every = 1000;
};

class Scanner {
 public:
  // Opens the model at `path`: a state directory (its file is kModelFileName) or a model file.
  // A missing file is an empty model (every message scores neutral until trained); an
  // unreadable or corrupt one is an error (nullptr and *error set), never silently emptied.
  static std::unique_ptr<Scanner> open(const std::string& path, const ScannerOptions& options, std::string* error);
  // A fleet's model: the snapshot and journal in Redis, applied to a copy kept in the state
  // directory (kFleetFileName, with its journal position). Redis out of reach at start: the
  // scanner starts from that copy (or empty) and catches up at the next sync(); sync_error()
  // says so, as it says when the copy or the snapshot could not be read (an empty model then,
  // until the fleet's model can be).
  static std::unique_ptr<Scanner> open_fleet(const std::string& state_dir, const ScannerOptions& options,
                                             const FleetOptions& fleet, std::string* error);
  // open()'s model read again from its file, replacing what this scanner learned: for a serve
  // that did not own the file while `spamwarden learn` wrote it. false with *error (the model
  // kept) when the file cannot be read; a fleet's scanner refuses.
  bool reload(std::string* error);
  // An empty model kept in memory only (save() refuses); for evaluation folds and tests.
  static std::unique_ptr<Scanner> in_memory(const ScannerOptions& options = {});
  ~Scanner();

  Verdict scan(std::string_view raw_message) const;
  // Incremental training on one message, once per message (Model::teach): the same message
  // again is AlreadyLearned, as the other class Relearned; forget() undoes it whatever it was
  // learned as (spamc -L forget sends no class). A fleet's model learns through the journal:
  // Failed with *error when Redis is out of reach (nothing learned), else applied here at once
  // and by every server at its next sync(). Every server applies the journal by the same rules
  // in the same order, so an append that Redis applied late and a retry count once; the answer
  // is what applying this server's own entry did. A copy that cannot catch up with the journal
  // appends whatever it holds (Failed when Redis is out of reach), never answering from a
  // possibly stale copy that nothing changed.
  Taught learn(std::string_view raw_message, bool spam, std::string* error = nullptr);
  Taught forget(std::string_view raw_message, std::string* error = nullptr);
  // A fleet's model: applies the journal's entries after this copy's position, loading the
  // snapshot again when the journal was trimmed past it. false with *error when Redis is out
  // of reach (the copy scans on as it is). An entry that is not one is skipped and counted.
  // When Redis holds no snapshot (a new fleet, or Redis lost its data) it stores this copy as
  // one. When nothing was new since the last call it refits at that position, once: every server
  // refits where the journal settles, so their scores agree a sync or two after learning stops
  // (and at least once a minute while it does not).
  bool sync(std::string* error = nullptr);
  bool fleet() const { return journal_ != nullptr; }
  std::string fleet_position() const;                           // the last journal entry applied, "0-0" before any
  uint64_t skipped_entries() const;                             // journal entries that could not be decoded
  uint64_t snapshots_stored() const;                            // by sync(), because Redis held none
  const std::string& sync_error() const { return open_note_; }  // open_fleet(): what it could not use
  // Refits the model's regression on every kept example (a few shuffled passes: about 0.2 s
  // for 3,000 messages). The fit runs outside the lock; only the swap takes it, so scans go on.
  // A message learned during the fit keeps its counts and example but loses its online step
  // until the next refit.
  void refit();
  // Refits, then writes the model atomically (temporary file, fsync, rename) where open() read it.
  // A fleet's model: its copy with its position, and a new snapshot in Redis when one is due;
  // no refit (sync() refits where the journal settles).
  bool save(std::string* error);

  std::size_t spam_learned() const;
  std::size_t ham_learned() const;
  const ScannerOptions& options() const { return options_; }
  const std::string& model_file() const { return model_file_; }

  static constexpr const char* kModelFileName = "content-model.bin";
  // Held (base/file_lock.h) by the one process that writes the model file: a running serve, whose
  // note says where its spamd listener is ("spamd ADDRESS"), or a `spamwarden learn`. Another
  // process that wrote the file meanwhile would lose what one of them learned.
  static constexpr const char* kLockFileName = "content-model.lock";
  static std::string lock_path(const std::string& state_dir) { return state_dir + "/" + kLockFileName; }
  static constexpr const char* kFleetFileName = "content-model.fleet";

 private:
  Scanner(const ScannerOptions& options, std::string model_file, std::unique_ptr<Model> model);
  // forget: `spam` is unused.
  Taught teach(std::string_view raw_message, bool spam, bool forget, std::string* error);
  void fit_and_swap(std::vector<Example> examples, uint64_t generation);
  // journal_mutex_ held. *applied: what applying the entry `mine` did, when it was applied.
  bool sync_locked(std::string* error, StreamId mine = {}, Taught* applied = nullptr);
  bool reload_snapshot(std::string* error);
  bool save_fleet(std::string* error);

  ScannerOptions options_;
  std::string model_file_;  // empty: in memory only
  std::unique_ptr<Model> model_;
  mutable std::shared_mutex mutex_;  // shared by scans, exclusive for one learn()
  uint64_t generation_ = 0;          // model_ replaced (a fleet's snapshot reloaded): a refit under way is dropped
  // A fleet's: the journal, and where this copy stands in it. journal_mutex_ serialises the
  // journal's connection and every change to the model (applied entries, a reloaded snapshot).
  std::unique_ptr<ModelJournal> journal_;
  FleetOptions fleet_;
  mutable std::mutex journal_mutex_;
  StreamId position_;
  StreamId refit_position_;  // where sync() last refitted, and when
  std::chrono::steady_clock::time_point refitted_at_ = std::chrono::steady_clock::now();
  uint64_t skipped_ = 0;
  bool snapshot_missing_ = false;  // the last read found no snapshot in Redis
  uint64_t snapshots_stored_ = 0;
  std::string open_note_;
};

}  // namespace sw::classify
