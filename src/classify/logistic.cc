#include "classify/logistic.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace sw::classify {
namespace {

double scale_of(std::size_t n) { return 1.0 / std::sqrt(double(std::max<std::size_t>(n, 1))); }

// The bias moves slower than the feature weights (its step damped by 30, theirs by
// params.damping): it would otherwise swing with each class's run of examples instead of
// settling at the base rate.
constexpr double kBiasDamping = 30;

bool valid_sum(double sum) { return std::isfinite(sum) && sum >= 0; }

}  // namespace

LogisticModel::LogisticModel(const LogisticParams& params)
    : params_(params), weights_(std::size_t(1) << std::clamp(params.bits, 8, 26), 0.0f),
      gradient_squares_(weights_.size(), 0.0f) {
  params_.bits = std::clamp(params.bits, 8, 26);
}

std::vector<uint32_t> LogisticModel::slots(const TokenSet& tokens) const {
  std::vector<uint32_t> out;
  slots(tokens, &out);
  return out;
}

void LogisticModel::slots(const TokenSet& tokens, std::vector<uint32_t>* out) const {
  out->clear();
  out->reserve(tokens.tokens().size());
  for (const Token& t : tokens.tokens()) out->push_back(uint32_t(t.hash >> (64 - params_.bits)));
  sort_unique(out);
}

std::vector<uint32_t> LogisticModel::slots(std::span<const uint64_t> hashes) const {
  std::vector<uint32_t> out;
  out.reserve(hashes.size());
  for (uint64_t h : hashes) out.push_back(uint32_t(h >> (64 - params_.bits)));
  sort_unique(&out);
  return out;
}

void LogisticModel::sort_unique(std::vector<uint32_t>* slots) {
  // A finished set is sorted by hash, so its slots (the hash's top bits) already are.
  if (!std::is_sorted(slots->begin(), slots->end())) std::sort(slots->begin(), slots->end());
  slots->erase(std::unique(slots->begin(), slots->end()), slots->end());
}

double LogisticModel::margin(std::span<const uint32_t> slots) const {
  double z = 0;
  for (uint32_t s : slots) z += weights_[s];
  return bias_ + z * scale_of(slots.size());
}

void LogisticModel::step(const Example& example) {
  double p = 1 / (1 + std::exp(-margin(example.slots)));
  double gradient = (example.spam ? 1.0 : 0.0) - p;  // towards the label
  bias_gradient_squares_ += gradient * gradient;
  bias_ += params_.rate * gradient / (kBiasDamping + std::sqrt(bias_gradient_squares_));
  double scaled = gradient * scale_of(example.slots.size());
  for (uint32_t s : example.slots) {
    float& sum = gradient_squares_[s];
    sum = float(double(sum) + scaled * scaled);
    weights_[s] += float(params_.rate * scaled / (params_.damping + std::sqrt(double(sum))));
  }
}

void LogisticModel::fit(const std::vector<const Example*>& examples) {
  std::fill(weights_.begin(), weights_.end(), 0.0f);
  std::fill(gradient_squares_.begin(), gradient_squares_.end(), 0.0f);
  bias_ = 0;
  bias_gradient_squares_ = 0;
  if (examples.empty()) return;
  // The shuffle starts from an order of the examples' own (their label and slots), not the order
  // they were learned in: the same examples give the same fit however they arrived.
  std::vector<const Example*> order = examples;
  std::sort(order.begin(), order.end(), [](const Example* a, const Example* b) {
    return a->spam != b->spam ? a->spam < b->spam : a->slots < b->slots;
  });
  std::mt19937 shuffle(params_.seed);
  for (int epoch = 0; epoch < params_.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), shuffle);
    for (const Example* e : order) step(*e);
  }
}

bool LogisticModel::set_weight(uint32_t slot, float weight, float gradient_squares) {
  if (slot >= weights_.size() || !std::isfinite(weight) || !valid_sum(gradient_squares)) return false;
  weights_[slot] = weight;
  gradient_squares_[slot] = gradient_squares;
  return true;
}

bool LogisticModel::set_bias(double bias, double gradient_squares) {
  if (!std::isfinite(bias) || !valid_sum(gradient_squares)) return false;
  bias_ = bias;
  bias_gradient_squares_ = gradient_squares;
  return true;
}

}  // namespace sw::classify
