#include "classify/model.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace sw::classify {
namespace {

static_assert(std::endian::native == std::endian::little, "the model file is written in host order");

constexpr char kMagic[8] = {'S', 'W', 'C', 'M', 'O', 'D', 'E', 'L'};
constexpr uint32_t kVersion = 1;

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
  uint32_t reserved;
  uint64_t spam_messages, ham_messages, records;
};
struct Record {
  uint64_t hash;
  uint32_t spam, ham;
};

bool write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n, size -= std::size_t(n);
  }
  return true;
}

}  // namespace

void Model::learn(const TokenSet& tokens, bool spam, int delta) {
  auto adjust = [delta](uint64_t& total) { total = delta > 0 ? total + 1 : (total ? total - 1 : 0); };
  adjust(spam ? spam_messages_ : ham_messages_);
  for (const Token& t : tokens.tokens()) {
    if (delta < 0 && !counts_.find(t.hash)) continue;
    TokenCounts& c = counts_[t.hash];
    uint32_t& n = spam ? c.spam : c.ham;
    n = delta > 0 ? n + 1 : (n ? n - 1 : 0);
    if (c.spam == 0 && c.ham == 0) counts_.erase(t.hash);
  }
}

// Robinson's f(w) = (s*x + n*p(w)) / (s + n), p(w) from the per-class frequencies so that
// unequal numbers of trained spam and ham do not tilt it.
double Model::feature_probability(const TokenCounts& c) const {
  double spam_freq = double(c.spam) / double(std::max<uint64_t>(spam_messages_, 1));
  double ham_freq = double(c.ham) / double(std::max<uint64_t>(ham_messages_, 1));
  double p = spam_freq / (spam_freq + ham_freq);
  double n = double(c.spam) + double(c.ham);
  return (params_.strength * params_.prior + n * p) / (params_.strength + n);
}

ModelScore Model::score(const TokenSet& tokens, std::size_t max_reasons) const {
  struct Evidence {
    double f;
    const Token* token;
  };
  std::vector<Evidence> evidence;
  evidence.reserve(tokens.tokens().size());
  for (const Token& t : tokens.tokens()) {
    const TokenCounts* c = counts_.find(t.hash);
    if (!c) continue;
    double f = feature_probability(*c);
    if (std::fabs(f - 0.5) >= params_.min_deviation) evidence.push_back({f, &t});
  }
  auto stronger = [](const Evidence& a, const Evidence& b) { return std::fabs(a.f - 0.5) > std::fabs(b.f - 0.5); };
  if (evidence.size() > params_.max_features) {
    std::nth_element(evidence.begin(), evidence.begin() + long(params_.max_features), evidence.end(), stronger);
    evidence.resize(params_.max_features);
  }
  ModelScore out;
  if (evidence.empty()) return out;
  double ln_ham = 0, ln_spam = 0, log_odds = 0;
  for (const Evidence& e : evidence) {
    double f = std::clamp(e.f, 1e-6, 1 - 1e-6);
    ln_ham += std::log(f);
    ln_spam += std::log1p(-f);
    log_odds += std::log(f / (1 - f));
  }
  double hamminess = chi2_q(-2 * ln_ham, evidence.size());
  double spamminess = chi2_q(-2 * ln_spam, evidence.size());
  double indicator = (1 + hamminess - spamminess) / 2;
  // The chi-square indicator saturates at 0 and 1; the mean log-odds orders messages within
  // those plateaus, by a margin too small to move any other.
  double tiebreak = 1 / (1 + std::exp(-log_odds / double(evidence.size())));
  out.indicator = indicator * (1 - 1e-6) + 1e-6 * tiebreak;
  double cut = std::clamp(params_.cut, 0.01, 0.99);
  out.score = out.indicator < cut ? 5 * out.indicator / cut : 5 + 5 * (out.indicator - cut) / (1 - cut);
  std::size_t keep = std::min(max_reasons, evidence.size());
  std::partial_sort(evidence.begin(), evidence.begin() + long(keep), evidence.end(), stronger);
  for (std::size_t i = 0; i < keep; ++i) {
    double f = std::clamp(evidence[i].f, 1e-6, 1 - 1e-6);
    out.reasons.push_back({std::string(tokens.name(*evidence[i].token)), std::log(f / (1 - f))});
  }
  return out;
}

bool Model::save(const std::string& path, std::string* error) const {
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    *error = "cannot write " + temp + ": " + std::strerror(errno);
    return false;
  }
  FileHeader header{};
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.version = kVersion;
  header.spam_messages = spam_messages_;
  header.ham_messages = ham_messages_;
  header.records = counts_.size();
  std::vector<Record> records;
  records.reserve(counts_.size());
  counts_.for_each([&](uint64_t hash, const TokenCounts& c) { records.push_back({hash, c.spam, c.ham}); });
  uint64_t checksum = fnv(&header, sizeof header);
  checksum = fnv(records.data(), records.size() * sizeof(Record), checksum);
  bool ok = write_all(fd, &header, sizeof header) && write_all(fd, records.data(), records.size() * sizeof(Record)) &&
            write_all(fd, &checksum, sizeof checksum) && ::fsync(fd) == 0;
  int saved_errno = errno;
  ok = (::close(fd) == 0) && ok;
  if (ok && ::rename(temp.c_str(), path.c_str()) != 0) ok = false, saved_errno = errno;
  if (!ok) {
    ::unlink(temp.c_str());
    *error = "cannot write " + path + ": " + std::strerror(saved_errno);
  }
  return ok;
}

bool Model::load(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  FileHeader header{};
  if (!in.read(reinterpret_cast<char*>(&header), sizeof header) || std::memcmp(header.magic, kMagic, 8) != 0 ||
      header.version != kVersion) {
    *error = path + " is not a spamwarden content model (version " + std::to_string(kVersion) + ")";
    return false;
  }
  if (header.records > (uint64_t(1) << 32)) {
    *error = path + ": implausible record count";
    return false;
  }
  std::vector<Record> records(header.records);
  uint64_t stored = 0;
  if (!in.read(reinterpret_cast<char*>(records.data()), std::streamsize(records.size() * sizeof(Record))) ||
      !in.read(reinterpret_cast<char*>(&stored), sizeof stored)) {
    *error = path + " is truncated";
    return false;
  }
  uint64_t checksum = fnv(records.data(), records.size() * sizeof(Record), fnv(&header, sizeof header));
  if (checksum != stored) {
    *error = path + " is corrupt (checksum mismatch)";
    return false;
  }
  counts_ = {};
  for (const Record& r : records) counts_[r.hash] = {r.spam, r.ham};
  spam_messages_ = header.spam_messages;
  ham_messages_ = header.ham_messages;
  return true;
}

}  // namespace sw::classify
