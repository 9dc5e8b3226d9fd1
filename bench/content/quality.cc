// content_quality: k-fold cross-validation of the content model on a labelled list (the train
// half's train.txt), and the figures bench/content/quality.sh reports: FP and FN at the
// threshold, AUC, FN at FP <= 0.1%, training time, CPU per scanned message.
//
//   content_quality --list train.txt --base DIR [--folds 2] [--write-folds DIR] [--sweep]
//
// Folds are stratified and deterministic: within each label/subset directory, the i-th listed
// message goes to fold i % k. --write-folds writes them as fold<i>.txt ("<label>\t<path>").
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
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
  std::vector<std::string> names;
};

Run cross_validate(const std::vector<Message>& messages, int k, const ModelParams& params) {
  Run run;
  for (int fold = 0; fold < k; ++fold) {
    Model model(params);
    for (const Message& m : messages)
      if (m.fold != fold) model.learn(m.tokens, m.source.spam, +1);
    for (const Message& m : messages)
      if (m.fold == fold) {
        run.scored.push_back({m.source.spam, model.score(m.tokens, 0).score});
        run.names.push_back(m.listed);
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
  int k = 2;
  bool sweep = false, show_errors = false;
  ModelParams params;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--list") list = value();
    else if (a == "--base") base = value();
    else if (a == "--folds") k = std::max(2, std::atoi(value().c_str()));
    else if (a == "--write-folds") folds_dir = value();
    else if (a == "--sweep") sweep = true;
    else if (a == "--errors") show_errors = true;
    else if (a == "--strength") params.strength = std::atof(value().c_str());
    else if (a == "--min-dev") params.min_deviation = std::atof(value().c_str());
    else if (a == "--max-features") params.max_features = std::size_t(std::atoi(value().c_str()));
    else {
      std::fprintf(stderr, "usage: %s --list FILE --base DIR [--folds K] [--write-folds DIR] [--sweep] [--errors]\n",
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

  // Parse and tokenize once; the folds reuse the features.
  double t0 = cpu_seconds();
  for (Message& m : messages) m.tokens = tokenize(parse_message(std::string_view(m.raw).substr(0, 512 * 1024)));
  double parse_us = 1e6 * (cpu_seconds() - t0) / double(messages.size());

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
  if (show_errors) {
    for (std::size_t i = 0; i < run.scored.size(); ++i) {
      const Scored& s = run.scored[i];
      if (s.spam != (s.score >= 5.0)) std::printf("  %s %s %.3f\n", s.spam ? "FN" : "FP", run.names[i].c_str(), s.score);
    }
  }

  // The whole list through the real Scanner: training time, scan CPU, model size.
  auto scanner = Scanner::in_memory();
  double train_start = cpu_seconds();
  auto wall_start = std::chrono::steady_clock::now();
  for (const Message& m : messages) scanner->learn(m.raw, m.source.spam);
  double train_cpu = cpu_seconds() - train_start;
  double train_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  double scan_start = cpu_seconds();
  std::size_t flagged = 0;
  for (const Message& m : messages) flagged += scanner->scan(m.raw).is_spam;
  double scan_us = 1e6 * (cpu_seconds() - scan_start) / double(messages.size());
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf("train on all %zu: %.2f s wall, %.2f s CPU; scan %.0f us CPU/msg (parse+tokenize %.0f us); "
              "max RSS %ld MB\n",
              messages.size(), train_wall, train_cpu, scan_us, parse_us, u.ru_maxrss / 1024);
  (void)flagged;
  return 0;
}
