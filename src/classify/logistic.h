// The discriminative half of the content model: logistic regression over hashed features.
// Each feature of a message sets one of 2^bits weight slots; the message's vector is scaled by
// 1/sqrt(features) so long and short mail weigh alike. Training is shuffled SGD over the kept
// examples, a few passes with a decaying rate; between fits, each learned message takes one
// online step, so a daemon that learns through TELL adapts before its next save.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "classify/tokenizer.h"

namespace sw::classify {

struct LogisticParams {
  int bits = 20;       // 2^20 weight slots (4 MB)
  double rate = 30;    // initial step, decays as rate / (1 + seen / examples)
  int epochs = 5;      // passes over the examples in fit()
  uint32_t seed = 42;  // the shuffle's seed: a fit is reproducible
};

struct Example {
  bool spam = false;
  std::vector<uint32_t> slots;  // sorted, unique weight slots of the message's features
};

class LogisticModel {
 public:
  explicit LogisticModel(const LogisticParams& params = {});

  std::vector<uint32_t> slots(const TokenSet& tokens) const;
  void slots(const TokenSet& tokens, std::vector<uint32_t>* out) const;  // into *out, its buffer reused
  double margin(std::span<const uint32_t> slots) const;                  // log-odds of spam
  void step(const Example& example, double rate);
  // Forgets the weights and trains from scratch on `examples`.
  void fit(const std::vector<const Example*>& examples);
  // The step a message learned after a fit takes: the schedule's final rate.
  double online_rate() const { return params_.rate / (1 + params_.epochs); }

  const LogisticParams& params() const { return params_; }
  double bias() const { return bias_; }
  const std::vector<float>& weights() const { return weights_; }
  // For loading: false if `slot` is out of range.
  bool set_weight(uint32_t slot, float weight);
  void set_bias(double bias) { bias_ = bias; }

 private:
  LogisticParams params_;
  std::vector<float> weights_;
  double bias_ = 0;
};

}  // namespace sw::classify
