// The content filter as the daemon, the CLI and the benchmark use it: parse a message, weigh
// its tokens against the trained model, answer a Verdict. Thread-safe: any number of threads
// scan at once; learn() takes the model's write lock for one message's update only (a few
// microseconds), so training in the background never stalls scanning for longer than that.
#pragma once
#include <cstddef>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "classify/verdict.h"

namespace sw::classify {

struct ScannerOptions {
  double threshold = 5.0;                      // Verdict.threshold; spam when score >= threshold
  std::size_t max_message_bytes = 512 * 1024;  // like spamc: the rest of a bigger message is skipped
  std::size_t max_reasons = 6;                 // Verdict.reasons kept, strongest first
};

class Model;

class Scanner {
 public:
  // Opens the model at `path`: a state directory (its file is kModelFileName) or a model file.
  // A missing file is an empty model (every message scores neutral until trained); an
  // unreadable or corrupt one is an error (nullptr and *error set), never silently emptied.
  static std::unique_ptr<Scanner> open(const std::string& path, const ScannerOptions& options, std::string* error);
  // An empty model kept in memory only (save() refuses); for evaluation folds and tests.
  static std::unique_ptr<Scanner> in_memory(const ScannerOptions& options = {});
  ~Scanner();

  Verdict scan(std::string_view raw_message) const;
  // Incremental training on one message. Learning the same message twice counts it twice;
  // unlearn() undoes one learn() (spamc's TELL --forget, or a correction from ham to spam).
  void learn(std::string_view raw_message, bool spam);
  void unlearn(std::string_view raw_message, bool spam);
  // Refits the model's regression on every kept example (a few shuffled passes: about 0.2 s
  // for 3,000 messages). The fit runs outside the lock; only the swap takes it, so scans go on.
  // A message learned during the fit keeps its counts and example but loses its online step
  // until the next refit.
  void refit();
  // Refits, then writes the model atomically (temporary file, fsync, rename) where open() read it.
  bool save(std::string* error);

  std::size_t spam_learned() const;
  std::size_t ham_learned() const;
  const ScannerOptions& options() const { return options_; }
  const std::string& model_file() const { return model_file_; }

  static constexpr const char* kModelFileName = "content-model.bin";

 private:
  Scanner(const ScannerOptions& options, std::string model_file, std::unique_ptr<Model> model);
  ScannerOptions options_;
  std::string model_file_;  // empty: in memory only
  std::unique_ptr<Model> model_;
  mutable std::shared_mutex mutex_;  // shared by scans, exclusive for one learn()
};

}  // namespace sw::classify
