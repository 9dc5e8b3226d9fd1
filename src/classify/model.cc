#include "classify/model.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <iterator>

#include "base/atomic_file.h"
#include "base/fd_io.h"
#include "base/sha256.h"

namespace sw::classify {
namespace {

static_assert(std::endian::native == std::endian::little, "the model file is written in host order");

constexpr char kModelMagic[8] = {'S', 'W', 'C', 'M', 'O', 'D', 'E', 'L'};
// 2: the kept examples and the regression's weights follow the token records.
// 3: each weight with its summed squared gradients (AdaGrad), and the bias's.
// 4: the learned messages' digests and classes follow the weights (3 is still read).
constexpr uint32_t kVersion = 4, kOldestVersion = 3;
static_assert(Model::kFirstVersionRemembering == 4);

// P(chi-square with 2*n degrees of freedom >= x2), by the series for even degrees of freedom.
double chi2_q(double x2, std::size_t n) {
  double m = x2 / 2.0;
  double term = std::exp(-m), sum = term;
  for (std::size_t i = 1; i < n; ++i) {
    term *= m / double(i);
    sum += term;
  }
  return std::min(sum, 1.0);
}

uint64_t fnv(const void* data, std::size_t size, uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t logistic_bits;
  uint64_t spam_messages, ham_messages, records;
  uint64_t examples, example_slots, weights;
  double bias;
  double bias_gradient_squares;
};
struct WeightRecord {
  uint32_t slot;
  float weight;
  float gradient_squares;
};
constexpr uint32_t kSpamBit = 1u << 31;

template <class T>
void append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

// Reads a T at *at, advancing it; false past the end.
template <class T>
bool take(const std::string& data, std::size_t* at, T* value) {
  if (data.size() - *at < sizeof(T)) return false;
  std::memcpy(value, data.data() + *at, sizeof(T));
  *at += sizeof(T);
  return true;
}
struct Record {
  uint64_t hash;
  uint32_t spam, ham;
};
// Written whole: no padding, which would carry whatever the memory held into the model file.
static_assert(sizeof(FileHeader) == 8 + 4 * 2 + 8 * 6 + 8 * 2 && sizeof(Record) == 16 && sizeof(WeightRecord) == 12);

}  // namespace

uint32_t Model::file_version(std::string_view data) {
  uint32_t version = 0;
  if (data.size() < sizeof kModelMagic + sizeof version ||
      std::memcmp(data.data(), kModelMagic, sizeof kModelMagic) != 0)
    return 0;
  std::memcpy(&version, data.data() + sizeof kModelMagic, sizeof version);
  return version;
}

const char* taught_name(Taught t) {
  switch (t) {
    case Taught::Learned: return "learned";
    case Taught::Relearned: return "relearned";
    case Taught::AlreadyLearned: return "already learned";
    case Taught::Forgotten: return "forgotten";
    case Taught::NotLearned: return "not learned before";
    case Taught::Failed: return "failed";
    case Taught::Unsaved: return "not saved";
  }
  return "?";
}

uint64_t Model::digest(std::span<const uint64_t> hashes) {
  // SHA-256, not a fast hash: whoever sends mail chooses its features, and two messages made to
  // share a digest would let learning one move the other's record. About 10 us a message.
  Sha256 sha;
  sha.update(std::string_view(reinterpret_cast<const char*>(hashes.data()), hashes.size_bytes()));
  auto bytes = sha.finish();
  uint64_t h = 0;
  std::memcpy(&h, bytes.data(), sizeof h);
  return h;
}

// What teaching a message as `spam` does, given what the registry holds for it (0: nothing).
Taught Model::teach_outcome(uint8_t seen, bool spam) {
  if (seen == 0) return Taught::Learned;
  return (seen == kLearnedSpam) == spam ? Taught::AlreadyLearned : Taught::Relearned;
}

Taught Model::would_teach(std::span<const uint64_t> hashes, bool spam) const {
  const uint8_t* seen = learned_.find(digest(hashes));
  return teach_outcome(seen ? *seen : 0, spam);
}

Taught Model::would_forget(std::span<const uint64_t> hashes) const {
  return learned_.find(digest(hashes)) ? Taught::Forgotten : Taught::NotLearned;
}

Taught Model::teach(std::span<const uint64_t> hashes, bool spam) {
  uint64_t d = digest(hashes);
  uint8_t& seen = learned_[d];
  Taught t = teach_outcome(seen, spam);
  if (t == Taught::Relearned) learn(hashes, !spam, -1);
  if (t != Taught::AlreadyLearned) learn(hashes, spam, +1);
  seen = spam ? kLearnedSpam : kLearnedHam;
  return t;
}

Taught Model::forget(std::span<const uint64_t> hashes) {
  uint64_t d = digest(hashes);
  const uint8_t* seen = learned_.find(d);
  if (!seen) return Taught::NotLearned;
  bool spam = *seen == kLearnedSpam;
  learned_.erase(d);
  learn(hashes, spam, -1);
  return Taught::Forgotten;
}

void Model::learn(const TokenSet& tokens, bool spam, int delta) {
  thread_local std::vector<uint64_t> hashes;
  hashes.clear();
  for (const Token& t : tokens.tokens()) hashes.push_back(t.hash);
  learn(hashes, spam, delta);
}

void Model::learn(std::span<const uint64_t> hashes, bool spam, int delta) {
  auto adjust = [delta](uint64_t& total) { total = delta > 0 ? total + 1 : (total ? total - 1 : 0); };
  adjust(spam ? spam_messages_ : ham_messages_);
  for (uint64_t hash : hashes) {
    if (delta < 0 && !counts_.find(hash)) continue;
    TokenCounts& c = counts_[hash];
    uint32_t& n = spam ? c.spam : c.ham;
    n = delta > 0 ? n + 1 : (n ? n - 1 : 0);
    if (c.spam == 0 && c.ham == 0) counts_.erase(hash);
  }
  Example example{spam, logistic_.slots(hashes)};
  if (delta > 0) {
    logistic_.step(example);
    examples_.push_back(std::move(example));
    if (examples_.size() > params_.max_examples) examples_.pop_front();
    return;
  }
  for (auto it = examples_.rbegin(); it != examples_.rend(); ++it)
    if (it->spam == spam && it->slots == example.slots) {
      examples_.erase(std::next(it).base());
      break;
    }
}

void Model::refit() {
  std::vector<const Example*> all;
  all.reserve(examples_.size());
  for (const Example& e : examples_) all.push_back(&e);
  logistic_.fit(all);
}

// Robinson's f(w) = (s*x + n*p(w)) / (s + n), p(w) from the per-class frequencies so that
// unequal numbers of trained spam and ham do not tilt it.
double Model::feature_probability(const TokenCounts& c) const {
  if (double(c.spam) + params_.ham_weight * double(c.ham) < params_.min_count) return params_.prior;
  double spam_freq = double(c.spam) / double(std::max<uint64_t>(spam_messages_, 1));
  double ham_freq = params_.ham_weight * double(c.ham) / double(std::max<uint64_t>(ham_messages_, 1));
  double p = spam_freq / (spam_freq + ham_freq);
  double n = double(c.spam) + double(c.ham);
  return (params_.strength * params_.prior + n * p) / (params_.strength + n);
}

// The token statistics' evidence: the strongest features' Robinson probabilities as their mean
// log-odds (out->statistics_log_odds) and Fisher's chi-square indicator (out->indicator); fills
// out->reasons. False when no feature of the message is known.
bool Model::weigh_statistics(const TokenSet& tokens, std::size_t max_reasons, ModelScore* out) const {
  struct Evidence {
    double f;
    const Token* token;
  };
  thread_local std::vector<Evidence> evidence;  // kept per thread: no allocation per message
  evidence.clear();
  const std::vector<Token>& all = tokens.tokens();
  constexpr std::size_t kAhead = 8;  // each lookup is a cache miss in a table of megabytes: start it early
  for (std::size_t i = 0; i < std::min(kAhead, all.size()); ++i) counts_.prefetch(all[i].hash);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Token& t = all[i];
    if (i + kAhead < all.size()) counts_.prefetch(all[i + kAhead].hash);
    const TokenCounts* c = counts_.find(t.hash);
    if (!c) continue;
    if (!params_.statistics_pairs && tokens.name(t).find(' ') != std::string_view::npos) continue;
    double f = feature_probability(*c);
    if (std::fabs(f - 0.5) < params_.min_deviation) continue;
    for (uint32_t i = 0; i < std::min(uint32_t(t.count), std::max(params_.max_repeats, 1u)); ++i)
      evidence.push_back({f, &t});
  }
  auto stronger = [](const Evidence& a, const Evidence& b) { return std::fabs(a.f - 0.5) > std::fabs(b.f - 0.5); };
  if (evidence.size() > params_.max_features) {
    std::nth_element(evidence.begin(), evidence.begin() + long(params_.max_features), evidence.end(), stronger);
    evidence.resize(params_.max_features);
  }
  if (evidence.empty()) return false;
  double ln_ham = 0, ln_spam = 0;
  for (const Evidence& e : evidence) {
    double f = std::clamp(e.f, 1e-6, 1 - 1e-6);
    ln_ham += std::log(f);
    ln_spam += std::log1p(-f);
  }
  out->statistics_log_odds = (ln_ham - ln_spam) / double(evidence.size());
  double hamminess = chi2_q(-2 * ln_ham, evidence.size());
  double spamminess = chi2_q(-2 * ln_spam, evidence.size());
  out->indicator = (1 + hamminess - spamminess) / 2;
  // Repeats of one feature sit side by side after the sort; each is named once.
  std::sort(evidence.begin(), evidence.end(), [&](const Evidence& a, const Evidence& b) {
    return stronger(a, b) || (!stronger(b, a) && a.token < b.token);
  });
  for (std::size_t i = 0; i < evidence.size() && out->reasons.size() < max_reasons; ++i) {
    if (i > 0 && evidence[i].token == evidence[i - 1].token) continue;
    double f = std::clamp(evidence[i].f, 1e-6, 1 - 1e-6);
    out->reasons.push_back({std::string(tokens.name(*evidence[i].token)), std::log(f / (1 - f))});
  }
  return true;
}

