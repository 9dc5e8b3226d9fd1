// content_quality: k-fold cross-validation of the content model on a labelled list (the train
// half's train.txt), and the figures bench/content/quality.sh reports: FP and FN at the
// threshold, AUC, FN at FP <= 0.1%, training time, CPU per scanned message.
//
//   content_quality --list train.txt --base DIR [--folds 5] [--write-folds DIR [--folds-only]] [--errors]
//                   [--sweep | --lr-sweep | --mix-sweep]   (parameter and alternative-model sweeps)
//                   [--strength S] [--min-dev D] [--max-features N] [--max-repeats R] [--ham-weight H]
//                   [--min-count C] [--statistics-weight W]
//                   [--lr-rate R] [--lr-damping D] [--lr-epochs E] [--lr-bits B] [--lr-seed S]   (one model's
//                   parameters)
// It also prints FP/FN with 5.0 placed at other combined log-odds: the calibration's evidence.
//
// Folds are stratified and deterministic: within each label/subset directory, the i-th listed
// message goes to fold i % k. --write-folds writes them as fold<i>.txt ("<label>\t<path>").
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "classify/eval.h"
#include "classify/mime.h"
#include "classify/model.h"
#include "classify/scanner.h"
#include "classify/tokenizer.h"

using namespace sw::classify;

