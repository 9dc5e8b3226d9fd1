// Measuring a filter: labelled message lists (train.txt's "<label>\t<path>" lines), k folds of
// them, and the figures the benchmark reports from (label, score) pairs.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace sw::classify {

struct LabeledPath {
  bool spam = false;
  std::string path;  // as listed; resolved against the list's base directory by the reader
};

// Reads "<ham|spam>\t<path>" lines (blank lines and '#' comments skipped); paths are joined to
// base_dir. Returns false with *error naming the first bad line.
bool read_labeled_list(const std::string& list_file, const std::string& base_dir, std::vector<LabeledPath>* out,
                       std::string* error);

struct Scored {
  bool spam = false;
  double score = 0;
};

struct Quality {
  std::size_t ham = 0, spam = 0;
  std::size_t false_positives = 0, false_negatives = 0;  // at the threshold
  double auc = 0;                // ties count one half
  double fn_rate_at_fp_01 = 0;   // FN rate at the best cut that marks at most 0.1% of ham as spam
  double fp_rate() const { return ham ? double(false_positives) / double(ham) : 0; }
  double fn_rate() const { return spam ? double(false_negatives) / double(spam) : 0; }
};

Quality measure_quality(const std::vector<Scored>& scored, double threshold);

// Trains a fresh in-memory scanner on `train`, scores `test`; *unreadable counts files that
// could not be read (skipped). Scores come back in test's order.
std::vector<Scored> train_and_score(const std::vector<LabeledPath>& train, const std::vector<LabeledPath>& test,
                                    std::size_t* unreadable = nullptr);

}  // namespace sw::classify
