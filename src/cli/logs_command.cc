// `spamwarden logs`: who sends, from the Exim main log (rotated, gzip, or stdin).
#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <optional>
#include <iostream>

#include "base/civil_time.h"
#include "base/ip_cidr.h"
#include "base/json_text.h"
#include "cli/commands.h"
#include "config/config.h"
#include "detect/actor_type.h"
#include "eximlog/cwd_matcher.h"
#include "eximlog/line_parser.h"
#include "stats/actor_story.h"
#include "stats/scan_logs.h"
#include "stats/summary_cache.h"
#include "weblog/web_requests.h"

namespace sw::cli {
namespace {

struct LogsArgs {
  std::vector<std::string> inputs;
  bool json = false;
  size_t top = 10;
  std::string since, until;
  int threads = 0;
  int engines = 0;
  int slices = 1;
  bool no_progress = false;
  std::string actor;  // --actor TYPE:KEY: that actor's story instead of the report
  bool lines = false;
  std::vector<std::string> access_logs;  // --access-logs, else [paths] access_logs, else found
  std::string root;                      // where the web logs are looked for ("" = /)
  std::string toml = config::kDefaultConfigPath;
  bool config_read = false;
  std::optional<bool> zoned;  // whether the main logs carry zones (their times read as UTC)
  bool no_cache = false;
  bool cache_each_file = false;
  std::string state_dir;  // "": the TOML's state_dir, else the default
  uint64_t cache_max_mb = stats::SummaryCache::kDefaultMaxBytes >> 20;
  stats::Thresholds t;
};

// The summary cache of rotated logs lives in the state directory (the one `watch` and `queue`
// use): from --state-dir, else spamwarden's TOML (--config), else the default. A TOML that cannot be
// read does not stop a report: the default then.
std::string logs_cache_dir(const LogsArgs& a) {
  if (a.no_cache) return {};
  std::string state_dir = a.state_dir;
  if (state_dir.empty()) {
    std::vector<config::ConfigError> errors;
    auto c = config::load_config(a.toml, false, &errors);
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

// The web access logs to read: --access-logs, else the config's [paths] access_logs (read
// only when a script needs them; a config that cannot be read is said, and discovery used).
const std::vector<std::string>& configured_access_logs(LogsArgs& a) {
  if (!a.access_logs.empty() || a.config_read) return a.access_logs;
  a.config_read = true;
  std::vector<config::ConfigError> errors;
  auto c = config::load_config(a.toml, a.toml != config::kDefaultConfigPath, &errors);
  if (c && errors.empty()) a.access_logs = c->access_logs;
  else
    fmt::print(stderr, "spamwarden logs: {}; looking for the account's access logs instead\n",
               errors.empty() ? "cannot read " + a.toml : config::format_error(a.toml, errors.front()));
  return a.access_logs;
}

// Whether the main logs carry zones, peeked at once (their first lines) and only when asked.
bool logged_zoned(LogsArgs& a) {
  if (!a.zoned) a.zoned = stats::logged_with_timezone(a.inputs);
  return *a.zoned;
}

// The web requests behind a script directory while it sent (with the margin either side),
// from the access logs of the login that ran it.
// The account is the /home/LOGIN/ of the path when it has one: with PHP run as the web
// server's user (mod_php) the login that ran the script is "nobody" or "www-data".
weblog::WebRequests web_requests_for(LogsArgs& a, const std::string& dir, std::string login, CivilSeconds first,
                                     CivilSeconds last, bool utc) {
  if (std::string_view home = eximlog::home_login(dir); !home.empty()) login = home;
  auto logs = weblog::find_access_logs(a.root, login, configured_access_logs(a));
  return weblog::web_requests(logs, dir, first - weblog::kBurstMargin, last + weblog::kBurstMargin, utc, first, last);
}

// Whether a finding's times are UTC: the main logs' first lines say so, but a log read from
// stdin cannot be peeked at; then the finding's own lines say.
bool finding_in_utc(LogsArgs& a, const stats::Finding& f) {
  if (logged_zoned(a)) return true;
  eximlog::LogLine l;
  for (const auto& line : f.evidence)
    if (eximlog::parse_line(line, l) != eximlog::LineKind::Unparsed) return l.has_timezone;
  return false;
}

// Where a script's sending that ends in its peak began: its first message, at most a day
// before the peak. A mailer started by one request sends for hours before its densest window,
// and that request is what names the attacker.
// Where it ended: its last message, at most a day after the peak. A mailer that sends evenly
// for two hours calls its script as often after its densest hour as during it, and must not
// read as a steady caller for that.
constexpr CivilSeconds kMaxSendingAround = 24 * 3600;
const stats::ActorStats* finding_actor(const stats::Forensics* forensics, const stats::Finding& f) {
  return forensics ? forensics->table(f.actor_kind).find(f.actor) : nullptr;
}
CivilSeconds sending_start(const stats::Forensics* forensics, const stats::Finding& f) {
  const stats::ActorStats* actor = finding_actor(forensics, f);
  if (!actor || actor->first == 0 || actor->first >= f.peak_first) return f.peak_first;
  return std::max(actor->first, f.peak_first - kMaxSendingAround);
}
CivilSeconds sending_end(const stats::Forensics* forensics, const stats::Finding& f) {
  const stats::ActorStats* actor = finding_actor(forensics, f);
  if (!actor || actor->last <= f.peak_last) return f.peak_last;
  return std::min(actor->last, f.peak_last + kMaxSendingAround);
}

// An ip: key as an admin pastes it from the log, "[2001:db8::15]:443" or "192.0.2.9:40000", as
// the address Exim writes (an IPv4-mapped one as IPv4, which the story also finds mapped);
// nullopt when it is no address.
std::optional<std::string> client_address_key(std::string_view key) {
  auto ip = parse_ip(address_without_port(key));
  if (!ip) return std::nullopt;
  return format_ip(without_v4_mapping(*ip));
}

// --actor: exit 0 when the actor is in the logs, 1 when it is not (as grep), 2 as the report.
int run_story(LogsArgs& a, const stats::ScanOptions& scan) {
  auto actor = detect::parse_actor_ref(a.actor);
  if (!actor) {
    fmt::print(stderr,
               "spamwarden logs: cannot read --actor '{}': use TYPE:KEY, TYPE one of script, user (local_user), "
               "auth (auth_account), ip (client_ip), sender\n",
               a.actor);
    return kUsage;
  }
  if (actor->type == detect::ActorType::ClientIp) {
    bool range = actor->key.find('/') != std::string::npos;
    auto address = range ? std::nullopt : client_address_key(actor->key);
    if (range ? !stats::client_ip_range(*actor) : !address) {
      fmt::print(stderr, "spamwarden logs: cannot read --actor '{}': not an address or a range (ADDRESS/BITS)\n",
                 a.actor);
      return kUsage;
    }
    if (address) actor->key = *address;
  }
  stats::StoryOptions o;
  o.actor = *actor;
  o.since = scan.since;
  o.until = scan.until;
  o.workers = a.threads;
  if (a.lines) o.sink = [](std::string_view line) { std::cout << line << '\n'; };
  auto result = stats::story_of(a.inputs, o);
  for (const auto& w : result.warnings) fmt::print(stderr, "spamwarden logs: {}\n", w);
  bool script = actor->type == detect::ActorType::Script && result.story.messages > 0;
  std::optional<weblog::WebRequests> web;
  if (script && !a.lines)
    web = web_requests_for(a, actor->key, "", result.story.first_message, result.story.last_message, result.story.utc);
  weblog::Firewall firewall = weblog::firewall_of(a.root);
  if (a.json) {
    auto j = stats::story_json(result);
    if (web) j["web_requests"] = weblog::web_requests_json(*web, firewall);
    std::cout << json_text(j, 1) << "\n";
  } else if (!a.lines) {
    std::cout << stats::story_text(result) << (web ? weblog::web_requests_text(*web, firewall) : "");
  }
  std::cout.flush();
  if (result.unreadable_inputs + result.damaged_inputs + result.foreign_inputs > 0) return kUsage;
  return result.story.lines > 0 ? kOk : kFindings;
}

int run_logs(LogsArgs& a) {
  stats::ScanOptions o;
  o.thresholds = a.t;
  o.workers = a.threads;
  o.engines = a.engines;
  o.slices = a.slices;
  if (a.slices > 1) o.engines = 1, o.slice_min_bytes = 1 << 20;  // the other way to share the fold
  o.progress = !a.no_progress && isatty(STDERR_FILENO) && !a.json;
  o.cache_dir = logs_cache_dir(a);
  o.cache_max_bytes = a.cache_max_mb << 20;
  o.file_summaries = a.cache_each_file;
  if (a.inputs.empty()) a.inputs = default_inputs();
  // Local time, or UTC when the log carries zones; read once (peeking at the inputs), and
  // only for a duration, so --since 2h --until 1h measure from the same moment.
  std::optional<CivilSeconds> log_now;
  auto now = [&] {
    if (!log_now) log_now = civil_now(logged_zoned(a));
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
  if (!a.actor.empty()) return run_story(a, o);
  if (a.lines) {
    fmt::print(stderr, "spamwarden logs: --lines prints one actor's lines: give --actor TYPE:KEY\n");
    return kUsage;
  }
  auto result = stats::scan_logs(a.inputs, o);
  for (const auto& w : result.report.warnings) fmt::print(stderr, "spamwarden logs: {}\n", w);
  stats::ReportOptions ro;
  ro.top = a.top;
  ro.incomplete_inputs = result.unreadable_inputs + result.damaged_inputs + result.foreign_inputs;
  ro.utc = logged_zoned(a);
  // Each spamming script's web requests during its burst: who called it.
  std::vector<std::pair<size_t, weblog::WebRequests>> web;
  for (size_t i = 0; i < result.report.findings.size(); ++i) {
    const stats::Finding& f = result.report.findings[i];
    if (f.kind == "spamming_script")
      web.emplace_back(i, web_requests_for(a, f.actor, f.local_user, sending_start(result.forensics.get(), f),
                                           sending_end(result.forensics.get(), f), finding_in_utc(a, f)));
  }
  weblog::Firewall firewall = weblog::firewall_of(a.root);
  if (a.json) {
    auto j = stats::report_json(result.report, ro);
    for (const auto& [i, w] : web) j["findings"][i]["web_requests"] = weblog::web_requests_json(w, firewall);
    std::cout << json_text(j, 1) << "\n";
  } else {
    std::cout << stats::report_text(result.report, ro);
    for (const auto& [i, w] : web) std::cout << weblog::web_requests_text(w, firewall);
  }
  std::cout.flush();
  if (!result.unsummarized.empty()) {
    // --cache-each-file: the summaries of the rotated logs read whole, each made by an engine
    // folding it alone, once the report is out and its engine gone (not both in memory).
    result.forensics.reset();
    stats::store_file_summaries(result, o);
  }
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
  cmd->add_option("--threads", a->threads,
                  "parser threads besides the engine thread (default: cores - 1, at least 1; with --actor: cores)")
      ->check(kThreadCount);
  cmd->add_option("--engines", a->engines,
                  "engine threads: 1 folds every actor on one, 2 folds senders on a second (same report; "
                  "default: 2 from four cores on)")
      ->check(CLI::Range(1, 2));
  cmd->add_option("--slices", a->slices,
                  "engines folding slices of the last log (a plain file, 1 MB a slice at least) at once, merged "
                  "in order (same report; default 1: one engine reads it all)")
      ->check(CLI::Range(1, 64))
      ->excludes("--engines");
  cmd->add_flag("--no-progress", a->no_progress, "no progress bar even on a terminal");
  cmd->add_option("--actor", a->actor,
                  "one actor's story instead of the report: script:DIR, user:LOGIN, auth:ID, ip:ADDR, sender:ADDR");
  cmd->add_flag("--lines", a->lines, "with --actor: print the actor's log lines (as exigrep), no report")
      ->excludes("--json");
  // One path a time (repeatable): a list would take the main logs after it as access logs.
  cmd->add_option("--access-logs", a->access_logs,
                  "a web access log (file, directory or glob; repeat for more) for the requests behind a "
                  "script; default: [paths] access_logs, else the account's cPanel domlogs or "
                  "/var/log/{apache2,nginx}")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--root", a->root, "look for the web access logs under this directory instead of /");
  cmd->add_option("--config", a->toml, "spamwarden's TOML config (for [paths] access_logs)")->capture_default_str();
  cmd->add_flag("--no-cache", a->no_cache, "parse rotated logs again: neither use nor store their cached summary");
  cmd->add_flag("--cache-each-file", a->cache_each_file,
                "also cache each rotated log's own summary, so that after a rotation only the new file is parsed "
                "(made after the report: the first run takes about twice as long)")
      ->excludes("--no-cache");
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
  cmd->add_option("--account-ips", t.account_min_ips,
                  "client IPs new to an account within 24 h that make it suspicious")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--failed-logins", t.account_failed_logins, "failed logins before an account sent")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--failed-share", t.account_failed_share, "failed logins per message sent that count")
      ->check(kShare)
      ->capture_default_str();
  cmd->add_option("--dictionary-rejects", t.dictionary_min_rejects, "unknown-recipient rejections from one IP...")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--dictionary-distinct", t.dictionary_min_distinct, "...naming this many different addresses")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--bruteforce-failures", t.bruteforce_min_failures, "auth failures from one IP")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--guessing-per-ip", t.guessing_min_per_ip,
                  "failed logins from each IP that tried only one account...")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--guessing-ips", t.guessing_min_ips, "...from this many IPs: one attack on that account")
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
  cmd->add_option("--backscatter-stuck", t.backscatter_min_stuck,
                  "...or this many frozen or failed, whatever the share")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--campaign-ips", t.campaign_min_ips, "IPs over the dictionary or login floor that make one campaign")
      ->check(kPositiveCount)
      ->capture_default_str();
  cmd->add_option("--campaign-share", t.campaign_dominant_share, "share of a campaign that keeps an IP's own finding")
      ->check(kShare)
      ->capture_default_str();
  cmd->callback([a, result] { *result = run_logs(*a); });
}

}  // namespace sw::cli