ModelScore Model::score(const TokenSet& tokens, std::size_t max_reasons) const {
  ModelScore out;
  if (!weigh_statistics(tokens, max_reasons, &out)) return out;
  // The mean log-odds does not saturate as the chi-square indicator does (it sits at 0 or 1 for
  // most mail), so the sum orders every message and the threshold can sit where the
  // false-positive rate is low without landing on a plateau.
  thread_local std::vector<uint32_t> slots;  // kept per thread, as the evidence
  logistic_.slots(tokens, &slots);
  out.log_odds = logistic_.margin(slots) + params_.statistics_weight * out.statistics_log_odds;
  out.score = 5 + params_.slope * (out.log_odds - params_.offset);
  return out;
}

bool Model::save(const std::string& path, std::string* error) const {
  return write_file_atomically(path, to_bytes(), error);
}

std::string Model::to_bytes() const {
  std::string data = serialize();
  uint64_t checksum = fnv(data.data(), data.size());
  data.append(reinterpret_cast<const char*>(&checksum), sizeof checksum);
  return data;
}

std::string Model::serialize() const {
  FileHeader header{};
  std::memcpy(header.magic, kModelMagic, sizeof kModelMagic);
  header.version = kVersion;
  header.logistic_bits = uint32_t(logistic_.params().bits);
  header.spam_messages = spam_messages_;
  header.ham_messages = ham_messages_;
  header.records = counts_.size();
  header.examples = examples_.size();
  for (const Example& e : examples_) header.example_slots += e.slots.size();
  const std::vector<float>& weights = logistic_.weights();
  const std::vector<float>& sums = logistic_.gradient_squares();
  auto learned = [&](std::size_t slot) { return weights[slot] != 0.0f || sums[slot] != 0.0f; };
  for (std::size_t slot = 0; slot < weights.size(); ++slot) header.weights += learned(slot);
  header.bias = logistic_.bias();
  header.bias_gradient_squares = logistic_.bias_gradient_squares();
  std::string data;
  data.reserve(sizeof header + header.records * sizeof(Record) + (header.examples + header.example_slots) * 4 +
               header.weights * sizeof(WeightRecord));
  append(data, header);
  counts_.for_each([&](uint64_t hash, const TokenCounts& c) { append(data, Record{hash, c.spam, c.ham}); });
  for (const Example& e : examples_) {
    append(data, uint32_t(e.slots.size()) | (e.spam ? kSpamBit : 0));
    data.append(reinterpret_cast<const char*>(e.slots.data()), e.slots.size() * sizeof(uint32_t));
  }
  for (std::size_t slot = 0; slot < weights.size(); ++slot)
    if (learned(slot)) append(data, WeightRecord{uint32_t(slot), weights[slot], sums[slot]});
  append(data, uint64_t(learned_.size()));
  learned_.for_each([&](uint64_t digest, uint8_t label) {
    append(data, digest);
    append(data, label);
  });
  return data;
}

