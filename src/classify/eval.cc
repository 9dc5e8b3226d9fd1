#include "classify/eval.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "classify/scanner.h"

namespace sw::classify {
namespace {

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = std::move(buffer).str();
  return true;
}

}  // namespace

bool read_labeled_list(const std::string& list_file, const std::string& base_dir, std::vector<LabeledPath>* out,
                       std::string* error) {
  std::ifstream in(list_file);
  if (!in) {
    *error = "cannot read " + list_file;
    return false;
  }
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    size_t tab = line.find('\t');
    std::string label = line.substr(0, tab);
    if (tab == std::string::npos || (label != "ham" && label != "spam") || tab + 1 >= line.size()) {
      *error = list_file + ":" + std::to_string(number) + ": expected \"ham|spam<TAB>path\"";
      return false;
    }
    std::string path = line.substr(tab + 1);
    if (!base_dir.empty() && path[0] != '/') path = base_dir + "/" + path;
    out->push_back({label == "spam", std::move(path)});
  }
  return true;
}

Quality measure_quality(const std::vector<Scored>& scored, double threshold) {
  Quality q;
  std::vector<double> ham_scores, spam_scores;
  for (const Scored& s : scored) {
    (s.spam ? spam_scores : ham_scores).push_back(s.score);
    if (s.spam && s.score < threshold) ++q.false_negatives;
    if (!s.spam && s.score >= threshold) ++q.false_positives;
  }
  q.ham = ham_scores.size();
  q.spam = spam_scores.size();
  if (q.ham == 0 || q.spam == 0) return q;
  std::sort(ham_scores.begin(), ham_scores.end());
  std::sort(spam_scores.begin(), spam_scores.end());
  // AUC: for each spam, the share of ham scored below it (ties one half).
  double wins = 0;
  for (double s : spam_scores) {
    auto below = std::lower_bound(ham_scores.begin(), ham_scores.end(), s) - ham_scores.begin();
    auto not_above = std::upper_bound(ham_scores.begin(), ham_scores.end(), s) - ham_scores.begin();
    wins += double(below) + 0.5 * double(not_above - below);
  }
  q.auc = wins / (double(q.ham) * double(q.spam));
  // The lowest cut that marks at most 0.1% of ham: just above the (allowed+1)-th highest ham.
  std::size_t allowed = q.ham / 1000;
  double cut = ham_scores[q.ham - 1 - allowed];
  auto caught = spam_scores.end() - std::upper_bound(spam_scores.begin(), spam_scores.end(), cut);
  q.fn_rate_at_fp_01 = double(q.spam - std::size_t(caught)) / double(q.spam);
  return q;
}

std::vector<Scored> train_and_score(const std::vector<LabeledPath>& train, const std::vector<LabeledPath>& test,
                                    std::size_t* unreadable) {
  auto scanner = Scanner::in_memory();
  std::string text;
  std::size_t missing = 0;
  for (const LabeledPath& m : train) {
    if (read_file(m.path, &text)) scanner->learn(text, m.spam);
    else ++missing;
  }
  scanner->refit();
  std::vector<Scored> scored;
  for (const LabeledPath& m : test) {
    if (read_file(m.path, &text)) scored.push_back({m.spam, scanner->scan(text).score});
    else ++missing;
  }
  if (unreadable) *unreadable = missing;
  return scored;
}

}  // namespace sw::classify
