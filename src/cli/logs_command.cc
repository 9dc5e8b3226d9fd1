// `spamwarden logs`: who sends, from the Exim main log (rotated, gzip, or stdin).
#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <optional>
#include <iostream>

#include "base/civil_time.h"
#include "base/json_text.h"
#include "cli/commands.h"
#include "config/config.h"
#include "stats/scan_logs.h"
#include "stats/summary_cache.h"

namespace sw::cli {
namespace {

struct LogsArgs {
  std::vector<std::string> inputs;
  bool json = false;
  size_t top = 10;
  std::string since, until;
  int threads = 0;
  bool no_progress = false;
  bool no_cache = false;
  std::string state_dir;  // "": the TOML's state_dir, else the default
  uint64_t cache_max_mb = stats::SummaryCache::kDefaultMaxBytes >> 20;
  stats::Thresholds t;
};

// The summary cache of rotated logs lives in the state directory (the one `watch` and `queue`
// use): from --state-dir, else spamwarden's TOML, else the default. A TOML that cannot be
// read does not stop a report: the default then.
std::string logs_cache_dir(const LogsArgs& a) {
  if (a.no_cache) return {};
  std::string state_dir = a.state_dir;
  if (state_dir.empty()) {
    std::vector<config::ConfigError> errors;
    auto c = config::load_config(config::kDefaultConfigPath, false, &errors);
    state_dir = c ? c->state_dir : config::default_config().state_dir;
  }
  return state_dir + "/logs-cache";
}

// Where run_logs leaves its engine at exit (see there). Not static: its store must stay.
stats::Forensics* kept_until_exit = nullptr;

// Default inputs when none are given: the cPanel and Debian main logs, whichever exist.
std::vector<std::string> default_inputs() {
  for (const char* p : {"/var/log/exim_mainlog", "/var/log/exim4/mainlog", "/var/log/exim/mainlog"})
    if (access(p, R_OK) == 0) return {p};
  return {};
}

// --since/--until: a time as the log writes it, or a duration back from now ("30m", "2h",
// "3d"); now() gives the moment on the log's own clock.
template <class Now>
std::optional<CivilSeconds> read_time(const std::string& text, Now&& now) {
  if (auto t = parse_user_time(text)) return t;
  if (text.empty() || !std::isalpha(static_cast<unsigned char>(text.back()))) return std::nullopt;  // "2026": no
  auto ago = parse_duration(text);
  if (!ago || *ago <= 0) return std::nullopt;
  return now() - *ago;
}

int run_logs(LogsArgs& a) {
  stats::ScanOptions o;
  o.thresholds = a.t;
  o.workers = a.threads;
  o.progress = !a.no_progress && isatty(STDERR_FILENO) && !a.json;
  o.cache_dir = logs_cache_dir(a);
  o.cache_max_bytes = a.cache_max_mb << 20;
  if (a.inputs.empty()) a.inputs = default_inputs();
  // Local time, or UTC when the log carries zones; read once (peeking at the inputs), and
  // only for a duration, so --since 2h --until 1h measure from the same moment.
  std::optional<CivilSeconds> log_now;
  auto now = [&] {
    if (!log_now) log_now = civil_now(stats::logged_with_timezone(a.inputs));
    return *log_now;
  };
  for (auto [text, target] : {std::pair{&a.since, &o.since}, std::pair{&a.until, &o.until}}) {
    if (text->empty()) continue;
    auto t = read_time(*text, now);
    if (!t) {
      fmt::print(stderr,
                 "spamwarden logs: cannot read time '{}': use YYYY-MM-DD[ HH:MM[:SS]] or a time back "
                 "from now such as 30m, 2h, 3d\n",
                 *text);
      return kUsage;
    }
    *target = *t;
  }
  if (o.since >= o.until) {
    fmt::print(stderr, "spamwarden logs: --since {} is not before --until {}: no line could be in between\n", a.since,
               a.until);
    return kUsage;
  }
  if (a.inputs.empty()) {
    fmt::print(stderr,
               "spamwarden logs: no log given and no main log found at the cPanel or "
               "Debian paths; pass a file or '-' for stdin\n");
    return kUsage;
  }
  auto result = stats::scan_logs(a.inputs, o);
  for (const auto& w : result.report.warnings) fmt::print(stderr, "spamwarden logs: {}\n", w);
  stats::ReportOptions ro;
  ro.top = a.top;
  ro.incomplete_inputs = result.unreadable_inputs + result.damaged_inputs + result.foreign_inputs;
  if (a.json) std::cout << json_text(stats::report_json(result.report, ro), 1) << "\n";
  else std::cout << stats::report_text(result.report, ro);
  std::cout.flush();
  // The engine's tables can hold millions of entries; the process ends now, so skip their
  // teardown. Held from a global, the tables stay reachable: no leak for a leak checker.
  kept_until_exit = result.forensics.release();
  // Findings make it 1 even when an input could not be read (the warnings say which): what was
  // found needs acting on either way. Without findings, inputs unread, read in part or not a
  // main log make it 2; an advisory warning (inputs overlapping, one given twice) does not.
  if (!result.report.findings.empty()) return kFindings;
  return ro.incomplete_inputs > 0 ? kUsage : kOk;
}

}  // namespace

void add_logs_command(CLI::App& app, int* result) {
  auto a = std::make_shared<LogsArgs>();
  CLI::App* cmd = app.add_subcommand("logs", "Who sends: forensics over Exim main logs (plain, gzip or -)");
  cmd->add_option("files", a->inputs, "main log files, rotated and .gz included, or - for stdin");
  cmd->add_flag("--json", a->json, "JSON output");
  cmd->add_option("--top", a->top, "rows per actor table (0 = all)")->check(kCount)->capture_default_str();
  cmd->add_option("--since", a->since,
                  "only lines at or after this time: YYYY-MM-DD[ HH:MM[:SS]], or back from now (30m, 2h, 3d)");
  cmd->add_option("--until", a->until, "only lines before this time");
  cmd->add_option("--threads", a->threads, "parser threads besides the engine thread (default: cores - 1, at least 1)")
      ->check(kThreadCount);
  cmd->add_flag("--no-progress", a->no_progress, "no progress bar even on a terminal");
  cmd->add_flag("--no-cache", a->no_cache, "parse rotated logs again: neither use nor store their cached summary");
  cmd->add_option("--state-dir", a->state_dir,
                  "where the rotated logs' summary cache lives, under logs-cache/ (default: the config's state_dir)");
  cmd->add_option("--cache-max-mb", a->cache_max_mb, "size cap of the summary cache; least recently used go first")
      ->check(kCount)
      ->capture_default_str();
  auto& t = a->t;
  cmd->add_option("--window", t.window_seconds, "burst window in seconds")
      ->check(CLI::Range(int64_t(1), int64_t(31 * 86400)))
      ->capture_default_str();
  cmd->add_option("--burst-recipients", t.burst_min_recipients, "recipients in a window that can be a burst")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--burst-share", t.burst_min_share, "share of an actor's mail in its peak window")
      ->check(kShare)
      ->capture_default_str();
  cmd->add_option("--burst-factor", t.burst_min_factor, "peak window vs the actor's average")
      ->check(kPositiveFactor)
      ->capture_default_str();
  cmd->add_option("--hard-limit", t.hard_recipients_per_window, "recipients per window flagged regardless")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--many-recipients", t.many_recipients, "recipients in one message that look like bulk")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--account-recipients", t.account_min_recipients, "floor for compromised accounts")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--account-ips", t.account_min_ips, "client IPs that make an account suspicious")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--failed-logins", t.account_failed_logins, "failed logins before an account sent")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--failed-share", t.account_failed_share, "failed logins per message sent that count")
      ->check(kShare)
      ->capture_default_str();
  cmd->add_option("--dictionary-rejects", t.dictionary_min_rejects, "unknown-recipient rejections from one IP")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--bruteforce-failures", t.bruteforce_min_failures, "auth failures from one IP")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--random-senders", t.random_min_senders, "random-looking local parts at one domain")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--backscatter-bounces", t.backscatter_min_bounces, "bounces to one address")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--backscatter-share", t.backscatter_min_share, "...as a share of all bounces")
      ->check(kShare)
      ->capture_default_str();
  cmd->callback([a, result] { *result = run_logs(*a); });
}

}  // namespace sw::cli
