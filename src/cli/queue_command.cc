// `spamwarden queue`: who fills the Exim queue, select one actor's messages, act on them safely
// (freeze/thaw, quarantine-then-remove, restore), and a Nagios check. Thin glue over sw::queue.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>

#include "base/civil_time.h"
#include "base/json_text.h"
#include "base/text.h"
#include "cli/commands.h"
#include "config/config.h"
#include "contain/held_mail.h"
#include "daemon/action_feedback.h"
#include "daemon/spamd_client.h"
#include "queue/actions.h"
#include "queue/audit_log.h"
#include "queue/bounce_mailboxes.h"
#include "queue/queue_check.h"
#include "queue/quarantine.h"
#include "queue/report_format.h"
#include "queue/selection.h"
#include "queue/summary.h"
#include "spool/spool_scanner.h"
#include "store/hold_store.h"

namespace sw::cli {
namespace {

struct QueueArgs {
  std::string spool, config, exim, state_dir = queue::kDefaultStateDir;
  bool json = false, yes = false, all = false, sizes = false;
  size_t top = 10, threads = 0;
  std::string io = "auto";
  queue::Thresholds thresholds;
  queue::SelectionArgs selection;
  queue::CheckThresholds check;
  std::string warn_age, crit_age;
  std::string batch;
  bool include_held = false;  // thaw: also mail an active hold covers
  std::string toml = config::kDefaultConfigPath;
  bool learn_from_actions = false;  // [content]: removed mail is taught as spam
  std::string content_spamd;
};

void print_error(const std::string& text) { fmt::print(stderr, "spamwarden queue: {}\n", text); }

void report_feedback(const daemon::FeedbackResult& fed, const char* as) {
  for (const std::string& error : fed.errors) print_error("not learned: " + error);
  fmt::print("learned {} message(s) as {}{} ([content] learn_from_actions)\n", fed.learned, as,
             fed.already_learned ? fmt::format(", {} of them already", fed.already_learned) : "");
}

// spamwarden's TOML (the one `watch` reads): what its [paths] set are this command's defaults;
// the command line wins. A missing default file is no error, a missing --config file is.
bool apply_config(QueueArgs& a, std::string* why) {
  std::vector<config::ConfigError> errors;
  auto c = config::load_config(a.toml, a.toml != config::kDefaultConfigPath, &errors);
  if (!c) {
    *why = errors.empty() ? "cannot read " + a.toml : config::format_error(a.toml, errors.front());
    return false;
  }
  config::Config machine = config::default_config();  // values the file did not set
  if (a.config.empty()) a.config = c->exim_config;
  if (a.exim.empty() && c->exim_binary != machine.exim_binary) a.exim = c->exim_binary;
  if (a.spool.empty() && a.config.empty() && c->spool_dir != machine.spool_dir) a.spool = c->spool_dir;
  if (a.state_dir == queue::kDefaultStateDir) a.state_dir = c->state_dir;
  a.learn_from_actions = c->learn_from_actions;
  a.content_spamd = c->content_spamd;
  return true;
}

std::optional<std::string> resolve_spool(const QueueArgs& a) {
  std::string why;
  auto dir = spool::find_spool_directory(a.spool, a.config, &why);
  if (!dir) print_error(why);
  return dir;
}

spool::ReaderOptions reader_options(const QueueArgs& a, bool body_sizes) {
  spool::ReaderOptions options;
  options.io = a.io == "syscalls"   ? spool::IoMode::syscalls
               : a.io == "io_uring" ? spool::IoMode::io_uring
                                    : spool::IoMode::automatic;
  options.body_sizes = body_sizes;
  return options;
}

// nullopt with *why when the queue cannot be read whole: a partial count is no count.
std::optional<queue::QueueReport> build_queue_report(const QueueArgs& a, const std::string& spool_dir,
                                                     std::string* why) {
  spool::SpoolListing messages = spool::list_spool(spool_dir);
  if (*why = messages.error(); !why->empty()) return std::nullopt;
  size_t threads = spool::scan_threads_for(messages.size(), a.threads);
  int64_t now = ::time(nullptr);
  std::vector<queue::SummaryAccumulator> accumulators(threads, queue::SummaryAccumulator(now, a.thresholds));
  std::vector<spool::ScanSink*> sinks;
  for (auto& accumulator : accumulators) sinks.push_back(&accumulator);
  spool::ScanCounts counts = spool::scan_messages(messages, sinks, reader_options(a, a.sizes));
  if (a.io == "io_uring" && counts.io_uring_threads < sinks.size()) {
    *why = "cannot read the spool with --io io_uring: " +
           (counts.io_uring_error.empty() ? "io_uring not used" : counts.io_uring_error);
    return std::nullopt;
  }
  for (size_t i = 1; i < accumulators.size(); ++i) accumulators[0].merge(accumulators[i]);
  accumulators[0].vanished = counts.vanished;
  queue::note_bounces_into_mailboxes_here(accumulators[0], spool_dir, a.thresholds.backscatter_floor);
  return queue::build_report(accumulators[0], a.thresholds, a.top == 0 ? SIZE_MAX : a.top);
}

int run_summary(const QueueArgs& a) {
  auto spool_dir = resolve_spool(a);
  if (!spool_dir) return kFailure;
  std::string why;
  auto report = build_queue_report(a, *spool_dir, &why);
  if (!report) {
    print_error(why);
    return kFailure;
  }
  if (a.json) std::cout << json_text(queue::report_to_json(*report), 1) << "\n";
  else std::cout << queue::report_to_text(*report, *spool_dir);
  std::cout.flush();
  if (report->unreadable > 0) return kUsage;
  return report->findings.empty() ? kOk : kFindings;
}

std::optional<queue::Selection> compile(const QueueArgs& a, bool action) {
  std::string error;
  auto selection = queue::compile_selection(a.selection, &error);
  if (!selection) {
    print_error(error);
    return std::nullopt;
  }
  if (action && selection->selects_everything() && !a.all) {
    print_error("no selection given: name ids or conditions, or pass --all to act on the whole queue");
    return std::nullopt;
  }
  return selection;
}

// An empty result that may have missed what was meant (--script naming a directory) is said on
// stderr, never left silent. True when it was.
bool explain_no_match(const queue::Selection& selection, const queue::SelectionResult& result) {
  if (!result.messages.empty()) return false;
  std::string why = queue::explain_empty_selection(selection);
  if (!why.empty()) print_error("nothing matched --script " + selection.args.script + ": " + why);
  return !why.empty();
}

// --script DIR that matched by file name alone says so (on stdout in a dry run, beside its list).
void warn_file_name_matches(const queue::Selection& selection, const queue::SelectionResult& result,
                            bool on_stdout = false) {
  std::string warning = queue::describe_file_name_matches(selection, result.messages);
  if (warning.empty()) return;
  if (on_stdout) fmt::print("note: {}\n", printable(warning));
  else print_error(printable(warning));
}

// A selection from a partly unreadable spool is no answer: said, and nothing is acted on.
bool queue_unreadable(const queue::SelectionResult& result) {
  if (result.spool_error.empty()) return false;
  print_error("could not read the queue: " + result.spool_error);
  return true;
}

nlohmann::json selected_json(const queue::SelectedMessage& m) {
  nlohmann::json j = {{"id", m.location.id}, {"readable", m.readable}, {"moved_frozen", m.location.moved_frozen}};
  if (!m.readable) {
    j["problem"] = m.problem;
    return j;
  }
  j.update({{"sender", m.sender},
            {"auth_account", m.auth_id},
            {"local_user", m.local_user},
            {"recipients", m.recipients},
            {"frozen", m.frozen},
            {"age_seconds", m.age_seconds},
            {"body_size", m.body_size},
            {"subject", m.subject}});
  return j;
}

int run_list(const QueueArgs& a) {
  auto spool_dir = resolve_spool(a);
  if (!spool_dir) return kFailure;
  auto selection = compile(a, false);
  if (!selection) return kUsage;
  queue::SelectionResult result =
      queue::select_messages(*spool_dir, *selection, ::time(nullptr), a.threads, reader_options(a, a.json));
  if (queue_unreadable(result)) return kFailure;
  for (const std::string& id : result.missing_ids) print_error("not in the queue: " + id);
  warn_file_name_matches(*selection, result);
  if (a.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : result.messages) list.push_back(selected_json(m));
    std::cout << json_text(list, 1) << "\n";
  } else {
    for (const auto& m : result.messages) std::cout << m.location.id << "\n";
  }
  if (result.skipped_unreadable > 0)
    print_error(fmt::format("{} unreadable messages were not considered (name their ids to include them)",
                            result.skipped_unreadable));
  if (!result.not_checked.empty()) print_error(queue::describe_not_checked(result.not_checked));
  if (!result.missing_ids.empty() || !result.not_checked.empty()) return kUsage;
  return explain_no_match(*selection, result) ? kFindings : kOk;
}

// Messages an action may touch: readable ones, plus unreadable ones the admin named by id.
// Those a regex could not check are not among them, and are named.
std::vector<queue::SelectedMessage> actionable(const queue::SelectionResult& result) {
  if (!result.not_checked.empty()) print_error(queue::describe_not_checked(result.not_checked) + ", left alone");
  std::vector<queue::SelectedMessage> out;
  for (const auto& m : result.messages)
    if (m.location.moved_frozen)
      print_error(m.location.id + " is in Finput/ (moved frozen); exim cannot act on it, skipped");
    else out.push_back(m);
  return out;
}

void audit(const QueueArgs& a, nlohmann::json record) {
  std::string error;
  if (!queue::append_audit_record(a.state_dir, std::move(record), queue::current_operator(), &error))
    print_error("audit log: " + error);
}

std::optional<queue::ProcessEximRunner> make_exim(const QueueArgs& a) {
  std::string binary = queue::find_exim_binary(a.exim);
  if (binary.empty()) {
    print_error(a.exim.empty() ? "no exim binary found (tried exim4 and exim); use --exim PATH"
                               : "cannot execute " + a.exim);
    return std::nullopt;
  }
  return queue::ProcessEximRunner(binary, a.config);
}

// exim -M acts on the spool of its own config: refuse a spool that is not that one.
bool spool_belongs_to_exim(queue::EximRunner& exim, const std::string& spool_dir) {
  std::string error;
  if (queue::verify_exim_spool(exim, spool_dir, &error)) return true;
  print_error(error);
  return false;
}

// Frozen mail that an active hold of `watch` covers: thawing it by hand would deliver what is
// still held (`release` lifts the hold and thaws together). Ids and one hold covering each;
// nullopt when the store exists but cannot be read (then nobody can say what is held).
std::optional<std::map<std::string, std::string>> held_mail(const QueueArgs& a, const std::string& spool_dir) {
  std::map<std::string, std::string> held;
  std::string path = store::store_path(a.state_dir), error;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return held;  // no watch here: nothing is held
  auto store = store::HoldStore::open(path, &error);
  auto holds = store ? store->active_holds(&error) : std::nullopt;
  if (!holds) {
    print_error("cannot tell which mail is held: " + error);
    return std::nullopt;
  }
  contain::CoverageScan scan = contain::scan_coverage(spool_dir, *holds, true, ::time(nullptr));
  if (!scan.error.empty()) {
    print_error("cannot tell which mail is held: could not read the queue: " + scan.error);
    return std::nullopt;
  }
  for (const auto& m : scan.messages) held[m.location.id] = detect::format_actor_ref((*holds)[m.holds.front()].actor);
  return held;
}

int run_freeze_or_thaw(const QueueArgs& a, queue::EximAction action) {
  const char* verb = action == queue::EximAction::freeze ? "freeze" : "thaw";
  auto spool_dir = resolve_spool(a);
  if (!spool_dir) return kFailure;
  auto selection = compile(a, true);
  if (!selection) return kUsage;
  auto exim = make_exim(a);
  if (!exim || !spool_belongs_to_exim(*exim, *spool_dir)) return kFailure;
  auto result = queue::select_messages(*spool_dir, *selection, ::time(nullptr), a.threads, reader_options(a, false));
  if (queue_unreadable(result)) return kFailure;
  explain_no_match(*selection, result);
  warn_file_name_matches(*selection, result);
  std::map<std::string, std::string> held;
  if (action == queue::EximAction::thaw && !a.include_held) {
    auto found = held_mail(a, *spool_dir);
    if (!found) return kFailure;
    held = std::move(*found);
  }
  std::vector<std::string> ids;
  size_t still_held = 0;
  std::string held_by;
  for (const auto& m : actionable(result)) {
    if (m.readable && m.frozen != (action == queue::EximAction::thaw)) continue;
    if (auto h = held.find(m.location.id); h != held.end()) {
      ++still_held, held_by = h->second;
      continue;
    }
    ids.push_back(m.location.id);
  }
  if (still_held)
    print_error(
        fmt::format("{} selected messages left frozen: an active hold covers them ({}); "
                    "'spamwarden release {}' lifts it and thaws them, --include-held thaws them anyway",
                    still_held, printable(held_by), shell_quote(held_by)));
  if (result.messages.empty()) {  // exit as `queue list` does, with a word instead of silence
    fmt::print("{}: no message matches '{}'\n", verb, queue::describe_selection(a.selection));
    return result.not_checked.empty() ? kOk : kUsage;
  }
  auto outcomes = queue::run_exim_action(*exim, action, ids);
  size_t ok = 0;
  for (const auto& o : outcomes) {
    ok += o.ok;
    if (!o.ok) print_error(o.id + ": " + o.detail);
  }
  fmt::print("{}: {} of {} selected messages changed ({} already {})\n", verb, ok, ids.size(),
             result.messages.size() - ids.size() - still_held,
             action == queue::EximAction::freeze ? "frozen" : "thawed");
  audit(a, {{"action", verb},
            {"selection", queue::describe_selection(a.selection)},
            {"ids", ids},
            {"changed", ok},
            {"failed", ids.size() - ok},
            {"left_held", still_held},
            {"not_checked", result.not_checked}});
  if (ok != ids.size()) return kFailure;
  return result.not_checked.empty() ? kOk : kUsage;
}

// The restore that undoes a removal: the same state directory, spool and Exim as the removal.
std::string restore_command(const QueueArgs& a, const std::string& batch) {
  std::string command = "spamwarden queue restore " + shell_quote(batch);
  if (a.state_dir != queue::kDefaultStateDir) command += " --state-dir " + shell_quote(a.state_dir);
  if (!a.spool.empty()) command += " --spool " + shell_quote(a.spool);
  if (!a.exim.empty()) command += " --exim " + shell_quote(a.exim);
  if (!a.config.empty()) command += " --exim-config " + shell_quote(a.config);
  return command;
}

// The audit record written before exim -Mrm runs: a removal killed half way still leaves
// its batch and ids in the trail. No record, no removal.
queue::BeforeRemoval audit_intent(const QueueArgs& a, const std::string& description) {
  return [&a, description](const queue::Manifest& manifest, const std::vector<std::string>& ids, std::string* error) {
    nlohmann::json record = {
        {"action", "remove"}, {"stage", "intent"}, {"selection", description}, {"batch", manifest.batch}, {"ids", ids}};
    if (queue::append_audit_record(a.state_dir, std::move(record), queue::current_operator(), error)) return true;
    *error = fmt::format("nothing removed: the audit log cannot record the removal of {} message(s) ({})", ids.size(),
                         *error);
    return false;
  };
}

// Each removed message by id, sender and subject (the selection ran again at --yes, so the
// dry run's list need not be this one), and why any other was not removed.
void report_removal(const QueueArgs& a, const queue::SelectionResult& selected, const queue::RemoveResult& removed) {
  std::map<std::string, const queue::SelectedMessage*> by_id;
  for (const auto& m : selected.messages) by_id[m.location.id] = &m;
  for (const auto& m : removed.manifest.messages) {
    if (!m.removed) {
      print_error(m.id + ": " + (m.note.empty() ? "not removed" : m.note));
      continue;
    }
    const queue::SelectedMessage* s = by_id[m.id];
    fmt::print("removed {} {} subject {}\n", m.id, s && s->readable ? printable(s->sender) : "(unreadable)",
               s && s->readable ? printable(s->subject) : "(unknown)");
  }
  if (!removed.error.empty()) print_error(removed.error);
  if (!removed.manifest_error.empty())
    print_error("the batch's manifest does not record this removal (" + removed.manifest_error +
                "); the messages are quarantined and restore still puts them back, as it goes by the spool");
  fmt::print("removed {} message(s), {} failed; quarantine batch {} ({})\n", removed.removed, removed.failed,
             removed.manifest.batch, removed.batch_dir);
  if (removed.removed > 0) fmt::print("undo with: {}\n", restore_command(a, removed.manifest.batch));
}

int run_remove(const QueueArgs& a) {
  auto spool_dir = resolve_spool(a);
  if (!spool_dir) return kFailure;
  auto selection = compile(a, true);
  if (!selection) return kUsage;
  std::optional<queue::ProcessEximRunner> exim;
  if (a.yes && (!(exim = make_exim(a)) || !spool_belongs_to_exim(*exim, *spool_dir))) return kFailure;
  auto result = queue::select_messages(*spool_dir, *selection, ::time(nullptr), a.threads, reader_options(a, false));
  if (queue_unreadable(result)) return kFailure;
  explain_no_match(*selection, result);
  std::vector<spool::MessageLocation> targets;
  std::vector<std::string> ids;
  std::vector<queue::SelectedMessage> to_remove = actionable(result);
  for (const auto& m : to_remove) {
    targets.push_back(m.location);
    ids.push_back(m.location.id);
  }
  std::string description = queue::describe_selection(a.selection);
  if (!a.yes) {
    // What --yes would remove: not what Exim cannot act on (Finput/), which stderr names.
    for (const auto& m : to_remove)
      fmt::print("would remove {} {} -> {} recipient(s){} subject {}\n", m.location.id,
                 m.readable ? printable(m.sender) : "(unreadable)", m.recipients, m.frozen ? " [frozen]" : "",
                 m.readable ? printable(m.subject) : "(unknown)");
    warn_file_name_matches(*selection, result, true);
    fmt::print("dry run: {} message(s) match '{}'; add --yes to quarantine them under {}/quarantine/ and remove them\n",
               ids.size(), description, a.state_dir);
    audit(a, {{"action", "remove"},
              {"dry_run", true},
              {"selection", description},
              {"ids", ids},
              {"not_checked", result.not_checked}});
    return result.not_checked.empty() ? kOk : kUsage;
  }
  warn_file_name_matches(*selection, result);
  if (targets.empty()) {  // no batch for nothing: exit as `queue list` does
    fmt::print("removed 0 message(s): none match '{}'\n", description);
    return result.not_checked.empty() ? kOk : kUsage;
  }
  auto removed = queue::quarantine_and_remove(targets, a.state_dir, *spool_dir, description, queue::current_operator(),
                                              ::time(nullptr), *exim, audit_intent(a, description));
  report_removal(a, result, removed);
  if (a.learn_from_actions && removed.removed > 0) {
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& m : removed.manifest.messages) {
      if (m.removed) files.emplace_back(removed.batch_dir + "/" + m.id + ".H", removed.batch_dir + "/" + m.id + ".D");
    }
    report_feedback(
        daemon::teach_spool_files(daemon::feedback_spamd_address(a.content_spamd, a.state_dir), files, true), "spam");
  }
  std::vector<std::string> removed_ids;
  for (const auto& m : removed.manifest.messages)
    if (m.removed) removed_ids.push_back(m.id);
  audit(a, {{"action", "remove"},
            {"dry_run", false},
            {"selection", description},
            {"ids", ids},
            {"batch", removed.manifest.batch},
            {"removed", removed.removed},
            {"removed_ids", removed_ids},
            {"failed", removed.failed},
            {"manifest_error", removed.manifest_error},
            {"not_checked", result.not_checked}});
  if (!removed.error.empty() || !removed.manifest_error.empty() || removed.failed != 0) return kFailure;
  return result.not_checked.empty() ? kOk : kUsage;
}

