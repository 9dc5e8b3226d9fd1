// `spamwarden watch` (the live containment daemon), `holds`, `release` and `config check`.
// Thin glue: follower -> parser -> detector -> containment, plus the store and metrics.
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <map>
#include <set>
#include <thread>

#include "base/log_line.h"
#include "base/civil_time.h"
#include "base/json_text.h"
#include "base/text.h"
#include "cli/commands.h"
#include "config/config.h"
#include "contain/containment.h"
#include "contain/held_mail.h"
#include "contain/release.h"
#include "daemon/action_feedback.h"
#include "daemon/spamd_client.h"
#include "contain/state_lock.h"
#include "detect/detector.h"
#include "eximlog/line_parser.h"
#include "follow/log_follower.h"
#include "metrics/metrics.h"
#include "queue/audit_log.h"
#include "store/hold_store.h"

namespace sw::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct WatchArgs {
  std::string config_path = config::kDefaultConfigPath;
  std::string log, spool, state_dir, exim, exim_config, metrics;
  bool from_start = false;
  bool exit_at_end = false;  // stop once the log is read to its end (benchmarks, catch-up runs)
};

void log_line(const std::string& text) { print_log_line("spamwarden", text); }

// Loads the config and applies command-line overrides; prints errors.
std::optional<config::Config> resolve_config(const WatchArgs& a, bool explicit_config) {
  std::vector<config::ConfigError> errors;
  auto c = config::load_config(a.config_path, explicit_config, &errors);
  for (const auto& e : errors) fmt::print(stderr, "{}\n", config::format_error(a.config_path, e));
  if (!c) return std::nullopt;
  auto apply = [](const std::string& v, std::string& out) {
    if (!v.empty()) out = v;
  };
  apply(a.log, c->log_path);
  apply(a.spool, c->spool_dir);
  apply(a.state_dir, c->state_dir);
  apply(a.exim, c->exim_binary);
  apply(a.exim_config, c->exim_config);
  apply(a.metrics, c->metrics_listen);
  c->alerts.exim_binary = c->exim_binary;
  c->alerts.exim_config = c->exim_config;
  return c;
}

CivilSeconds civil_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  return days_from_civil(tm.tm_year + 1900, unsigned(tm.tm_mon + 1), unsigned(tm.tm_mday)) * 86400 + tm.tm_hour * 3600 +
         tm.tm_min * 60 + tm.tm_sec;
}

void update_metrics(metrics::WatchMetrics& m, metrics::TypeRates& rates, const follow::LogFollower& f,
                    const detect::Detector& d, const contain::Containment& c, const alert::Alerter& alerter,
                    CivilSeconds last_line_time) {
  m.lines = f.stats().lines;
  m.unparsed = d.counts().unparsed;
  m.lag_bytes = f.lag_bytes();
  m.lag_seconds = last_line_time ? std::max<int64_t>(0, civil_now() - last_line_time) : 0;
  m.rotations = f.stats().rotations;
  m.truncations = f.stats().truncations;
  metrics::TypeRates::Counts totals{};
  for (size_t i = 0; i < detect::kActorTypes; ++i) m.messages_by_type[i] = totals[i] = d.counts().messages_by_type[i];
  rates.sample(std::time(nullptr), totals);
  metrics::TypeRates::Counts minute = rates.last_minute();
  for (size_t i = 0; i < detect::kActorTypes; ++i) m.messages_last_minute[i] = minute[i];
  m.holds_active = c.active();
  contain::ContainmentCounts cc = c.counts();
  m.containment_events = cc.holds;
  m.frozen = cc.frozen;
  m.list_write_failures = cc.list_write_failures;
  m.store_failures = cc.store_failures;
  m.active_actors = d.active_actors();
  m.alerts_failed = alerter.counts().failed;
}

