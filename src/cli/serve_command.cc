// `spamwarden serve`: the policy daemon Exim (readsocket) and Postfix (check_policy_service)
// ask at SMTP time. Glue: config -> hold process -> listeners -> privilege drop -> counters ->
// engine -> event loop; SIGHUP reloads the policy, SIGTERM stops cleanly.
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <thread>

#include "base/file_lock.h"
#include "base/log_line.h"
#include "base/text.h"
#include "cli/commands.h"
#include "config/config.h"
#include "classify/scanner.h"
#include "contain/state_lock.h"
#include "daemon/event_loop.h"
#include "daemon/hold_broker.h"
#include "daemon/policy_sessions.h"
#include "daemon/spamd_client.h"
#include "daemon/spamd_listener.h"
#include "daemon/spamd_session.h"
#include "metrics/metrics.h"
#include "policy/embedded_counter_store.h"
#include "policy/engine.h"
#include "policy/redis_counter_store.h"

namespace sw::cli {
namespace {

std::atomic<bool> g_reload{false};
daemon::EventLoop* g_loop = nullptr;
void on_hup(int) { g_reload = true; }
void on_term(int) {
  if (g_loop) g_loop->stop();
}

struct ServeArgs {
  std::string config_path = config::kDefaultConfigPath;
  std::string state_dir, socket, listen, user, metrics;
  bool check = false;
};

void serve_log(const std::string& text) { print_log_line("spamwarden serve", text); }

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<config::Config> load(const ServeArgs& a, bool explicit_config, bool quiet = false) {
  std::vector<config::ConfigError> errors;
  auto c = config::load_config(a.config_path, explicit_config, &errors);
  for (const auto& e : errors)
    if (!quiet) fmt::print(stderr, "{}\n", config::format_error(a.config_path, e));
    else serve_log("config not reloaded: " + config::format_error(a.config_path, e));
  if (!c) return std::nullopt;
  auto apply = [](const std::string& v, std::string& out) {
    if (!v.empty()) out = v;
  };
  apply(a.state_dir, c->state_dir);
  apply(a.socket, c->serve.socket);
  apply(a.listen, c->serve.listen);
  apply(a.user, c->serve.user);
  apply(a.metrics, c->serve.metrics);
  if (a.listen == "none") c->serve.listen.clear();
  if (a.socket == "none") c->serve.socket.clear();
  config::ServePolicy& p = c->serve.policy;
  if (p.hostnames.empty()) {  // our own name, for the HELO check
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0 && host[0]) p.hostnames.push_back(to_lower(host));
  }
  c->alerts.exim_binary = c->exim_binary;
  c->alerts.exim_config = c->exim_config;
  return c;
}

// The user Exim runs as on this machine: Debian's, cPanel's or a source build's.
std::string exim_user() {
  for (const char* name : {"Debian-exim", "mailnull", "exim"})
    if (::getpwnam(name)) return name;
  return "";
}

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

std::optional<Identity> resolve_user(const std::string& configured, std::string* error) {
  std::string name = configured.empty() ? exim_user() : configured;
  if (name.empty()) {
    *error = "no Exim user found (Debian-exim, mailnull, exim): set [serve] user";
    return std::nullopt;
  }
  const passwd* pw = ::getpwnam(name.c_str());
  if (!pw) {
    *error = "no such user: " + name;
    return std::nullopt;
  }
  return Identity{pw->pw_uid, pw->pw_gid, name};
}

// [serve] spamd_tell_users or spamd_hold_users as uids: names looked up ("@exim": Exim's own
// user), numbers taken as they are; nullopt when "*" lets anyone. A name with no user is left
// out and reported in *unknown.
std::optional<std::vector<uint32_t>> resolve_peer_users(const std::vector<std::string>& users,
                                                        std::vector<std::string>* unknown) {
  std::vector<uint32_t> uids;
  for (const std::string& user : users) {
    if (user == "*") return std::nullopt;
    std::string name = user == "@exim" ? exim_user() : user;
    uint32_t uid = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), uid);
    if (!name.empty() && ec == std::errc() && end == name.data() + name.size()) {
      uids.push_back(uid);
    } else if (const passwd* pw = name.empty() ? nullptr : ::getpwnam(name.c_str())) {
      uids.push_back(pw->pw_uid);
    } else {
      unknown->push_back(user);
    }
  }
  return uids;
}