// Restore writes into the spool of the Exim that will deliver the messages: --spool (which
// must be that Exim's), else the one Exim reports. The batch's manifest only has to agree.
int run_restore(const QueueArgs& a) {
  auto exim = make_exim(a);
  if (!exim) return kFailure;
  std::string spool_dir = a.spool, error;
  if (spool_dir.empty()) {
    auto exim_spool = queue::exim_spool_directory(*exim, &error);
    if (!exim_spool) {
      print_error(error);
      return kFailure;
    }
    spool_dir = *exim_spool;
  } else if (!spool_belongs_to_exim(*exim, spool_dir)) {
    return kFailure;
  }
  auto restored = queue::restore_batch(a.state_dir, a.batch, spool_dir);
  for (const std::string& problem : restored.problems) print_error(problem);
  for (const std::string& note : restored.notes) fmt::print("{}\n", note);
  if (!restored.error.empty()) {
    print_error(restored.error);
    return kFailure;
  }
  fmt::print("restored {} message(s) from {} into {}, {} skipped\n", restored.restored, a.batch, spool_dir,
             restored.skipped);
  audit(a, {{"action", "restore"},
            {"batch", a.batch},
            {"spool", spool_dir},
            {"restored", restored.restored},
            {"notes", restored.notes},
            {"problems", restored.problems}});
  return restored.problems.empty() ? kOk : kFailure;
}

