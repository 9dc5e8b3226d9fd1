// The trained state, two models over the same features:
// - token statistics: for each feature hash, in how many spam and ham messages it was seen, and
//   the two message totals; each feature's spam probability smoothed Robinson's way towards
//   neutral by how rarely it was seen, the strongest few averaged as log-odds;
// - a hashed-feature logistic regression (logistic.h), refitted from the kept examples.
// The score adds the two log-odds and maps the sum linearly onto SpamAssassin's scale: 5 is the
// operating point chosen on the train half's folds, clear ham goes below 0, clear spam past 15.
// Not thread-safe by itself: Scanner holds the lock.
#pragma once
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/flat_map.h"
#include "classify/logistic.h"
#include "classify/taught.h"
#include "classify/tokenizer.h"
#include "classify/verdict.h"

namespace sw::classify {

struct ModelParams {
  double strength = 0.2;          // Robinson's s: weight of the neutral prior against a feature's evidence
  double prior = 0.5;             // Robinson's x: a never-seen feature's probability
  double min_deviation = 0.1;     // features with |f - 0.5| below this are left out
  std::size_t max_features = 12;  // the strongest this many are averaged (spamprobe: 27; 12 did better on 5 folds)
  // A feature the message repeats may fill up to this many of those places (spamprobe: 2).
  uint32_t max_repeats = 1;
  // spamprobe's bias against false positives: ham counts weigh this much more than spam counts,
  // and a feature whose weighted count (spam + ham_weight * ham) is below min_count stays neutral.
  double ham_weight = 1.0;
  double min_count = 0.0;
  bool statistics_pairs = true;  // word pairs ("click here") among the statistics' features, not just the regression's
  // The combined log-odds: regression margin + statistics_weight * the statistics' mean
  // log-odds; the score is 5 + slope * (log-odds - offset), so 5.0 sits at `offset`.
  double statistics_weight = 3.0;
  double offset = 6.5;  // FP <= 0.1% on the train half's five folds, pooled (docs/content-filter.md)
  // Unbounded like SpamAssassin's, so a second threshold means something: on the folds half
  // the spam scores 15 or more and no ham 8 or more; log-odds 0 (FP 0.4%, FN 2.2%) scores 0.1.
  double slope = 0.75;
  std::size_t max_examples = 40000;  // kept for refits (about 2 KB each); the oldest are dropped beyond
  LogisticParams logistic;
};

struct TokenCounts {
  uint32_t spam = 0, ham = 0;
};

struct ModelScore {
  double indicator = 0.5;            // Fisher's chi-square indicator over the same features: 0 ham ... 1 spam
  double statistics_log_odds = 0.0;  // the token statistics' mean log-odds
  double log_odds = 0.0;             // the combined log-odds the score is mapped from
  // Calibrated: 5 at params.offset, spam from there up, ham below. A message with no known
  // token scores 0: an untrained model must not call anything spam.
  double score = 0.0;
  std::vector<Reason> reasons;
};

class Model {
 public:
  explicit Model(ModelParams params = {}) : params_(params), logistic_(params.logistic) {}

  // Teaching, as `learn`, spamd's TELL and a fleet's journal do it: once per message. The
  // model keeps each learned message's digest with its class, so the same message again is
  // AlreadyLearned, as the other class it is moved (Relearned), and forget() finds the class
  // it was learned as. `hashes`: the message's features, sorted and unique.
  Taught teach(std::span<const uint64_t> hashes, bool spam);
  Taught forget(std::span<const uint64_t> hashes);
  // What teach() or forget() would do, without doing it.
  Taught would_teach(std::span<const uint64_t> hashes, bool spam) const;
  Taught would_forget(std::span<const uint64_t> hashes) const;
  // A message's identity in that registry: a digest (SHA-256's first 64 bits) of its features.
  // Exact copies and retries share it; two deliveries of one message to different mailboxes
  // (another To:) do not.
  static uint64_t digest(std::span<const uint64_t> hashes);
  std::size_t messages_remembered() const { return learned_.size(); }

  // The counts themselves, without the registry (training folds that learn each message once
  // by construction): delta +1 learns (counts, one online regression step, the example kept),
  // -1 undoes (counts never go below zero; the matching example is dropped, the regression
  // keeps its weights until the next refit).
  void learn(const TokenSet& tokens, bool spam, int delta);
  void learn(std::span<const uint64_t> hashes, bool spam, int delta);
  // Refits the regression on the kept examples (shuffled passes): train-everything, order-free.
  void refit();
  // For fitting outside the lock: a copy of the examples, then the fitted regression swapped in.
  std::vector<Example> examples() const { return {examples_.begin(), examples_.end()}; }
  void set_logistic(LogisticModel fitted) { logistic_ = std::move(fitted); }
  ModelScore score(const TokenSet& tokens, std::size_t max_reasons) const;

  uint64_t spam_messages() const { return spam_messages_; }
  uint64_t ham_messages() const { return ham_messages_; }
  std::size_t features() const { return counts_.size(); }
  const ModelParams& params() const { return params_; }
  // New regression parameters take effect at the next refit.
  void set_params(const ModelParams& params) {
    params_ = params;
    logistic_ = LogisticModel(params.logistic);
  }

  // Binary file: magic, version, totals, (hash, spam, ham) records, the kept examples, the
  // regression's non-zero weights, the learned messages' digests and classes, checksum.
  // Written atomically. Version 3 files (no digests) are read with an empty registry.
  bool save(const std::string& path, std::string* error) const;
  // false with *error for an unreadable, truncated or corrupt file.
  bool load(const std::string& path, std::string* error);
  // The file's bytes, and a model read back from them (`name` for errors): a fleet's snapshot.
  std::string to_bytes() const;
  bool from_bytes(const std::string& data, const std::string& name, std::string* error) {
    return parse(data, name, error);
  }
  // Whether `data` is a model file of a version after the newest this build reads (a fleet's
  // snapshot stored by an upgraded server): not damaged, only not for this build.
  static bool written_by_newer_version(std::string_view data);
  // The version model file bytes say they are (0: not a model file), and the first version that
  // holds the learned messages.
  static uint32_t file_version(std::string_view data);
  static constexpr uint32_t kFirstVersionRemembering = 4;

 private:
  struct IdentityHash {
    std::size_t operator()(uint64_t h) const { return std::size_t(h); }
  };
  static Taught teach_outcome(uint8_t seen, bool spam);
  double feature_probability(const TokenCounts& c) const;
  bool weigh_statistics(const TokenSet& tokens, std::size_t max_reasons, ModelScore* out) const;
  std::string serialize() const;  // the file without its checksum
  bool parse(const std::string& data, const std::string& path, std::string* error);

  ModelParams params_;
  FlatMap<uint64_t, TokenCounts, IdentityHash> counts_;
  uint64_t spam_messages_ = 0, ham_messages_ = 0;
  LogisticModel logistic_;
  std::deque<Example> examples_;
  enum : uint8_t { kLearnedHam = 1, kLearnedSpam = 2 };
  FlatMap<uint64_t, uint8_t, IdentityHash> learned_;  // digest -> kLearnedHam or kLearnedSpam
};

}  // namespace sw::classify