// resolve_peer_users for [serve] `setting`, with a log line for each name that is no user here.
std::optional<std::vector<uint32_t>> peer_uids_logged(const std::vector<std::string>& users, std::string_view setting,
                                                      std::string_view refused) {
  std::vector<std::string> unknown;
  auto uids = resolve_peer_users(users, &unknown);
  for (const std::string& user : unknown)
    serve_log(fmt::format("content filter: [serve] {} names {}, no user here: {}", setting, user, refused));
  return uids;
}
std::optional<std::vector<uint32_t>> tell_uids_logged(const config::ServeConfig& s) {
  return peer_uids_logged(s.spamd_tell_users, "spamd_tell_users", "its TELLs are refused");
}
std::optional<std::vector<uint32_t>> hold_uids_logged(const config::ServeConfig& s) {
  return peer_uids_logged(s.spamd_hold_users, "spamd_hold_users", "its scans hold no actor");
}
std::optional<std::vector<uint32_t>> policy_uids_logged(const config::ServeConfig& s) {
  return peer_uids_logged(s.policy_users, "policy_users", "its Postfix policy requests are refused");
}

// Whether `id` may create and rename files in `dir`, by its mode bits (what --check can tell
// as root; serve itself asks access(2) once it runs as `id`).
bool writable_by(const std::string& dir, const Identity& id) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return false;
  if (id.uid == 0) return true;
  if (st.st_uid == id.uid) return st.st_mode & S_IWUSR;
  if (st.st_gid == id.gid) return st.st_mode & S_IWGRP;
  return st.st_mode & S_IWOTH;
}

