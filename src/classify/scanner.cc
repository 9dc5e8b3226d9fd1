#include "classify/scanner.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "classify/gmime_library.h"
#include "classify/mime.h"
#include "classify/model.h"
#include "classify/tokenizer.h"

namespace sw::classify {
namespace {

std::string model_file_for(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return path + "/" + Scanner::kModelFileName;
  return path;
}

// The calling thread's set, refilled: each thread keeps its buffers (a few hundred KB at most)
// instead of allocating them afresh per message. Valid until the thread's next call.
const TokenSet& features_of(std::string_view raw, const ScannerOptions& options) {
  if (raw.size() > options.max_message_bytes) raw = raw.substr(0, options.max_message_bytes);
  thread_local TokenSet tokens;
  tokenize(parse_message(raw), &tokens);
  return tokens;
}

}  // namespace

Scanner::Scanner(const ScannerOptions& options, std::string model_file, std::unique_ptr<Model> model)
    : options_(options), model_file_(std::move(model_file)), model_(std::move(model)) {}
Scanner::~Scanner() = default;

std::unique_ptr<Scanner> Scanner::open(const std::string& path, const ScannerOptions& options, std::string* error) {
  if (!load_gmime(error)) return nullptr;
  std::string file = model_file_for(path);
  auto model = std::make_unique<Model>();
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      *error = "cannot read " + file + ": " + std::strerror(errno);
      return nullptr;
    }
  } else if (!model->load(file, error)) {
    return nullptr;
  }
  return std::unique_ptr<Scanner>(new Scanner(options, file, std::move(model)));
}

std::unique_ptr<Scanner> Scanner::in_memory(const ScannerOptions& options) {
  return std::unique_ptr<Scanner>(new Scanner(options, "", std::make_unique<Model>()));
}

Verdict Scanner::scan(std::string_view raw_message) const {
  const TokenSet& tokens = features_of(raw_message, options_);
  ModelScore s;
  {
    std::shared_lock lock(mutex_);
    s = model_->score(tokens, options_.max_reasons);
  }
  Verdict v;
  v.score = s.score;
  v.threshold = options_.threshold;
  v.is_spam = v.score >= v.threshold;
  v.reasons = std::move(s.reasons);
  return v;
}

void Scanner::learn(std::string_view raw_message, bool spam) {
  const TokenSet& tokens = features_of(raw_message, options_);
  std::unique_lock lock(mutex_);
  model_->learn(tokens, spam, +1);
}

void Scanner::unlearn(std::string_view raw_message, bool spam) {
  const TokenSet& tokens = features_of(raw_message, options_);
  std::unique_lock lock(mutex_);
  model_->learn(tokens, spam, -1);
}

void Scanner::refit() {
  std::vector<Example> examples;
  LogisticParams params;
  {
    std::shared_lock lock(mutex_);
    examples = model_->examples();
    params = model_->params().logistic;
  }
  std::vector<const Example*> all;
  all.reserve(examples.size());
  for (const Example& e : examples) all.push_back(&e);
  LogisticModel fitted(params);
  fitted.fit(all);
  std::unique_lock lock(mutex_);
  model_->set_logistic(std::move(fitted));
}

bool Scanner::save(std::string* error) {
  if (model_file_.empty()) {
    *error = "this model is kept in memory only";
    return false;
  }
  refit();
  std::shared_lock lock(mutex_);
  return model_->save(model_file_, error);
}

std::size_t Scanner::spam_learned() const {
  std::shared_lock lock(mutex_);
  return model_->spam_messages();
}
std::size_t Scanner::ham_learned() const {
  std::shared_lock lock(mutex_);
  return model_->ham_messages();
}

}  // namespace sw::classify
