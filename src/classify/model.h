// The trained state: for each feature hash, in how many spam and ham messages it was seen, and
// the two message totals. Scoring is Robinson's: each feature's spam probability smoothed
// towards neutral by how rarely it was seen, the strongest ones combined with Fisher's
// chi-square method. Not thread-safe by itself: Scanner holds the lock.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "base/flat_map.h"
#include "classify/tokenizer.h"
#include "classify/verdict.h"

namespace sw::classify {

struct ModelParams {
  double strength = 0.35;          // Robinson's s: weight of the neutral prior against a feature's evidence
  double prior = 0.5;              // Robinson's x: a never-seen feature's probability
  double min_deviation = 0.1;      // features with |f - 0.5| below this are left out
  std::size_t max_features = 200;  // the strongest this many are combined
  double cut = 0.5;                // combined indicator mapped to the 5.0 score threshold
};

struct TokenCounts {
  uint32_t spam = 0, ham = 0;
};

struct ModelScore {
  double indicator = 0.5;  // 0 ham ... 1 spam
  // Calibrated 0..10, 5 at params.cut. A message with no known token scores 0, not the 5 of
  // an even indicator: with the threshold at 5 an untrained model would call everything spam.
  double score = 0.0;
  std::vector<Reason> reasons;
};

class Model {
 public:
  explicit Model(ModelParams params = {}) : params_(params) {}

  // delta +1 learns, -1 forgets (counts never go below zero).
  void learn(const TokenSet& tokens, bool spam, int delta);
  ModelScore score(const TokenSet& tokens, std::size_t max_reasons) const;

  uint64_t spam_messages() const { return spam_messages_; }
  uint64_t ham_messages() const { return ham_messages_; }
  std::size_t features() const { return counts_.size(); }
  const ModelParams& params() const { return params_; }
  void set_params(const ModelParams& params) { params_ = params; }

  // Binary file: magic, totals, (hash, spam, ham) records, checksum. Written atomically.
  bool save(const std::string& path, std::string* error) const;
  // false with *error for an unreadable, truncated or corrupt file.
  bool load(const std::string& path, std::string* error);

 private:
  struct IdentityHash {
    std::size_t operator()(uint64_t h) const { return std::size_t(h); }
  };
  double feature_probability(const TokenCounts& c) const;

  ModelParams params_;
  FlatMap<uint64_t, TokenCounts, IdentityHash> counts_;
  uint64_t spam_messages_ = 0, ham_messages_ = 0;
};

}  // namespace sw::classify