namespace {

struct Message {
  LabeledPath source;
  std::string listed;  // path as listed
  std::string raw;
  TokenSet tokens;
  int fold = 0;
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

std::string directory_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

void assign_folds(std::vector<Message>& messages, int k) {
  std::map<std::string, int> next;
  for (Message& m : messages) m.fold = next[directory_of(m.listed)]++ % k;
}

struct Run {
  std::vector<Scored> scored;
  std::vector<int> folds;        // the fold each score came from
  std::vector<Scored> log_odds;  // the combined log-odds behind each score (for calibration)
  std::vector<std::string> names;
  std::vector<std::string> explanations;  // the strongest features of each misclassified message
};

// Hashed-feature logistic regression: binary features scaled by 1/sqrt(n), shuffled SGD with a
// decaying rate and L2, `epochs` passes.
struct LrParams {
  int bits = 22;
  double rate = 0.5;
  int epochs = 5;
  double l2 = 1e-6;
  bool normalize = true;
};
Run cross_validate_lr(const std::vector<Message>& messages, int k, const LrParams& lp) {
  Run run;
  const int kBits = lp.bits;
  for (int fold = 0; fold < k; ++fold) {
    std::vector<float> w(std::size_t(1) << kBits, 0.0f);
    double bias = 0;
    auto scale_of = [&](const Message& m) {
      return lp.normalize ? 1.0 / std::sqrt(double(std::max<std::size_t>(1, m.tokens.tokens().size()))) : 1.0;
    };
    auto margin = [&](const Message& m) {
      double z = 0;
      for (const Token& t : m.tokens.tokens()) z += w[t.hash >> (64 - kBits)];
      return bias + z * scale_of(m);
    };
    std::vector<const Message*> order;
    for (const Message& m : messages)
      if (m.fold != fold) order.push_back(&m);
    std::mt19937 shuffle_rng(42);
    std::size_t step = 0;
    double decay = 1;
    for (int e = 0; e < lp.epochs; ++e) {
      std::shuffle(order.begin(), order.end(), shuffle_rng);
      for (const Message* mp : order) {
        const Message& m = *mp;
        double rate = lp.rate / (1 + double(step++) / double(order.size()));
        decay *= (1 - rate * lp.l2);
        double p = 1 / (1 + std::exp(-margin(m)));
        double g = rate * ((m.source.spam ? 1.0 : 0.0) - p);
        bias += g * 0.1;
        float gs = float(g * scale_of(m));
        for (const Token& t : m.tokens.tokens()) w[t.hash >> (64 - kBits)] += gs;
      }
    }
    for (const Message& m : messages)
      if (m.fold == fold) {
        run.scored.push_back({m.source.spam, margin(m)});
        run.folds.push_back(fold);
        run.names.push_back(m.listed);
        run.explanations.push_back("");
      }
  }
  return run;
}

// --errors lists the spam under 5.0 and the ham from this score up: the ham that set the tail.
constexpr double kErrorListHamScore = 2.0;

Run cross_validate(const std::vector<Message>& messages, int k, const ModelParams& params) {
  Run run;
  for (int fold = 0; fold < k; ++fold) {
    Model model(params);
    for (const Message& m : messages)
      if (m.fold != fold) model.learn(m.tokens, m.source.spam, +1);
    model.refit();
    for (const Message& m : messages)
      if (m.fold == fold) {
        ModelScore s = model.score(m.tokens, 8);
        run.scored.push_back({m.source.spam, s.score});
        run.log_odds.push_back({m.source.spam, s.log_odds});
        run.folds.push_back(fold);
        run.names.push_back(m.listed);
        std::string why;
        if (m.source.spam ? s.score < 5.0 : s.score >= kErrorListHamScore)
          for (const Reason& r : s.reasons) why += "    " + r.name + " " + std::to_string(r.weight) + "\n";
        run.explanations.push_back(why);
      }
  }
  return run;
}

void print_quality(const char* label, const Quality& q) {
  std::printf("%-34s FP %5.2f%% (%zu/%zu)  FN %5.2f%% (%zu/%zu)  AUC %.5f  FN@FP<=0.1%% %5.2f%%\n", label,
              100 * q.fp_rate(), q.false_positives, q.ham, 100 * q.fn_rate(), q.false_negatives, q.spam, q.auc,
              100 * q.fn_rate_at_fp_01);
}

}  // namespace

int main(int argc, char** argv) {
  std::string list, base, folds_dir;
  int k = 5;
  bool sweep = false, show_errors = false, lr_sweep = false, mix_sweep = false, folds_only = false;
  ModelParams params;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--list") list = value();
    else if (a == "--base") base = value();
    else if (a == "--folds") k = std::max(2, std::atoi(value().c_str()));
    else if (a == "--write-folds") folds_dir = value();
    else if (a == "--folds-only") folds_only = true;  // write the fold lists and stop (bench/content/run.sh)
    else if (a == "--sweep") sweep = true;
    else if (a == "--errors") show_errors = true;
    else if (a == "--lr-sweep") lr_sweep = true;    // the logistic-regression alternative
    else if (a == "--mix-sweep") mix_sweep = true;  // chi-square and logistic regression averaged
    else if (a == "--strength") params.strength = std::atof(value().c_str());
    else if (a == "--min-dev") params.min_deviation = std::atof(value().c_str());
    else if (a == "--max-features") params.max_features = std::size_t(std::atoi(value().c_str()));
    else if (a == "--ham-weight") params.ham_weight = std::atof(value().c_str());
    else if (a == "--min-count") params.min_count = std::atof(value().c_str());
    else if (a == "--no-statistics-pairs") params.statistics_pairs = false;
    else if (a == "--max-repeats") params.max_repeats = uint32_t(std::atoi(value().c_str()));
    else if (a == "--statistics-weight") params.statistics_weight = std::atof(value().c_str());
    else if (a == "--lr-rate") params.logistic.rate = std::atof(value().c_str());
    else if (a == "--lr-damping") params.logistic.damping = std::atof(value().c_str());
    else if (a == "--lr-epochs") params.logistic.epochs = std::atoi(value().c_str());
    else if (a == "--lr-bits") params.logistic.bits = std::atoi(value().c_str());
    else if (a == "--lr-seed") params.logistic.seed = uint32_t(std::atoi(value().c_str()));
    else {
      std::fprintf(stderr,
                   "usage: %s --list FILE --base DIR [--folds K] [--write-folds DIR] [--sweep|--lr-sweep|--mix-sweep] "
                   "[--errors]\n",
                   argv[0]);
      return 2;
    }
  }
  std::vector<LabeledPath> paths;
  std::string error;
  if (list.empty() || !read_labeled_list(list, base, &paths, &error)) {
    std::fprintf(stderr, "content_quality: %s\n", list.empty() ? "--list is required" : error.c_str());
    return 2;
  }
  std::vector<Message> messages;
  for (const LabeledPath& p : paths) {
    std::ifstream in(p.path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "content_quality: cannot read %s\n", p.path.c_str());
      return 2;
    }
    std::ostringstream b;
    b << in.rdbuf();
    std::string listed = base.empty() ? p.path : p.path.substr(base.size() + 1);
    messages.push_back({p, listed, std::move(b).str(), {}, 0});
  }
  assign_folds(messages, k);
  if (!folds_dir.empty()) {
    for (int fold = 0; fold < k; ++fold) {
      std::ofstream out(folds_dir + "/fold" + std::to_string(fold) + ".txt");
      for (const Message& m : messages)
        if (m.fold == fold) out << (m.source.spam ? "spam" : "ham") << '\t' << m.listed << '\n';
    }
  }
  if (folds_only) return 0;

  // GMime's share of the cost: parsing alone, over every message.
  double g0 = cpu_seconds();
  std::size_t text_bytes = 0;
  for (const Message& m : messages)
    text_bytes += parse_message(std::string_view(m.raw).substr(0, 512 * 1024)).text.size();
  double mime_us = 1e6 * (cpu_seconds() - g0) / double(messages.size());
  // Parse and tokenize once; the folds reuse the features.
  double t0 = cpu_seconds();
  for (Message& m : messages) m.tokens = tokenize(parse_message(std::string_view(m.raw).substr(0, 512 * 1024)));
  double parse_us = 1e6 * (cpu_seconds() - t0) / double(messages.size());

  if (mix_sweep || lr_sweep) {
    Run nb = cross_validate(messages, k, params);
    for (double rate : {30.0})
      for (int epochs : {5, 10})
        for (int bits : {20, 22}) {
          LrParams lp;
          lp.rate = rate, lp.epochs = epochs, lp.bits = bits;
          Run lr = cross_validate_lr(messages, k, lp);
          char label[80];
          std::snprintf(label, sizeof label, "lr rate=%.2f ep=%d bits=%d", rate, epochs, bits);
          print_quality(label, measure_quality(lr.scored, 0.0));
          for (int fold = 0; fold < k; ++fold) {
            std::vector<Scored> one;
            for (std::size_t i = 0; i < lr.scored.size(); ++i)
              if (lr.folds[i] == fold) one.push_back(lr.scored[i]);
            print_quality("   fold", measure_quality(one, 0.0));
          }
          if (!mix_sweep) continue;
          for (double w : {1.0, 2.0, 3.0}) {
            std::vector<Scored> mixed;
            for (std::size_t i = 0; i < nb.scored.size(); ++i)
              mixed.push_back({nb.scored[i].spam, w * (nb.scored[i].score - 5) / 5 + lr.scored[i].score});
            std::snprintf(label, sizeof label, "  mix w_nb=%.1f", w);
            print_quality(label, measure_quality(mixed, 0.0));
            for (int fold = 0; fold < k; ++fold) {
              std::vector<Scored> one;
              for (std::size_t i = 0; i < mixed.size(); ++i)
                if (lr.folds[i] == fold) one.push_back(mixed[i]);
              print_quality("     fold", measure_quality(one, 0.0));
            }
          }
        }
    return 0;
  }
  if (sweep) {
    for (double strength : {0.1, 0.2, 0.35, 0.5, 1.0})
      for (double dev : {0.0, 0.05, 0.1, 0.2, 0.3})
        for (std::size_t maxf : {50, 100, 150, 200, 400, 100000}) {
          ModelParams p = params;
          p.strength = strength, p.min_deviation = dev, p.max_features = maxf;
          Quality q = measure_quality(cross_validate(messages, k, p).scored, 5.0);
          char label[80];
          std::snprintf(label, sizeof label, "s=%.2f dev=%.2f max=%zu", strength, dev, maxf);
          print_quality(label, q);
        }
    return 0;
  }

  Run run = cross_validate(messages, k, params);
  Quality q = measure_quality(run.scored, 5.0);
  std::printf("content model, %d folds of %zu messages (%zu ham, %zu spam)\n", k, messages.size(), q.ham, q.spam);
  print_quality("at threshold 5.0", q);
  for (int fold = 0; fold < k; ++fold) {
    std::vector<Scored> one;
    for (std::size_t i = 0; i < run.scored.size(); ++i)
      if (run.folds[i] == fold) one.push_back(run.scored[i]);
    char label[40];
    std::snprintf(label, sizeof label, "  fold %d at threshold 5.0", fold);
    print_quality(label, measure_quality(one, 5.0));
  }
  // Where else the threshold could sit, from the same scores (the calibration's evidence).
  for (double t : {0.5, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 15.0}) {
    char label[40];
    std::snprintf(label, sizeof label, "at threshold %.1f", t);
    print_quality(label, measure_quality(run.scored, t));
  }
  // Calibration: FP and FN if 5.0 sat at each combined log-odds (ModelParams::offset).
  for (double offset = -1; offset <= 30.01; offset += offset < 9.9 ? 0.5 : 4) {
    char label[60];
    std::snprintf(label, sizeof label, "at log-odds offset %.1f", offset);
    print_quality(label, measure_quality(run.log_odds, offset));
    for (int fold = 0; fold < k; ++fold) {
      std::vector<Scored> one;
      for (std::size_t i = 0; i < run.log_odds.size(); ++i)
        if (run.folds[i] == fold) one.push_back(run.log_odds[i]);
      std::snprintf(label, sizeof label, "    fold %d", fold);
      print_quality(label, measure_quality(one, offset));
    }
  }
  if (show_errors) {
    for (std::size_t i = 0; i < run.scored.size(); ++i) {
      const Scored& s = run.scored[i];
      if (s.spam ? s.score < 5.0 : s.score >= kErrorListHamScore)
        std::printf("  %s %s %.3f\n%s", s.spam ? "FN" : "FP", run.names[i].c_str(), s.score,
                    run.explanations[i].c_str());
    }
  }

  // The whole list through the real Scanner: training time, scan CPU, model size.
  auto scanner = Scanner::in_memory();
  double train_start = cpu_seconds();
  auto wall_start = std::chrono::steady_clock::now();
  for (const Message& m : messages) scanner->learn(m.raw, m.source.spam);
  scanner->refit();
  double train_cpu = cpu_seconds() - train_start;
  double train_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  double scan_start = cpu_seconds();
  std::size_t flagged = 0;
  for (const Message& m : messages) flagged += scanner->scan(m.raw).is_spam;
  double scan_us = 1e6 * (cpu_seconds() - scan_start) / double(messages.size());
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf(
      "train on all %zu: %.2f s wall, %.2f s CPU; scan %.0f us CPU/msg (parse+tokenize %.0f us); "
      "MIME alone %.0f us; max RSS %ld MB\n",
      messages.size(), train_wall, train_cpu, scan_us, parse_us, mime_us, u.ru_maxrss / 1024);
  (void)text_bytes;
  (void)flagged;
  return 0;
}