bool drop_privileges(const Identity& id, std::string* error) {
  if (::geteuid() != 0 || id.uid == 0) return true;  // not root, or asked to stay root
  if (::setgroups(0, nullptr) != 0 || ::setgid(id.gid) != 0 || ::setuid(id.uid) != 0) {
    *error = std::string("cannot drop privileges to ") + id.name + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

std::string render_metrics(const policy::Engine& engine, const daemon::EventLoop& loop,
                           const policy::EmbeddedCounterStore& counters, const daemon::DecisionLog& decisions) {
  std::string out;
  const policy::EngineCounts& c = engine.counts();
  out += "# HELP spamwarden_serve_requests_total Policy requests answered.\n";
  out += "# TYPE spamwarden_serve_requests_total counter\n";
  out += fmt::format("spamwarden_serve_requests_total {}\n", c.requests);
  out +=
      "# HELP spamwarden_serve_decisions_total Answers by action.\n# TYPE spamwarden_serve_decisions_total counter\n";
  for (size_t i = 0; i < proto::kActions; ++i)
    out += fmt::format("spamwarden_serve_decisions_total{{action=\"{}\"}} {}\n", proto::action_name(proto::Action(i)),
                       c.actions[i]);
  out += "# HELP spamwarden_serve_checks_total Non-neutral answers by check.\n";
  out += "# TYPE spamwarden_serve_checks_total counter\n";
  for (const char* check : {"rate_limit", "held", "dictionary", "helo", "deny_list"}) {
    auto it = c.checks.find(check);
    out +=
        fmt::format("spamwarden_serve_checks_total{{check=\"{}\"}} {}\n", check, it == c.checks.end() ? 0 : it->second);
  }
  const daemon::ServerCounts& s = loop.counts();
  out += fmt::format(
      "# TYPE spamwarden_serve_holds_placed_total counter\nspamwarden_serve_holds_placed_total {}\n"
      "# TYPE spamwarden_serve_shared_counter_failures_total counter\n"
      "spamwarden_serve_shared_counter_failures_total {}\n"
      "# TYPE spamwarden_serve_counting_locally gauge\nspamwarden_serve_counting_locally {}\n"
      "# TYPE spamwarden_serve_tarpit_cap_reached_total counter\nspamwarden_serve_tarpit_cap_reached_total {}\n"
      "# TYPE spamwarden_serve_connections_open gauge\nspamwarden_serve_connections_open {}\n"
      "# TYPE spamwarden_serve_connections_total counter\nspamwarden_serve_connections_total {}\n"
      "# TYPE spamwarden_serve_connections_refused_total counter\nspamwarden_serve_connections_refused_total {}\n"
      "# TYPE spamwarden_serve_connections_timed_out_total counter\nspamwarden_serve_connections_timed_out_total {}\n"
      "# TYPE spamwarden_serve_bad_requests_total counter\nspamwarden_serve_bad_requests_total {}\n"
      "# TYPE spamwarden_serve_counter_keys gauge\nspamwarden_serve_counter_keys {}\n"
      "# TYPE spamwarden_serve_counter_busy_keys gauge\nspamwarden_serve_counter_busy_keys {}\n"
      "# TYPE spamwarden_serve_counter_memory_bytes gauge\nspamwarden_serve_counter_memory_bytes {}\n"
      "# TYPE spamwarden_serve_counter_evictions_total counter\nspamwarden_serve_counter_evictions_total {}\n"
      "# TYPE spamwarden_serve_counter_untracked_total counter\nspamwarden_serve_counter_untracked_total {}\n"
      "# TYPE spamwarden_serve_counter_write_failures_total counter\n"
      "spamwarden_serve_counter_write_failures_total {}\n"
      "# HELP spamwarden_serve_loop_longest_turn_seconds The longest the loop spent on one batch of events or a tick.\n"
      "# TYPE spamwarden_serve_loop_longest_turn_seconds gauge\n"
      "spamwarden_serve_loop_longest_turn_seconds{{clock=\"wall\"}} {:.6f}\n"
      "spamwarden_serve_loop_longest_turn_seconds{{clock=\"cpu\"}} {:.6f}\n",
      c.holds, c.shared_store_failures, c.using_fallback ? 1 : 0, c.tarpit_cap_reached, s.open, s.accepted,
      s.refused_over_limit, s.timed_out, decisions.bad_requests, counters.keys(), counters.busy_keys(),
      counters.memory_bytes(), counters.evictions(), counters.untracked(), counters.write_failures(),
      double(s.longest_turn_us) / 1e6, double(s.longest_turn_cpu_us) / 1e6);
  return out;
}

daemon::ServerLimits limits_of(const config::ServeConfig& s) {
  return {s.max_connections, std::chrono::milliseconds(s.request_timeout_ms), std::chrono::seconds(s.idle_timeout_s)};
}

// How long a counter matters: the longest window of the policy.
int64_t longest_window_ms(const config::ServePolicy& p) {
  int64_t longest = p.dictionary_window;
  for (const auto& windows : p.limits)
    for (const auto& w : windows) longest = std::max(longest, w.seconds);
  for (const auto& [actor, windows] : p.overrides)
    for (const auto& w : windows) longest = std::max(longest, w.seconds);
  return longest * 1000;
}

// The shared (fleet) counter store; nullptr with *error when it is not available.
// A Redis that is down at start is fine: the store reconnects by itself and the engine counts
// locally meanwhile. Only an unusable address is an error.
std::unique_ptr<policy::CounterStore> open_shared_counters(const config::ServeConfig& s, std::string* error) {
  if (std::string problem = policy::redis_address_error(s.redis); !problem.empty()) {
    *error = "counters = \"redis\": " + problem + " (redis = \"" + s.redis + "\")";
    return nullptr;
  }
  policy::RedisCounterOptions options;
  options.address = s.redis;
  options.key_prefix = s.redis_prefix;
  options.retention_ms = longest_window_ms(s.policy);
  return std::make_unique<policy::RedisCounterStore>(options);
}

// The model file as serve read it: inode, size and time, or "missing". A file written since
// (always renamed into place) differs.
std::string file_identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return fmt::format("{}:{}:{}.{}", st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

// The content filter in the same daemon: Exim's `spam =` and spamc over the spamd protocol. A scan
// takes a few hundred microseconds, so it runs on its listeners' own threads, never on the loop
// that answers the policy requests. Holds go through the same broker as the rate limits'.
struct ContentFilter {
  // First: released last, after the final save. Opened at start (as the user serve starts as, so
  // its note is written after privileges are dropped too), held or to be taken later.
  std::unique_ptr<FileLock> model_lock;
  std::unique_ptr<classify::Scanner> scanner;
  std::unique_ptr<daemon::SpamdSessionFactory> sessions;
  std::vector<std::unique_ptr<daemon::SpamdListener>> listeners;
  std::atomic<bool> learned{false};  // TELL changed the model since it was last saved
  bool save_failed = false;          // touched by the saver thread only, or after joining it
  std::chrono::steady_clock::time_point last_save{};
  std::thread saver;  // a save refits the model and writes megabytes: never on the policy loop
  // Started without the model's lock (a learn held it): nothing is saved over the file that
  // learn writes. The lock is tried again each second; taken, serve writes the file from then on,
  // after reading it again if learn wrote it and nothing was taught here meanwhile (else serve
  // never writes it, and says to restart to scan with it).
  std::string lock_path, lock_note, loaded_file;
  bool lock_given_up = false, unsaved_logged = false;
  std::atomic<bool> taught{false};  // TELL changed the model since serve started
  // The state directory is not writable by the user serve runs as: nothing TELL teaches could be
  // saved (the file is replaced by a rename there), so TELL is refused rather than lost at restart.
  std::atomic<bool> cannot_save{false};

  ~ContentFilter() {
    stop_syncer();
    join_saver();
  }
  void join_saver() {
    if (saver.joinable()) saver.join();
  }

  // A fleet's model: what the other servers learned is applied every second, and the copy is
  // saved (with a snapshot when one is due) like a model TELL changed. One log line when the
  // journal goes out of reach and one when it is back: scanning goes on either way.
  void start_syncer() {
    journal_reachable = scanner->sync_error().empty();
    syncer = std::thread([this] {
      bool reachable = journal_reachable;
      uint64_t snapshots_logged = 0;
      std::unique_lock lock(sync_mutex);
      while (!sync_cv.wait_for(lock, std::chrono::seconds(1), [&] { return stopping; })) {
        std::string before = scanner->fleet_position(), error;
        bool ok = scanner->sync(&error);
        if (scanner->fleet_position() != before) learned = true;
        if (ok != reachable)
          serve_log(ok ? "content model: in step with the fleet's journal again"
                       : "content model: cannot follow the fleet's journal (scanning with this server's copy): " +
                             error);
        reachable = journal_reachable = ok;
        if (uint64_t stored = scanner->snapshots_stored(); stored != snapshots_logged) {
          snapshots_logged = stored;
          serve_log(
              "content model: Redis held no snapshot of the fleet's model (a new fleet, or Redis lost it): "
              "stored this server's copy at " +
              scanner->fleet_position());
        }
      }
    });
  }

  // Prometheus lines: what the model has learned, and for a fleet's whether its journal answers.
  std::string metrics() const {
    if (!scanner) return {};
    std::string out = fmt::format(
        "# TYPE spamwarden_content_spam_learned gauge\nspamwarden_content_spam_learned {}\n"
        "# TYPE spamwarden_content_ham_learned gauge\nspamwarden_content_ham_learned {}\n",
        scanner->spam_learned(), scanner->ham_learned());
    if (scanner->fleet())
      out += fmt::format(
          "# TYPE spamwarden_content_journal_reachable gauge\nspamwarden_content_journal_reachable {}\n"
          "# TYPE spamwarden_content_journal_skipped_total counter\nspamwarden_content_journal_skipped_total {}\n",
          journal_reachable ? 1 : 0, scanner->skipped_entries());
    return out;
  }
  void stop_syncer() {
    {
      std::lock_guard lock(sync_mutex);
      stopping = true;
    }
    sync_cv.notify_all();
    if (syncer.joinable()) syncer.join();
  }

  // At most once a minute (the model is megabytes, written with fsync), and at exit (now: waits
  // for a save under way, then saves on the calling thread).
  void save_if_learned(bool now = false) {
    auto t = std::chrono::steady_clock::now();
    if (!scanner || !writes_model_file()) return;
    if (!now && t - last_save < std::chrono::minutes(1)) return;
    if (now) join_saver();
    else if (saving.load()) return;
    if (!learned.exchange(false)) return;
    last_save = t;
    join_saver();
    if (now) return save();
    saving = true;
    saver = std::thread([this] {
      save();
      saving = false;
    });
  }

 private:
  // Whether this serve may write the model file now (see lock_path); says once when it may not.
  bool writes_model_file() {
    if ((model_lock && model_lock->held()) || scanner->fleet()) return true;
    if (!lock_given_up) {
      std::optional<FileLock::Holder> holder;
      std::string error;
      if (!model_lock) model_lock = FileLock::open(lock_path, &error);
      if (model_lock && model_lock->try_lock(lock_note, &holder, &error)) {
        std::string now = file_identity(scanner->model_file());
        bool reread = now != loaded_file && !taught && scanner->reload(&error);
        if (now == loaded_file || reread) {
          serve_log(std::string("content model: its lock is free now") + (reread ? ", the file read again" : "") +
                    ": serve saves what TELL teaches, and learn goes through it");
          return true;
        }
        lock_given_up = true;
        model_lock.reset();
        serve_log("content model: " + scanner->model_file() +
                  " was written by another process after serve read it: what TELL teaches is not saved over it "
                  "(restart serve to scan with that file)");
      }
    }
    if (learned && !unsaved_logged)
      serve_log("content model: what TELL taught is not saved: serve does not hold " + lock_path),
          unsaved_logged = true;
    return false;
  }
  std::atomic<bool> saving{false};
  std::atomic<bool> journal_reachable{true};
  std::thread syncer;
  std::mutex sync_mutex;
  std::condition_variable sync_cv;
  bool stopping = false;
  void save() {
    std::string error;
    if (scanner->save(&error)) save_failed = false;
    else if (!save_failed) serve_log("content model not saved (kept in memory): " + error), save_failed = true;
  }
};

using HoldFn = std::function<void(const detect::ActorRef&, const std::string&)>;

// The model file has one writer (classify::Scanner::kLockFileName): while serve runs it is serve,
// which saves what TELL teaches over the file, so `spamwarden learn` sends its messages here (the
// lock's note says where) instead of writing a file serve would overwrite. A learn under way is
// not waited for (the policy listeners start after this): serve takes the lock when it is free
// (ContentFilter::writes_model_file).
std::unique_ptr<FileLock> take_model_lock(const std::string& path, const std::string& note) {
  std::optional<FileLock::Holder> holder;
  std::string error;
  auto lock = FileLock::open(path, &error);
  if (lock && lock->try_lock(note, &holder, &error)) return lock;
  serve_log("content model: " + error +
            (holder ? " (a spamwarden learn?): serve takes it once it is free, and reads the model again then"
                    : " (spamwarden learn cannot reach this serve through it)"));
  return lock;  // opened: tried again later
}

// Opens the spamd listeners (run once privileges are dropped) when [serve] names any; false (logged) only when a
// configured one cannot listen. A model that cannot be read leaves the content filter off, never the daemon.
bool start_content_filter(const config::Config& c, const HoldFn& hold, ContentFilter* out) {
  const config::ServeConfig& s = c.serve;
  if (s.spamd_socket.empty() && s.spamd_listen.empty()) return true;
  std::string error;
  bool fleet = s.content_model == "redis";
  if (!fleet) {  // a fleet's model is in Redis: no file to own
    out->lock_path = classify::Scanner::lock_path(c.state_dir);
    out->lock_note = daemon::serve_lock_note(s.spamd_socket.empty() ? s.spamd_listen : s.spamd_socket);
    out->model_lock = take_model_lock(out->lock_path, out->lock_note);
    out->loaded_file = file_identity(c.state_dir + "/" + classify::Scanner::kModelFileName);  // before reading it
  }
  out->scanner = fleet ? classify::Scanner::open_fleet(c.state_dir, {}, {s.redis, s.redis_prefix}, &error)
                       : classify::Scanner::open(c.state_dir, {}, &error);
  if (!out->scanner) {
    serve_log("content filter off: " + error);
    out->model_lock.reset();  // nothing here writes the model, nor answers learn's TELLs: learn writes it
    return true;
  }
  classify::Scanner& scanner = *out->scanner;
  if (fleet && !scanner.sync_error().empty())
    serve_log("content model, at start: " + scanner.sync_error() + " (scanning with this server's copy meanwhile)");
  daemon::SpamdEngine engine;
  engine.scan = [&scanner](std::string_view message) { return scanner.scan(message); };
  auto teach = [&scanner, out](std::string_view message, bool spam, bool forget) {
    if (out->cannot_save) return classify::Taught::Unsaved;
    std::string why;
    classify::Taught t = forget ? scanner.forget(message, &why) : scanner.learn(message, spam, &why);
    if (classify::changed(t)) out->learned = true, out->taught = true;
    if (t == classify::Taught::Failed)
      serve_log(std::string("content model: not ") + (forget ? "forgotten" : "learned") + ": " + why);
    return t;
  };
  engine.learn = [teach](std::string_view message, bool spam) { return teach(message, spam, false); };
  engine.forget = [teach](std::string_view message) { return teach(message, false, true); };
  engine.hold = [hold](const detect::ActorRef& actor, const classify::Verdict& verdict) {
    hold(actor, fmt::format("content score {:.1f}", verdict.score));
  };
  engine.log = [](std::string_view line) { serve_log(std::string(line)); };
  daemon::SpamdOptions options;
  options.hold_score = s.spamd_hold_score;
  options.tell_uids = tell_uids_logged(s);
  options.hold_uids = hold_uids_logged(s);
  out->sessions = std::make_unique<daemon::SpamdSessionFactory>(std::move(engine), options);
  daemon::ListenerOptions listener_options;
  listener_options.max_connections = int(s.spamd_max_connections);
  listener_options.log = [](std::string_view line) { serve_log(std::string(line)); };
  for (const std::string& address : {s.spamd_socket, s.spamd_listen}) {
    if (address.empty()) continue;
    if (address.front() == '/') {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(address).parent_path(), ec);
    }
    auto listener = daemon::SpamdListener::open(address, *out->sessions, listener_options, &error);
    if (!listener) {
      serve_log("content filter: " + error);
      return false;
    }
    out->listeners.push_back(std::move(listener));
  }
  if (fleet) out->start_syncer();
  serve_log(fmt::format("content filter on {}{}{} ({} spam, {} ham learned{})", s.spamd_socket,
                        s.spamd_socket.empty() || s.spamd_listen.empty() ? "" : " and ", s.spamd_listen,
                        scanner.spam_learned(), scanner.ham_learned(),
                        fleet ? ", the fleet's model in Redis " + s.redis + " at " + scanner.fleet_position() : ""));
  return true;
}

int run_check(const config::Config& c) {
  const config::ServeConfig& s = c.serve;
  fmt::print("config OK\n");
  fmt::print(
      "exim socket: {}\npostfix listen: {}\nuser: {}\ncounters: {}{}\ncontent model: {}{}\nstate: {}\nmetrics: {}\n",
      s.socket.empty() ? "-" : s.socket, s.listen.empty() ? "-" : s.listen,
      s.user.empty() ? exim_user() + " (the Exim user)" : s.user, s.counters,
      s.counters == "redis" ? " " + s.redis : "", s.content_model, s.content_model == "redis" ? " " + s.redis : "",
      c.state_dir, s.metrics.empty() ? "-" : s.metrics);
  if (!s.spamd_socket.empty() || !s.spamd_listen.empty()) {
    std::vector<std::string> unknown;
    auto uids = resolve_peer_users(s.spamd_tell_users, &unknown);
    std::vector<std::string> known;  // the names that are users here
    for (const std::string& user : s.spamd_tell_users)
      if (std::find(unknown.begin(), unknown.end(), user) == unknown.end()) known.push_back(user);
    std::string who = uids ? fmt::format("{}", fmt::join(known, ", ")) : "anyone";
    fmt::print("spamd: {}{}{}, TELL from {}\n", s.spamd_socket,
               s.spamd_socket.empty() || s.spamd_listen.empty() ? "" : " and ", s.spamd_listen,
               who.empty() ? "no one" : who);
    for (const std::string& user : unknown)
      fmt::print("warning: spamd_tell_users names {}, no user here: its TELLs would be refused\n", user);
    std::string why;
    if (auto id = resolve_user(s.user, &why); id && s.content_model != "redis" && !writable_by(c.state_dir, *id))
      fmt::print(
          "warning: {} is not writable by {}: serve could not save what TELL teaches, and refuses TELL "
          "(spamc -L, spamwarden learn while serve runs); chown {} {}\n",
          c.state_dir, id->name, id->name, c.state_dir);
    std::vector<std::string> not_here;
    auto holders = resolve_peer_users(s.spamd_hold_users, &not_here);
    fmt::print("spamd holds for scans from: {}\n",
               holders ? fmt::format("{}", fmt::join(s.spamd_hold_users, ", ")) : std::string("anyone"));
    for (const std::string& user : not_here)
      fmt::print("warning: spamd_hold_users names {}, no user here: its scans would hold no actor\n", user);
  }
  fmt::print("{}", config::describe_policy(s.policy));
  return kOk;
}

int run_serve(const ServeArgs& a, bool explicit_config) {
  auto cfg = load(a, explicit_config);
  if (!cfg) return kUsage;
  if (a.check) return run_check(*cfg);
  const config::ServeConfig& s = cfg->serve;
  std::string error;
  auto identity = resolve_user(s.user, &error);
  if (!identity) {
    serve_log(error);
    return kUsage;
  }
  std::string counters_dir = cfg->state_dir + "/serve";
  if (!contain::ensure_writable_directory(counters_dir, &error)) {
    serve_log(error);
    return kFailure;
  }
  if (::geteuid() == 0 && ::chown(counters_dir.c_str(), identity->uid, identity->gid) != 0)
    serve_log("cannot hand " + counters_dir + " to " + identity->name + ": " + std::strerror(errno));
  // The hold process first: it keeps root and must not inherit the listening sockets.
  daemon::HoldBroker broker;
  daemon::HoldBrokerOptions broker_options{cfg->state_dir,   cfg->spool_dir,     cfg->exim_binary,
                                           cfg->exim_config, cfg->freeze_queued, cfg->alerts};
  if (!broker.start(broker_options, serve_log, &error)) serve_log("holds will not be recorded: " + error);

  policy::EmbeddedCounterStore local(s.policy.counter_memory_mb << 20);
  local.set_retention(longest_window_ms(s.policy));
  std::unique_ptr<policy::CounterStore> shared;
  if (s.counters == "redis") {
    shared = open_shared_counters(s, &error);
    if (!shared) serve_log(error + ": counting locally");
  }
  daemon::DecisionLog decisions{serve_log, now_ms};
  std::mutex hold_mutex;  // the policy loop and the content filter's threads share the broker
  HoldFn hold = [&broker, &hold_mutex](const detect::ActorRef& actor, const std::string& reason) {
    std::lock_guard lock(hold_mutex);
    broker.hold(actor, reason);
  };
  policy::Engine engine(s.policy, shared ? shared.get() : &local, &local, hold, serve_log);
  daemon::EximSessionFactory exim_sessions(&engine, &decisions);
  daemon::PostfixSessionFactory postfix_sessions(&engine, &decisions);
  if (!s.listen.empty()) postfix_sessions.set_allowed_uids(policy_uids_logged(s));

  daemon::EventLoop loop(limits_of(s), serve_log);
  std::vector<daemon::ListenerSpec> listeners;
  int socket_gid = -1;
  if (::geteuid() == 0) {
    socket_gid = int(identity->gid);
    if (!s.socket_group.empty()) {
      const group* g = ::getgrnam(s.socket_group.c_str());
      if (!g) {
        serve_log("no such group: " + s.socket_group);
        return kUsage;
      }
      socket_gid = int(g->gr_gid);
    }
  }
  if (!s.socket.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(s.socket).parent_path(), ec);
    listeners.push_back({s.socket, &exim_sessions, socket_gid});
  }
  if (!s.listen.empty()) listeners.push_back({s.listen, &postfix_sessions});
  if (listeners.empty() && s.spamd_socket.empty() && s.spamd_listen.empty()) {
    serve_log("nothing to listen on: set [serve] socket, listen or spamd_socket");
    return kUsage;
  }
  // The content filter listens first: once the policy sockets answer, all of serve does.
  ContentFilter content;
  if (!start_content_filter(*cfg, hold, &content)) return kFailure;
  if (!loop.listen(listeners, &error)) {
    serve_log(error);
    return kFailure;
  }
  std::mutex metrics_mutex;
  std::string metrics_text;
  metrics::MetricsServer metrics_server([&] {
    std::lock_guard lock(metrics_mutex);
    return metrics_text;
  });
  if (!s.metrics.empty() && !metrics_server.open(s.metrics, &error)) {
    serve_log(error);
    return kUsage;
  }
  if (!drop_privileges(*identity, &error)) {
    serve_log(error);
    return kFailure;
  }
  if (content.scanner && !content.scanner->fleet() && ::access(cfg->state_dir.c_str(), W_OK) != 0) {
    content.cannot_save = true;
    serve_log(
        fmt::format("content model: {} is not writable by {}: nothing TELL teaches could be saved, so TELL (spamc -L, "
                    "spamwarden learn) is refused; chown {} {} and restart serve to learn through it",
                    cfg->state_dir, identity->name, identity->name, cfg->state_dir));
  }
  // Bound as root; no message is parsed, nor a TELL taken, before the privileges are dropped.
  for (auto& listener : content.listeners) listener->run();
  metrics_server.run();
  if (!local.attach_file(counters_dir + "/counters.db", now_ms(), &error))
    serve_log("counters kept in memory only (lost on restart): " + error);
  if (broker.running())
    loop.watch_fd(broker.fd(), [&] {
      std::unordered_set<std::string> held;
      if (broker.read_updates(&held)) engine.set_held(std::move(held));
    });

  g_loop = &loop;
  std::signal(SIGHUP, on_hup);
  std::signal(SIGTERM, on_term);
  std::signal(SIGINT, on_term);
  std::signal(SIGPIPE, SIG_IGN);
  serve_log(fmt::format("serving{}{} as {} (counters {}, state {})", s.socket.empty() ? "" : " exim on " + s.socket,
                        s.listen.empty() ? "" : ", postfix on " + s.listen, identity->name,
                        shared ? s.counters : "local", cfg->state_dir));
  auto last_checkpoint = std::chrono::steady_clock::now();
  loop.run(std::chrono::milliseconds(200), [&] {
    if (g_reload.exchange(false)) {
      if (auto fresh = load(a, explicit_config, true)) {
        engine.set_config(fresh->serve.policy);
        if (!s.listen.empty()) postfix_sessions.set_allowed_uids(policy_uids_logged(fresh->serve));
        local.set_retention(longest_window_ms(fresh->serve.policy));
        loop.set_limits(limits_of(fresh->serve));
        if (content.sessions)
          content.sessions->set_peer_uids(tell_uids_logged(fresh->serve), hold_uids_logged(fresh->serve));
        serve_log("config reloaded");
      }
      broker.refresh();
    }
    local.checkpoint();  // kill -9 loses at most the changes of the last batch or two (~0.2 s)
    auto now = std::chrono::steady_clock::now();
    if (now - last_checkpoint >= std::chrono::seconds(1)) {
      last_checkpoint = now;
      content.save_if_learned();
      std::string text = render_metrics(engine, loop, local, decisions) + content.metrics();
      std::lock_guard lock(metrics_mutex);
      metrics_text = std::move(text);
    }
  });
  g_loop = nullptr;
  for (auto& listener : content.listeners) listener->stop();
  content.stop_syncer();
  content.save_if_learned(true);
  local.flush();
  broker.stop();
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  serve_log(fmt::format("stopping after {} requests, {} holds placed, peak RSS {} MB", engine.counts().requests,
                        engine.counts().holds, ru.ru_maxrss / 1024));
  return kOk;
}

}  // namespace

void add_serve_command(CLI::App& app, int* result) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* serve = app.add_subcommand("serve", "policy daemon: decide at SMTP time for Exim and Postfix");
  serve->add_option("--config", args->config_path, "config file (default /etc/spamwarden/spamwarden.toml)");
  serve->add_option("--state-dir", args->state_dir, "state directory (holds, counters)");
  serve->add_option("--socket", args->socket, "Unix socket for Exim's readsocket (\"none\": off)");
  serve->add_option("--listen", args->listen, "127.x.x.x:PORT for Postfix's check_policy_service (\"none\": off)");
  serve->add_option("--user", args->user, "user to run as after binding (default: the Exim user)");
  serve->add_option("--metrics", args->metrics, "serve Prometheus metrics on 127.x.x.x:PORT");
  serve->add_flag("--check", args->check, "load and validate the config, print the effective policy, exit");
  serve->callback([=] { *result = run_serve(*args, serve->count("--config") > 0); });
}

}  // namespace sw::cli
