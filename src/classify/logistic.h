// The discriminative half of the content model: logistic regression over hashed features.
// Each feature of a message sets one of 2^bits weight slots; the message's vector is scaled by
// 1/sqrt(features) so long and short mail weigh alike. Training is AdaGrad over the kept
// examples, a few shuffled passes: each slot's step shrinks with the root of the squared
// gradients it has summed, so a feature few messages have (most of a hashed vocabulary) takes
// large steps and one every message has takes small ones; one global decaying step cannot do
// both. Between fits, each learned message takes one more such step from the sums the fit left,
// so a daemon that learns through TELL adapts before its next save.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "classify/tokenizer.h"

namespace sw::classify {

struct LogisticParams {
  int bits = 20;          // 2^20 weight slots (4 MB)
  double rate = 4;        // a slot's step: rate * gradient / (damping + root of its summed squared gradients)
  double damping = 0.03;  // about one gradient of a 300-feature message: a slot's first step is not a full rate
  int epochs = 5;         // passes over the examples in fit()
  uint32_t seed = 42;     // the shuffle's seed: a fit is reproducible
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
  std::vector<uint32_t> slots(std::span<const uint64_t> hashes) const;   // from the features' hashes
  double margin(std::span<const uint32_t> slots) const;                  // log-odds of spam
  // One AdaGrad step on `example`, from the summed squared gradients so far.
  void step(const Example& example);
  // Forgets the weights and the sums and trains from scratch on `examples`.
  void fit(const std::vector<const Example*>& examples);

  const LogisticParams& params() const { return params_; }
  double bias() const { return bias_; }
  const std::vector<float>& weights() const { return weights_; }
  // Each slot's summed squared gradients: its next step's size. Saved with the weights.
  const std::vector<float>& gradient_squares() const { return gradient_squares_; }
  double bias_gradient_squares() const { return bias_gradient_squares_; }
  // For loading: false if `slot` is out of range or a value is not finite (or negative, a sum).
  bool set_weight(uint32_t slot, float weight, float gradient_squares);
  bool set_bias(double bias, double gradient_squares);

 private:
  static void sort_unique(std::vector<uint32_t>* slots);
  LogisticParams params_;
  std::vector<float> weights_;
  std::vector<float> gradient_squares_;
  double bias_ = 0;
  double bias_gradient_squares_ = 0;
};

}  // namespace sw::classify