bool configured(QueueArgs& a) {
  std::string why;
  if (apply_config(a, &why)) return true;
  print_error(why);
  return false;
}

// A warning above its critical level can never warn: the admin swapped them.
std::string inverted_thresholds(const queue::CheckThresholds& t) {
  auto above = [](const auto& warn, const auto& crit) { return warn && crit && *warn > *crit; };
  if (t.warn_total > t.crit_total)
    return fmt::format("-w {} is above -c {}: the warning level must not exceed the critical one", t.warn_total,
                       t.crit_total);
  if (above(t.warn_frozen, t.crit_frozen)) return "--frozen-warning is above --frozen-critical";
  if (above(t.warn_age, t.crit_age)) return "--age-warning is above --age-critical";
  if (above(t.warn_share, t.crit_share)) return "--share-warning is above --share-critical";
  return "";
}

int run_check(QueueArgs& a) {
  std::string why;
  auto spool_dir = spool::find_spool_directory(a.spool, a.config, &why);
  if (!spool_dir) {
    fmt::print("QUEUE UNKNOWN - {}\n", why);
    return queue::kNagiosUnknown;
  }
  for (auto [text, target] : {std::pair{&a.warn_age, &a.check.warn_age}, std::pair{&a.crit_age, &a.check.crit_age}}) {
    if (text->empty()) continue;
    if (!(*target = parse_duration(*text))) {
      fmt::print("QUEUE UNKNOWN - bad age threshold '{}'\n", *text);
      return queue::kNagiosUnknown;
    }
  }
  if (std::string why_not = inverted_thresholds(a.check); !why_not.empty()) {
    fmt::print("QUEUE UNKNOWN - {}\n", why_not);
    return queue::kNagiosUnknown;
  }
  auto report = build_queue_report(a, *spool_dir, &why);
  if (!report) {
    fmt::print("QUEUE UNKNOWN - {}\n", why);
    return queue::kNagiosUnknown;
  }
  queue::CheckResult result = queue::evaluate_queue_check(*report, a.check);
  fmt::print("{}\n", result.line);
  return result.status;
}