bool Model::load(const std::string& path, std::string* error) {
  std::string data;
  return read_file_whole(path, data, error) && parse(data, path, error);
}

bool Model::written_by_newer_version(std::string_view data) { return file_version(data) > kVersion; }

bool Model::parse(const std::string& data, const std::string& path, std::string* error) {
  FileHeader header{};
  if (data.size() < sizeof header.magic + sizeof header.version || std::memcmp(data.data(), kModelMagic, 8) != 0) {
    *error = path + " is not a spamwarden content model";
    return false;
  }
  std::memcpy(&header.version, data.data() + sizeof header.magic, sizeof header.version);
  std::size_t at = 0;
  if (header.version < kOldestVersion || header.version > kVersion) {
    *error = path + " is a content model of version " + std::to_string(header.version) + "; this spamwarden reads " +
             std::to_string(kOldestVersion) + " to " + std::to_string(kVersion) +
             ": train a new one with spamwarden learn";
    return false;
  }
  uint64_t checksum = 0;
  if (data.size() < sizeof header + sizeof checksum || !take(data, &at, &header)) {
    *error = path + " is truncated";
    return false;
  }
  std::memcpy(&checksum, data.data() + data.size() - sizeof checksum, sizeof checksum);
  if (fnv(data.data(), data.size() - sizeof checksum) != checksum) {
    *error = path + " is corrupt or truncated (checksum mismatch)";
    return false;
  }
  ModelParams params = params_;
  params.logistic.bits = int(header.logistic_bits);
  Model loaded(params);
  loaded.spam_messages_ = header.spam_messages;
  loaded.ham_messages_ = header.ham_messages;
  bool ok = loaded.logistic_.set_bias(header.bias, header.bias_gradient_squares) &&
            header.logistic_bits == uint32_t(loaded.logistic_.params().bits) && header.records <= data.size() &&
            header.examples <= data.size() && header.weights <= data.size();
  for (uint64_t i = 0; ok && i < header.records; ++i) {
    Record r{};
    ok = take(data, &at, &r);
    loaded.counts_[r.hash] = {r.spam, r.ham};
  }
  for (uint64_t i = 0; ok && i < header.examples; ++i) {
    uint32_t head = 0;
    ok = take(data, &at, &head);
    Example e{(head & kSpamBit) != 0,
              std::vector<uint32_t>(ok ? std::min<std::size_t>(head & ~kSpamBit, data.size()) : 0)};
    for (uint32_t& slot : e.slots) ok = ok && take(data, &at, &slot) && slot < loaded.logistic_.weights().size();
    loaded.examples_.push_back(std::move(e));
  }
  for (uint64_t i = 0; ok && i < header.weights; ++i) {
    WeightRecord w{};
    ok = take(data, &at, &w) && loaded.logistic_.set_weight(w.slot, w.weight, w.gradient_squares);
  }
  uint64_t remembered = 0;
  if (ok && header.version >= 4) ok = take(data, &at, &remembered) && remembered <= data.size();
  for (uint64_t i = 0; ok && i < remembered; ++i) {
    uint64_t digest = 0;
    uint8_t label = 0;
    ok = take(data, &at, &digest) && take(data, &at, &label) && (label == kLearnedHam || label == kLearnedSpam);
    uint8_t& slot = loaded.learned_[digest];
    ok = ok && slot == 0;  // each message once
    slot = label;
  }
  if (!ok || at != data.size() - sizeof checksum) {
    *error = path + " is corrupt (its sections do not add up)";
    return false;
  }
  *this = std::move(loaded);
  return true;
}

}  // namespace sw::classify
