// `spamwarden learn` trains the content model on mail an admin has sorted; `spamwarden scan`
// shows what the model makes of a message and why. Thin glue over sw::classify.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <iterator>
#include <memory>

#include "base/file_lock.h"
#include "classify/mail_source.h"
#include "classify/scanner.h"
#include "cli/commands.h"
#include "config/config.h"
#include "daemon/spamd_client.h"

namespace sw::cli {
namespace {

struct LearnArgs {
  bool spam = false, ham = false, forget = false;
  std::string state_dir;  // empty: the config's
  std::string toml = config::kDefaultConfigPath;
  std::vector<std::string> paths;
  double threshold = 5.0;
};

// The config (a missing default one is no error), said why when it cannot be read.
std::optional<config::Config> load_learn_config(const LearnArgs& a, const char* command) {
  std::vector<config::ConfigError> errors;
  auto c = config::load_config(a.toml, a.toml != config::kDefaultConfigPath, &errors);
  if (!c) {
    if (errors.empty()) fmt::print(stderr, "spamwarden {}: cannot read {}\n", command, a.toml);
    for (const auto& e : errors) fmt::print(stderr, "spamwarden {}: {}\n", command, config::format_error(a.toml, e));
  }
  return c;
}

std::string state_dir_of(const LearnArgs& a, const config::Config& c) {
  return a.state_dir.empty() ? c.state_dir : a.state_dir;
}

// The model the daemon scans with: in the state directory, or the fleet's in Redis when the
// config says [serve] content_model = "redis".
std::unique_ptr<classify::Scanner> open_model(const LearnArgs& a, const config::Config& config, const char* command) {
  std::string state_dir = state_dir_of(a, config);
  std::string error;
  classify::ScannerOptions options;
  options.threshold = a.threshold;
  std::unique_ptr<classify::Scanner> scanner;
  if (config.serve.content_model == "redis") {
    scanner =
        classify::Scanner::open_fleet(state_dir, options, {config.serve.redis, config.serve.redis_prefix}, &error);
    if (scanner && !scanner->sync_error().empty())
      fmt::print(stderr, "spamwarden {}: at start: {} (this machine's copy is used meanwhile)\n", command,
                 scanner->sync_error());
  } else {
    scanner = classify::Scanner::open(state_dir, options, &error);
  }
  if (!scanner) fmt::print(stderr, "spamwarden {}: {}\n", command, error);
  return scanner;
}

// What teaching each message did, for the summary line.
struct TaughtCounts {
  uint64_t changed = 0, relearned = 0, unchanged = 0, failed = 0;
  void note(classify::Taught t) {
    if (t == classify::Taught::Failed) ++failed;
    else if (!classify::changed(t)) ++unchanged;
    else ++changed, relearned += t == classify::Taught::Relearned;
  }
};

std::string summary(const LearnArgs& a, const TaughtCounts& t, const classify::SourceCounts& counts) {
  std::string what =
      a.forget ? fmt::format("forgot {} message{}", t.changed, t.changed == 1 ? "" : "s")
               : fmt::format("learned {} {} message{}", t.changed, a.spam ? "spam" : "ham", t.changed == 1 ? "" : "s");
  std::vector<std::string> notes;
  if (t.relearned) notes.push_back(fmt::format("{} of them moved from {}", t.relearned, a.spam ? "ham" : "spam"));
  if (t.unchanged)
    notes.push_back(
        fmt::format("{} {}", t.unchanged, a.forget ? "never learned" : "already learned, not counted again"));
  if (counts.errors) notes.push_back(fmt::format("{} unreadable", counts.errors));
  return fmt::format("{} from {} file{}{}", what, counts.files, counts.files == 1 ? "" : "s",
                     notes.empty() ? "" : fmt::format(" ({})", fmt::join(notes, ", ")));
}

// A running serve owns the model file and saves what it learns over it: the messages go to it
// as spamc -L sends them (at most the part the model reads of each), and it saves them. A serve
// that stops answering may have stopped before it saved what it took (at most once a minute, and
// when it stops; kill -9 loses the rest): nothing is said to be learned then, and the same learn
// again is harmless, as the messages the model has count once.
int learn_through_serve(const LearnArgs& a, const std::string& state_dir, const std::string& address,
                        const std::string& serve) {
  classify::SourceCounts counts;
  TaughtCounts taught;
  std::string error;
  bool not_allowed = false;
  auto as = a.forget ? daemon::TellAs::kForget : a.spam ? daemon::TellAs::kSpam : daemon::TellAs::kHam;
  size_t max_bytes = classify::ScannerOptions{}.max_message_bytes;
  for (const std::string& path : a.paths)
    classify::for_each_message(
        path,
        [&](std::string_view message) {
          if (taught.failed > 0) return void(++taught.failed);  // serve stopped answering: said once
          auto answer = daemon::tell_spamd(address, message.substr(0, max_bytes), as, 30000, &error);
          if (answer == proto::spamd::TellReply::kChanged) ++taught.changed;
          else if (answer == proto::spamd::TellReply::kUnchanged) ++taught.unchanged;
          else
            ++taught.failed, not_allowed = answer == proto::spamd::TellReply::kNotAllowed ||
                                           answer == proto::spamd::TellReply::kUnsaved;
        },
        [](const std::string& where, const std::string& why) {
          fmt::print(stderr, "spamwarden learn: {}: {} (skipped)\n", where, why);
        },
        &counts);
  const char* done = a.forget ? "forgotten" : "learned";
  if (not_allowed) {  // at the first message: nothing was taught
    bool unsaved = error.find("cannot save") != std::string::npos;
    fmt::print(stderr,
               "spamwarden learn: the content model in {} is held by spamwarden serve ({}), which refused: {}; nothing "
               "{} ({})\n",
               state_dir, serve, error, done,
               unsaved            ? fmt::format("give {} to the user serve runs as, and restart serve", state_dir)
               : ::geteuid() == 0 ? "add this user to spamd_tell_users and reload serve"
                                  : "run learn as root, or add this user to spamd_tell_users and reload serve");
    return kFailure;
  }
  if (taught.failed > 0 && taught.failed == counts.messages) {
    fmt::print(stderr,
               "spamwarden learn: the content model in {} is held by spamwarden serve ({}), which does not "
               "answer on {}: {}; nothing {}\n",
               state_dir, serve, address, error, done);
    return kFailure;
  }
  if (taught.failed > 0) {
    fmt::print(stderr,
               "spamwarden learn: spamwarden serve ({}, {}) stopped answering after {} of {} messages: {}; "
               "it keeps what it took only if it saved the model before it stopped: run this learn again (messages "
               "the model has count once)\n",
               serve, address, counts.messages - taught.failed, counts.messages, error);
    return kFailure;
  }
  fmt::print("{}, through the running spamwarden serve ({}, {}), which saves the model\n", summary(a, taught, counts),
             serve, address);
  return counts.errors ? kUsage : kOk;
}

int run_learn(const LearnArgs& a) {
  if (a.forget ? a.spam && a.ham : a.spam == a.ham) {
    fmt::print(stderr, "spamwarden learn: say which the mail is: --spam or --ham (--forget needs neither)\n");
    return kUsage;
  }
  if (a.forget && (a.spam || a.ham))
    fmt::print(stderr, "spamwarden learn: --forget finds the label each message was learned with: --{} is not used\n",
               a.spam ? "spam" : "ham");
  auto config = load_learn_config(a, "learn");
  if (!config) return kFailure;
  // One writer of the model file at a time (classify::Scanner::kLockFileName). A fleet's model
  // is Redis's journal, which every writer appends to: no lock.
  std::string state_dir = state_dir_of(a, *config);
  std::unique_ptr<FileLock> lock;
  std::error_code ec;
  auto kind = std::filesystem::status(state_dir, ec).type();
  // A state directory not there yet is made, as serve makes it: the model goes inside, under the
  // lock, not into a file of the directory's name. A path that is a file is a model file.
  if (config->serve.content_model != "redis" && kind == std::filesystem::file_type::not_found) {
    if (!std::filesystem::create_directories(state_dir, ec) && ec) {
      fmt::print(stderr, "spamwarden learn: cannot create {}: {}\n", state_dir, ec.message());
      return kFailure;
    }
    kind = std::filesystem::file_type::directory;
  }
  if (config->serve.content_model != "redis" && kind == std::filesystem::file_type::directory) {
    std::optional<FileLock::Holder> holder;
    std::string error;
    lock = FileLock::try_take(classify::Scanner::lock_path(state_dir), "", &holder, &error);
    if (!lock && holder) {
      if (auto address = daemon::serve_spamd_address(*holder))
        return learn_through_serve(a, state_dir, *address, holder->who());
      fmt::print(stderr,
                 "spamwarden learn: the content model in {} is being written by {} (another spamwarden "
                 "learn?): run this one when it is done\n",
                 state_dir, holder->who());
      return kFailure;
    }
  }
  auto scanner = open_model(a, *config, "learn");
  if (!scanner) return kFailure;
  classify::SourceCounts counts;
  TaughtCounts taught;
  std::string error;
  for (const std::string& path : a.paths)
    classify::for_each_message(
        path,
        [&](std::string_view message) {
          // A fleet's journal out of reach: what cannot be learned is counted, said once.
          if (taught.failed > 0) return void(++taught.failed);
          taught.note(a.forget ? scanner->forget(message, &error) : scanner->learn(message, a.spam, &error));
        },
        [](const std::string& where, const std::string& why) {
          fmt::print(stderr, "spamwarden learn: {}: {} (skipped)\n", where, why);
        },
        &counts);
  if (taught.failed > 0) {
    fmt::print(
        stderr, "spamwarden learn: {} of {} messages not {}: {}{}\n", taught.failed, counts.messages,
        a.forget ? "forgotten" : "learned", error,
        error.ends_with("timed out") ? " (Redis did not answer in time: the first of them may be in the journal)" : "");
    error.clear();
  }
  if (taught.changed > 0 && scanner->fleet()) scanner->refit();  // the snapshot it may store: what servers refit to
  if (taught.changed > 0 && !scanner->save(&error)) {
    fmt::print(stderr, "spamwarden learn: {}\n", error);
    // A fleet's messages are in the journal already: only this machine's copy was not written.
    if (!scanner->fleet()) return kFailure;
  }
  fmt::print("{}; the model now knows {} spam and {} ham\n", summary(a, taught, counts), scanner->spam_learned(),
             scanner->ham_learned());
  return taught.failed ? kFailure : counts.errors ? kUsage : kOk;
}

void print_verdict(const std::string& name, const classify::Verdict& v) {
  fmt::print("{}: {} score {:.1f} / {:.1f}\n", name, v.is_spam ? "spam" : "ham", v.score, v.threshold);
  for (const classify::Reason& r : v.reasons) fmt::print("  {:+6.2f}  {}\n", r.weight, r.name);
}

int run_scan(const LearnArgs& a) {
  auto config = load_learn_config(a, "scan");
  if (!config) return kFailure;
  auto scanner = open_model(a, *config, "scan");
  if (!scanner) return kFailure;
  if (scanner->fleet()) scanner->refit();  // as the servers do once the journal settles
  if (scanner->spam_learned() == 0 || scanner->ham_learned() == 0)
    fmt::print(stderr, "spamwarden scan: the model in {} has not learned both spam and ham yet (spamwarden learn)\n",
               scanner->model_file());
  bool any_spam = false, unreadable = false;
  for (const std::string& path : a.paths) {
    if (path == "-") {
      std::string text(std::istreambuf_iterator<char>(std::cin), {});
      if (text.empty()) {  // as an empty file: nothing to score
        fmt::print(stderr, "spamwarden scan: -: empty input\n");
        unreadable = true;
        continue;
      }
      classify::Verdict v = scanner->scan(text);
      any_spam |= v.is_spam;
      print_verdict("-", v);
      continue;
    }
    classify::SourceCounts counts;
    classify::for_each_message(
        path,
        [&](std::string_view message) {
          classify::Verdict v = scanner->scan(message);
          any_spam |= v.is_spam;
          print_verdict(counts.label(), v);
        },
        [&](const std::string& where, const std::string& why) {
          fmt::print(stderr, "spamwarden scan: {}: {}\n", where, why);
          unreadable = true;
        },
        &counts);
  }
  return unreadable ? kUsage : any_spam ? kFindings : kOk;
}

}  // namespace

void add_learn_commands(CLI::App& app, int* result) {
  auto args = std::make_shared<LearnArgs>();
  CLI::App* learn = app.add_subcommand("learn",
                                       "train the content filter on sorted mail (files, directories, "
                                       "mbox, maildir)");
  learn->add_flag("--spam", args->spam, "the mail given is spam");
  learn->add_flag("--ham", args->ham, "the mail given is wanted mail");
  learn->add_flag("--forget", args->forget,
                  "undo an earlier learn of the same mail (the label it was learned with is remembered)");
  learn->add_option("--state-dir", args->state_dir,
                    "state directory holding content-model.bin (default: the config's, /var/lib/spamwarden)");
  learn
      ->add_option("--config", args->toml,
                   "spamwarden's TOML: its state_dir, and [serve] content_model = \"redis\" for a fleet's model")
      ->capture_default_str();
  learn->add_option("paths", args->paths, "message files, directories, mbox files")->required();
  learn->callback([=] { *result = run_learn(*args); });

  auto scan_args = std::make_shared<LearnArgs>();
  CLI::App* scan = app.add_subcommand("scan", "score messages with the content filter and show the strongest reasons");
  scan->add_option("--state-dir", scan_args->state_dir,
                   "state directory holding content-model.bin (default: the config's, /var/lib/spamwarden)");
  scan->add_option("--config", scan_args->toml, "spamwarden's TOML (as for learn)")->capture_default_str();
  scan->add_option("--threshold", scan_args->threshold, "spam at this score or above")->check(kPositiveFactor);
  scan->add_option("paths", scan_args->paths, "message files, directories, mbox files, or - for standard input")
      ->required();
  scan->callback([=] { *result = run_scan(*scan_args); });
}

}  // namespace sw::cli