void add_location_options(CLI::App* cmd, QueueArgs& a) {
  cmd->add_option("--spool", a.spool, "Exim spool directory (default: /var/spool/exim or /var/spool/exim4)");
  cmd->add_option("-C,--exim-config", a.config, "Exim config: read spool_directory from it, pass it to exim");
  cmd->add_option(
      "--config", a.toml,
      "spamwarden's TOML config: [paths] give the defaults (default " + config::kDefaultConfigPath + ", if present)");
  cmd->add_option("--threads", a.threads, "scan threads (default: one per core for big queues)")->check(kThreadCount);
  cmd->add_option("--io", a.io,
                  "spool reads: auto (io_uring if the kernel allows, else plain calls), syscalls, io_uring")
      ->check(CLI::IsMember({"auto", "syscalls", "io_uring"}))
      ->capture_default_str();
}

void add_action_options(CLI::App* cmd, QueueArgs& a) {
  cmd->add_option("--exim", a.exim, "exim binary (default: exim4 or exim)");
  cmd->add_option("--state-dir", a.state_dir, "quarantine batches and audit.jsonl")->capture_default_str();
  cmd->add_flag("--all", a.all, "allow an empty selection to mean the whole queue");
}

void add_selection_options(CLI::App* cmd, queue::SelectionArgs& s) {
  cmd->add_option("ids", s.ids, "explicit message ids (also admits unreadable messages)");
  cmd->add_option("--auth-id", s.auth_id, "SMTP AUTH account (glob)");
  cmd->add_option("--sender", s.sender, "envelope sender (glob; '<>' for bounces)");
  cmd->add_option("--sender-domain", s.sender_domain, "envelope sender domain (glob)");
  cmd->add_option("--login", s.login,
                  "owner login of the -H file, or the user cPanel named behind SMTP from this host (glob)");
  cmd->add_option("--uid", s.uid, "owner uid of the -H file")->check(kCount);
  cmd->add_option("--client-ip", s.client_ip, "client address or CIDR range (IPv4/IPv6)");
  cmd->add_option("--helo", s.helo, "HELO/EHLO name (glob)");
  cmd->add_option("--recipient", s.recipient, "a pending recipient (glob)");
  cmd->add_option("--min-recipients", s.min_recipients, "at least this many pending recipients")->check(kCount);
  cmd->add_flag("--frozen", s.frozen, "frozen messages only");
  cmd->add_flag("--bounce", s.bounce, "bounces (null sender) only");
  cmd->add_option("--older-than", s.older_than, "queued longer than this (90s, 15m, 2h, 3d)");
  cmd->add_option("--younger-than", s.younger_than, "queued for less than this");
  cmd->add_option("--subject", s.subject, "Subject header matches this PCRE2 regex (case-insensitive)");
  cmd->add_option("--header", s.headers, "'Name: REGEX' (PCRE2) on any live header of that name (repeatable)");
  cmd->add_option("--script", s.script,
                  "X-PHP-Script / X-PHP-Originating-Script contains PATH (or glob); a directory: its scripts' mail");
}