int run_watch(const WatchArgs& a, bool explicit_config) {
  auto cfg = resolve_config(a, explicit_config);
  if (!cfg) return kUsage;
  std::string error;
  std::unique_ptr<contain::StateLock> state_lock = contain::StateLock::acquire(cfg->state_dir, &error);
  if (!state_lock) {
    log_line(error);
    return kFailure;
  }
  std::unique_ptr<store::HoldStore> store = store::HoldStore::open(store::store_path(cfg->state_dir), &error);
  if (!store) log_line("state store unavailable, holds kept in memory only: " + error);
  alert::Alerter alerter(cfg->alerts, log_line);
  queue::ProcessEximRunner exim(cfg->exim_binary, cfg->exim_config);
  bool freeze_queued = cfg->freeze_queued;
  if (freeze_queued && !cfg->spool_dir.empty() && !queue::verify_exim_spool(exim, cfg->spool_dir, &error)) {
    // exim -Mf acts on its own spool: with another, the freeze pass would act on the wrong mail.
    log_line("queued mail will not be frozen (new mail is still held by the lists): " + error);
    freeze_queued = false;
  }
  contain::Containment containment({cfg->state_dir, cfg->spool_dir, freeze_queued, cfg->disable_scripts}, store.get(),
                                   &exim, &alerter, log_line);
  detect::Detector detector(cfg->limits);
  for (const store::HoldRecord& h : containment.start()) detector.mark_tripped(h.actor);
  containment.set_batching(true);
  metrics::WatchMetrics metrics;
  metrics::TypeRates rates;
  metrics::MetricsServer server(metrics);
  if (!cfg->metrics_listen.empty() && !server.start(cfg->metrics_listen, &error)) {
    log_line(error);
    return kUsage;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  follow::LogFollower follower(cfg->log_path, a.from_start);
  log_line(fmt::format("watching {} (state {}, {} holds active)", cfg->log_path, cfg->state_dir, containment.active()));

  std::vector<detect::Trip> trips;
  eximlog::LogLine parsed;
  CivilSeconds last_line_time = 0;
  auto on_line = [&](std::string_view line) {
    eximlog::parse_line(line, parsed);
    if (parsed.time) last_line_time = parsed.time;
    detector.add(parsed, &trips, line);
    for (const detect::Trip& t : trips) containment.hold(t, std::time(nullptr));  // within the same read
    trips.clear();
  };
  int rc = kOk;
  auto started = std::chrono::steady_clock::now();
  auto last_tick = started - std::chrono::seconds(2);
  std::string last_error;
  while (!g_stop) {
    size_t lines = follower.poll(on_line, 1u << 20);  // 1 MB: a hold waits for at most ~10 ms of lines
    containment.publish();  // the holds of this block: one store transaction, each changed list written once
    if (a.exit_at_end && lines == 0 && follower.lag_bytes() == 0) {
      if (!follower.last_error().empty()) {  // a catch-up run over a log it cannot read
        log_line(follower.last_error());
        rc = kUsage;
      }
      break;
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_tick >= std::chrono::seconds(1)) {
      last_tick = now;
      for (const detect::ActorRef& r : containment.sync(std::time(nullptr))) detector.forget(r);
      if (last_line_time) detector.expire(last_line_time);
      update_metrics(metrics, rates, follower, detector, containment, alerter, last_line_time);
      if (follower.last_error() != last_error) {
        last_error = follower.last_error();
        log_line(last_error.empty() ? "log readable again" : last_error + " (retrying)");
      }
    }
    if (lines == 0) follower.wait(std::chrono::milliseconds(cfg->poll_ms));
  }
  update_metrics(metrics, rates, follower, detector, containment, alerter, last_line_time);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  double cpu =
      double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  log_line(
      fmt::format("stopping after {} lines in {:.2f} s ({:.0f} lines/s), {:.2f} s CPU, {} active actors, "
                  "{} holds placed, peak RSS {} MB; {} holds stay active",
                  follower.stats().lines, secs, secs > 0 ? double(follower.stats().lines) / secs : 0.0, cpu,
                  detector.active_actors(), containment.counts().holds, ru.ru_maxrss / 1024, containment.active()));
  return rc;
}

std::string local_time(int64_t t) {
  std::time_t since = t;
  std::tm tm{};
  ::localtime_r(&since, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  return stamp;
}

// Active holds grouped by incident, in order of their first hold, with the frozen mail in the
// queue each covers (frozen by Exim's ACL or by watch; -1 when the spool could not be read).
struct IncidentView {
  std::string name;
  std::vector<const store::HoldRecord*> holds;
  std::vector<int64_t> frozen_per_hold;
  int64_t frozen = 0;
};

std::vector<IncidentView> group_incidents(const std::vector<store::HoldRecord>& holds, const std::string& spool_dir) {
  std::vector<IncidentView> incidents;
  std::map<std::string, size_t> by_name;
  std::vector<size_t> incident_of, position;  // per hold: its incident, its index within it
  for (const store::HoldRecord& h : holds) {
    auto [it, added] = by_name.emplace(h.incident, incidents.size());
    if (added) incidents.push_back({h.incident, {}, {}, 0});
    IncidentView& v = incidents[it->second];
    incident_of.push_back(it->second);
    position.push_back(v.holds.size());
    v.holds.push_back(&h);
    v.frozen_per_hold.push_back(0);
  }
  struct stat st {};
  contain::CoverageScan scan;
  if (spool_dir.empty() || ::stat((spool_dir + "/input").c_str(), &st) != 0 ||
      !(scan = contain::scan_coverage(spool_dir, holds, true, std::time(nullptr))).error.empty()) {
    for (IncidentView& v : incidents) v.frozen = -1, std::fill(v.frozen_per_hold.begin(), v.frozen_per_hold.end(), -1);
    return incidents;
  }
  for (const contain::CoveredMessage& m : scan.messages) {
    std::set<size_t> counted;
    for (uint32_t h : m.holds) {
      ++incidents[incident_of[h]].frozen_per_hold[position[h]];
      if (counted.insert(incident_of[h]).second) ++incidents[incident_of[h]].frozen;
    }
  }
  return incidents;
}

nlohmann::json incidents_json(const std::vector<IncidentView>& incidents) {
  nlohmann::json out = nlohmann::json::array();
  for (const IncidentView& v : incidents) {
    nlohmann::json holds = nlohmann::json::array();
    for (size_t i = 0; i < v.holds.size(); ++i) {
      const store::HoldRecord& h = *v.holds[i];
      holds.push_back({{"actor_type", detect::actor_type_name(h.actor.type)},
                       {"actor", h.actor.key},
                       {"reason", h.reason},
                       {"since", h.since},
                       {"local_user", h.related_user},
                       {"frozen_in_queue", v.frozen_per_hold[i]},
                       {"frozen_by_watch", h.frozen}});
    }
    out.push_back(
        {{"incident", v.name}, {"since", v.holds.front()->since}, {"frozen_in_queue", v.frozen}, {"holds", holds}});
  }
  return out;
}

int run_holds(const WatchArgs& a, bool explicit_config, bool json) {
  auto cfg = resolve_config(a, explicit_config);
  if (!cfg) return kUsage;
  std::string error;
  struct stat st {};
  if (::stat(store::store_path(cfg->state_dir).c_str(), &st) != 0) {  // a fresh install: create nothing
    fmt::print("{}\n", json ? json_text(nlohmann::json{{"incidents", nlohmann::json::array()}}, 2) : "nothing held");
    return kOk;
  }
  auto store = store::HoldStore::open(store::store_path(cfg->state_dir), &error);
  auto holds = store ? store->active_holds(&error) : std::nullopt;
  if (!holds) {
    fmt::print(stderr, "spamwarden holds: {}\n", error);
    return kFailure;
  }
  std::vector<IncidentView> incidents = group_incidents(*holds, cfg->spool_dir);
  if (json) {
    fmt::print("{}\n", json_text(nlohmann::json{{"incidents", incidents_json(incidents)}}, 2));
    return holds->empty() ? kOk : kFindings;
  }
  if (holds->empty()) fmt::print("nothing held\n");
  auto count = [](int64_t n) { return n < 0 ? std::string("?") : std::to_string(n); };
  for (const IncidentView& v : incidents) {
    fmt::print("incident {}  since {}  frozen in the queue {}\n", printable(v.name), local_time(v.holds.front()->since),
               count(v.frozen));
    for (size_t i = 0; i < v.holds.size(); ++i) {
      const store::HoldRecord& h = *v.holds[i];
      fmt::print("  {}  since {}  frozen {}  {}{}\n", printable(detect::format_actor_ref(h.actor)), local_time(h.since),
                 count(v.frozen_per_hold[i]), printable(h.reason),
                 h.related_user.empty() ? "" : " (also holds local_user:" + printable(h.related_user) + ")");
    }
  }
  if (std::any_of(incidents.begin(), incidents.end(), [](const auto& v) { return v.frozen < 0; }))
    fmt::print("(frozen mail not counted: could not read the queue in {})\n", printable(cfg->spool_dir));
  if (!incidents.empty())
    fmt::print("release an incident: spamwarden release TYPE:KEY [--thaw|--remove]; one actor of it: --only\n");
  return holds->empty() ? kOk : kFindings;
}

// [content] learn_from_actions: thawed mail was wanted (ham), removed mail was not (spam).
void learn_from_release(const config::Config& cfg, const contain::ReleaseResult& r) {
  std::vector<std::pair<std::string, std::string>> files;
  bool spam = !r.removed_ids.empty();
  for (const spool::MessageLocation& m : r.thawed_mail) files.emplace_back(m.header_path(), m.data_path());
  for (const std::string& id : r.removed_ids)
    files.emplace_back(r.batch_dir + "/" + id + ".H", r.batch_dir + "/" + id + ".D");
  if (files.empty()) return;
  daemon::FeedbackResult fed =
      daemon::teach_spool_files(daemon::feedback_spamd_address(cfg.content_spamd, cfg.state_dir), files, spam);
  for (const std::string& error : fed.errors) fmt::print(stderr, "spamwarden release: not learned: {}\n", error);
  fmt::print("learned {} message(s) as {}{} ([content] learn_from_actions)\n", fed.learned, spam ? "spam" : "ham",
             fed.already_learned ? fmt::format(", {} of them already", fed.already_learned) : "");
}

int run_release(const WatchArgs& a, bool explicit_config, const std::string& actor_text, bool thaw, bool remove,
                bool only) {
  auto actor = detect::parse_actor_ref(actor_text);
  if (!actor) {
    fmt::print(stderr, "spamwarden release: '{}' is not TYPE:KEY (user:, script:, auth:, ip:, sender:)\n", actor_text);
    return kUsage;
  }
  auto cfg = resolve_config(a, explicit_config);
  if (!cfg) return kUsage;
  std::string error;
  struct stat st {};
  if (::stat(store::store_path(cfg->state_dir).c_str(), &st) != 0) {  // nothing was ever held here
    fmt::print(stderr, "spamwarden release: {} is not held (no holds under {})\n", detect::format_actor_ref(*actor),
               cfg->state_dir);
    return kUsage;
  }
  auto store = store::HoldStore::open(store::store_path(cfg->state_dir), &error);
  if (!store) {
    fmt::print(stderr, "spamwarden release: {}\n", error);
    return kFailure;
  }
  queue::ProcessEximRunner exim(cfg->exim_binary, cfg->exim_config);
  auto mail = thaw ? contain::HeldMail::thaw : remove ? contain::HeldMail::remove : contain::HeldMail::keep;
  std::string op = queue::current_operator();
  contain::ReleaseResult r = contain::release_actor(
      *store, cfg->state_dir, cfg->spool_dir, exim, *actor, mail,
      only ? contain::ReleaseScope::only : contain::ReleaseScope::incident, std::time(nullptr), op);
  if (!r.released) {
    fmt::print(stderr, "spamwarden release: {}\n", r.error);
    return kUsage;
  }
  if (cfg->learn_from_actions) learn_from_release(*cfg, r);
  nlohmann::json lifted = nlohmann::json::array();
  std::string names;
  for (const store::HoldRecord& h : r.lifted) {
    lifted.push_back(detect::format_actor_ref(h.actor));
    names += (names.empty() ? "" : ", ") + printable(detect::format_actor_ref(h.actor));
  }
  queue::append_audit_record(cfg->state_dir,
                             {{"action", "release"},
                              {"actor", detect::format_actor_ref(*actor)},
                              {"released", lifted},
                              {"thawed", r.thawed},
                              {"removed", r.removed},
                              {"failed", r.failed},
                              {"left_frozen", r.still_held},
                              {"scripts_restored", r.scripts_restored}},
                             op, nullptr);
  fmt::print("released {}: thawed {}, removed {} (quarantine {}), failed {}{}\n", names, r.thawed, r.removed,
             r.batch_dir.empty() ? "-" : r.batch_dir, r.failed,
             r.scripts_restored ? fmt::format(", scripts restored {}", r.scripts_restored) : "");
  if (r.still_held)
    fmt::print("left frozen {}: still covered by an active hold ({}); they stay until it is released\n", r.still_held,
               printable(r.still_held_by));
  if (!r.error.empty()) fmt::print(stderr, "spamwarden release: {}\n", r.error);
  return r.failed || !r.error.empty() ? kFailure : kOk;
}

int run_config_check(const std::string& path) {
  std::vector<config::ConfigError> errors;
  auto c = config::load_config(path, true, &errors);
  for (const auto& e : errors) fmt::print("{}\n", config::format_error(path, e));
  if (!c) return kUsage;
  fmt::print("{}: ok (log {}, spool {}, exim {}, state {})\n", path, c->log_path, c->spool_dir, c->exim_binary,
             c->state_dir);
  return kOk;
}

void add_common_options(CLI::App* cmd, WatchArgs& a) {
  cmd->add_option("--config", a.config_path, "TOML config (default /etc/spamwarden/spamwarden.toml)");
  cmd->add_option("--state-dir", a.state_dir, "state directory: store, hold lists (default /var/lib/spamwarden)");
  cmd->add_option("--spool", a.spool, "Exim spool directory");
  cmd->add_option("--exim", a.exim, "Exim binary");
  cmd->add_option("--exim-config", a.exim_config, "run Exim with -C FILE");
}

}  // namespace

void add_watch_commands(CLI::App& app, int* result) {
  auto args = std::make_shared<WatchArgs>();
  CLI::App* watch = app.add_subcommand("watch", "follow the main log live and hold bursting senders");
  add_common_options(watch, *args);
  watch->add_option("--log", args->log, "Exim main log to follow");
  watch->add_flag("--from-start", args->from_start, "read the log from its beginning, not its end");
  watch->add_flag("--exit-at-end", args->exit_at_end,
                  "exit once the log is read to its end (catch-up runs, benchmarks); prints lines/s and peak RSS");
  watch->add_option("--metrics", args->metrics, "serve Prometheus metrics on 127.x.x.x:PORT");
  watch->callback([=] { *result = run_watch(*args, watch->count("--config") > 0); });

  auto json = std::make_shared<bool>(false);
  CLI::App* holds = app.add_subcommand("holds", "who is held now, why, since when, how many messages frozen");
  add_common_options(holds, *args);
  holds->add_flag("--json", *json, "JSON output");
  holds->callback([=] { *result = run_holds(*args, holds->count("--config") > 0, *json); });

  auto actor = std::make_shared<std::string>();
  auto thaw = std::make_shared<bool>(false), remove = std::make_shared<bool>(false);
  CLI::App* release = app.add_subcommand(
      "release", "lift a hold and the rest of its incident; --thaw delivers or --remove quarantines held mail");
  add_common_options(release, *args);
  release->add_option("actor", *actor, "TYPE:KEY, e.g. user:userx1, auth:a@b, ip:1.2.3.4, script:/home/u/x")
      ->required();
  auto only = std::make_shared<bool>(false);
  auto* thaw_opt = release->add_flag("--thaw", *thaw, "deliver the held mail (exim -Mt)");
  release->add_flag("--remove", *remove, "quarantine and remove the held mail")->excludes(thaw_opt);
  release->add_flag("--only", *only,
                    "release this actor alone, not its whole incident (mail another hold covers stays frozen)");
  release->callback(
      [=] { *result = run_release(*args, release->count("--config") > 0, *actor, *thaw, *remove, *only); });

  auto file = std::make_shared<std::string>(config::kDefaultConfigPath);
  CLI::App* cfg = app.add_subcommand("config", "configuration tools");
  CLI::App* check = cfg->add_subcommand("check", "validate a config file (line-precise errors)");
  check->add_option("file", *file, "config file (default /etc/spamwarden/spamwarden.toml)");
  cfg->require_subcommand(1);
  check->callback([=] { *result = run_config_check(*file); });
}

}  // namespace sw::cli