void add_threshold_options(CLI::App* cmd, queue::Thresholds& t) {
  cmd->add_option("--evidence-ids", t.sample_ids, "message ids kept as evidence per finding")
      ->check(kCount)
      ->capture_default_str();
  cmd->add_option("--many-recipients", t.many_recipients, "pending recipients that make a message suspicious")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--dominant-share", t.dominant_share, "queue share (0-1) that makes an actor dominant")
      ->check(kShare)
      ->capture_default_str();
  cmd->add_option("--dominant-min", t.dominant_floor, "...but at least this many messages")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--backscatter-share", t.backscatter_share, "bounces to one address, share of queue (0-1)")
      ->check(kShare)
      ->capture_default_str();
  cmd->add_option("--backscatter-min", t.backscatter_floor, "...but at least this many")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--backscatter-frozen", t.backscatter_frozen, "...or this many of them frozen, whatever the share")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--random-senders-min", t.random_localparts_floor,
                  "distinct random-looking sender local parts on one domain")
      ->check(kPositiveCount)
      ->capture_default_str();
}

}  // namespace

void add_queue_command(CLI::App& app, int* result) {
  auto a = std::make_shared<QueueArgs>();
  CLI::App* cmd = app.add_subcommand("queue", "Who fills the Exim queue; select, freeze, remove, restore; check");
  cmd->require_subcommand(0, 1);
  add_location_options(cmd, *a);
  cmd->add_flag("--json", a->json, "JSON output");
  cmd->add_flag("--sizes", a->sizes, "also total the message body sizes (a stat of every -D file)");
  cmd->add_option("--top", a->top, "rows per actor table (0 = all)")->check(kCount)->capture_default_str();
  add_threshold_options(cmd, a->thresholds);
  cmd->callback([cmd, a, result] {
    if (cmd->get_subcommands().empty()) *result = configured(*a) ? run_summary(*a) : kUsage;
  });

  CLI::App* list = cmd->add_subcommand("list", "Ids of matching messages, one per line (or --json)");
  add_location_options(list, *a);
  add_selection_options(list, a->selection);
  list->add_flag("--json", a->json, "JSON array with sender, recipients, age, subject");
  list->callback([a, result] { *result = configured(*a) ? run_list(*a) : kUsage; });

  for (auto [name, action, help] :
       {std::tuple{"freeze", queue::EximAction::freeze, "Freeze matching messages (exim -Mf)"},
        std::tuple{"thaw", queue::EximAction::thaw, "Thaw matching messages (exim -Mt)"}}) {
    CLI::App* sub = cmd->add_subcommand(name, help);
    add_location_options(sub, *a);
    add_action_options(sub, *a);
    add_selection_options(sub, a->selection);
    if (action == queue::EximAction::thaw)
      sub->add_flag("--include-held", a->include_held,
                    "also thaw mail that an active hold of watch covers (release is the usual way)");
    sub->callback([a, result, action = action] { *result = configured(*a) ? run_freeze_or_thaw(*a, action) : kUsage; });
  }

  CLI::App* remove = cmd->add_subcommand("remove", "Quarantine then remove matching messages (dry run without --yes)");
  add_location_options(remove, *a);
  add_action_options(remove, *a);
  add_selection_options(remove, a->selection);
  remove->add_flag("--yes", a->yes, "really do it");
  remove->callback([a, result] { *result = configured(*a) ? run_remove(*a) : kUsage; });

  CLI::App* restore = cmd->add_subcommand("restore", "Put a quarantine batch back into the spool, byte for byte");
  restore->add_option("batch", a->batch, "batch name (or path to the batch directory)")->required();
  restore->add_option("--state-dir", a->state_dir, "where batches live")->capture_default_str();
  restore->add_option("--spool", a->spool, "the spool to restore into (default: the one exim -bP reports)");
  restore->add_option("-C,--exim-config", a->config, "Exim config: its spool, passed to exim");
  restore->add_option("--config", a->toml, "spamwarden's TOML config: [paths] give the defaults");
  restore->add_option("--exim", a->exim, "exim binary (default: exim4 or exim)");
  restore->callback([a, result] { *result = configured(*a) ? run_restore(*a) : kUsage; });

  CLI::App* check = cmd->add_subcommand("check", "Nagios/Icinga plugin: queue size, frozen, age, one actor's share");
  add_location_options(check, *a);
  check->add_option("-w,--warning", a->check.warn_total, "warn at this many messages")
      ->check(kCount)
      ->capture_default_str();
  check->add_option("-c,--critical", a->check.crit_total, "critical at this many messages")
      ->check(kCount)
      ->capture_default_str();
  check->add_option("--frozen-warning", a->check.warn_frozen, "warn at this many frozen messages")->check(kCount);
  check->add_option("--frozen-critical", a->check.crit_frozen, "critical at this many frozen messages")->check(kCount);
  check->add_option("--age-warning", a->warn_age, "warn when the oldest message is this old (e.g. 1d)");
  check->add_option("--age-critical", a->crit_age, "critical when the oldest message is this old");
  check->add_option("--share-warning", a->check.warn_share, "warn when one sender holds this % of the queue")
      ->check(kPercent);
  check->add_option("--share-critical", a->check.crit_share, "critical at this %")->check(kPercent);
  check->add_option("--share-min", a->check.share_min_messages, "ignore shares below this queue size")
      ->check(kCount)
      ->capture_default_str();
  check->callback([a, result] {
    std::string why;
    if (!apply_config(*a, &why)) {
      fmt::print("QUEUE UNKNOWN - {}\n", why);
      *result = queue::kNagiosUnknown;
      return;
    }
    *result = run_check(*a);
  });
}

}  // namespace sw::cli
