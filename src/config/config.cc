#include "config/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "base/loopback_listen.h"
#include "base/ip_cidr.h"
#include "store/redis_connection.h"

namespace sw::config {

using detect::ActorLimits;
using detect::ActorType;

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string first_existing(std::initializer_list<const char*> paths) {
  for (const char* p : paths)
    if (exists(p)) return p;
  return *paths.begin();
}

// Walks one TOML table, checking keys and types; collects errors with line numbers.
class Reader {
 public:
  explicit Reader(std::vector<ConfigError>* errors) : errors_(errors) {}

  void error(const toml::node& node, const std::string& message) {
    errors_->push_back({int(node.source().begin.line), message});
  }
  // Reports keys of `table` not in `known`.
  void unknown_keys(const toml::table& table, const std::string& where, const std::set<std::string>& known) {
    for (const auto& [key, node] : table)
      if (!known.count(std::string(key.str())))
        error(node, "unknown key '" + std::string(key.str()) + "' in [" + where + "]");
  }
  void string(const toml::table& t, const char* key, std::string& out) {
    if (const toml::node* n = t.get(key)) {
      if (auto v = n->value<std::string>()) out = *v;
      else error(*n, std::string("'") + key + "' must be a string");
    }
  }
  void boolean(const toml::table& t, const char* key, bool& out) {
    if (const toml::node* n = t.get(key)) {
      if (auto v = n->value<bool>()) out = *v;
      else error(*n, std::string("'") + key + "' must be true or false");
    }
  }
  template <class Int>
  void integer(const toml::table& t, const char* key, Int& out, int64_t min, int64_t max) {
    if (const toml::node* n = t.get(key)) {
      auto v = n->value<int64_t>();
      if (!v || !n->is_integer()) error(*n, std::string("'") + key + "' must be an integer");
      else if (*v < min || *v > max)
        error(*n, std::string("'") + key + "' must be between " + std::to_string(min) + " and " + std::to_string(max));
      else out = Int(*v);
    }
  }
  void fraction(const toml::table& t, const char* key, double& out) {
    if (const toml::node* n = t.get(key)) {
      auto v = n->value<double>();
      if (!v || *v < 0 || *v > 1) error(*n, std::string("'") + key + "' must be a number between 0 and 1");
      else out = *v;
    }
  }

 private:
  std::vector<ConfigError>* errors_;
};

// [limits.<type>] or [actor."<type>:<key>"]: windows = [{seconds, messages, recipients}], domains_per_hour.
void read_actor_limits(Reader& r, const toml::table& t, const std::string& where, ActorLimits& out) {
  r.unknown_keys(t, where, {"windows", "domains_per_hour"});
  r.integer(t, "domains_per_hour", out.domains_per_hour, 0, 100000000);
  const toml::node* w = t.get("windows");
  if (!w) return;
  const toml::array* arr = w->as_array();
  if (!arr) return r.error(*w, "'windows' must be an array of tables");
  if (arr->size() > detect::kMaxScales) r.error(*w, "at most " + std::to_string(detect::kMaxScales) + " windows");
  out.scales.clear();
  for (const toml::node& item : *arr) {
    const toml::table* win = item.as_table();
    if (!win) {
      r.error(item, "each window must be a table like { seconds = 60, messages = 60, recipients = 300 }");
      continue;
    }
    r.unknown_keys(*win, where + ".windows", {"seconds", "messages", "recipients"});
    detect::ScaleLimit s{0, 0, 0};
    r.integer(*win, "seconds", s.seconds, 1, 7 * 86400);
    r.integer(*win, "messages", s.messages, 0, 1000000000);
    r.integer(*win, "recipients", s.recipients, 0, 1000000000);
    if (s.seconds == 0) r.error(item, "a window needs 'seconds'");
    else if (out.scales.size() < detect::kMaxScales) out.scales.push_back(s);
  }
}

void read_paths(Reader& r, const toml::table& t, Config& c) {
  r.unknown_keys(t, "paths", {"log", "spool", "exim", "exim_config", "state_dir", "access_logs"});
  if (const toml::node* logs = t.get("access_logs")) {
    const toml::array* arr = logs->as_array();
    if (!arr) r.error(*logs, "'access_logs' must be an array of paths");
    for (size_t i = 0; arr && i < arr->size(); ++i) {
      auto v = (*arr)[i].value<std::string>();
      if (v && v->rfind('/', 0) == 0) c.access_logs.push_back(*v);
      else r.error((*arr)[i], "'access_logs' entries must be absolute paths (files, directories or globs)");
    }
  }
  r.string(t, "log", c.log_path);
  r.string(t, "spool", c.spool_dir);
  r.string(t, "exim", c.exim_binary);
  r.string(t, "exim_config", c.exim_config);
  r.string(t, "state_dir", c.state_dir);
  for (const char* key : {"log", "spool", "exim", "state_dir"})
    if (const toml::node* n = t.get(key); n && n->is_string() && n->value<std::string>()->rfind('/', 0) != 0)
      r.error(*n, std::string("'") + key + "' must be an absolute path");
}

void read_watch(Reader& r, const toml::table& t, Config& c) {
  r.unknown_keys(t, "watch", {"metrics", "freeze_queued", "poll_ms", "disable_scripts"});
  r.string(t, "metrics", c.metrics_listen);
  r.boolean(t, "freeze_queued", c.freeze_queued);
  r.boolean(t, "disable_scripts", c.disable_scripts);
  r.integer(t, "poll_ms", c.poll_ms, 1, 5000);
  std::string host, problem;
  int port = 0;
  if (const toml::node* n = t.get("metrics");
      n && !c.metrics_listen.empty() && !parse_loopback_listen(c.metrics_listen, &host, &port, &problem))
    r.error(*n, "'metrics': " + problem + ", e.g. \"127.0.0.1:9813\"");
}

void read_signals(Reader& r, const toml::table& t, detect::SignalLimits& s) {
  r.unknown_keys(
      t, "signals",
      {"many_recipients", "many_recipient_messages", "account_ips", "failed_logins", "after_failures_recipients",
       "random_sender_min", "random_sender_share", "fail_share_min", "fail_share"});
  r.integer(t, "many_recipients", s.many_recipients, 1, 1000000);
  r.integer(t, "many_recipient_messages", s.many_recipient_messages, 0, 1000000);
  r.integer(t, "account_ips", s.account_ips, 0, 1000000);
  r.integer(t, "failed_logins", s.failed_logins, 0, 1000000);
  r.integer(t, "after_failures_recipients", s.after_failures_recipients, 0, 1000000);
  r.integer(t, "random_sender_min", s.random_sender_min, 0, 1000000);
  r.fraction(t, "random_sender_share", s.random_sender_share);
  r.integer(t, "fail_share_min", s.fail_share_min, 0, 1000000);
  r.fraction(t, "fail_share", s.fail_share);
}

void read_alerts(Reader& r, const toml::table& t, alert::AlertConfig& a) {
  r.unknown_keys(t, "alerts",
                 {"syslog", "webhook_url", "webhook_timeout_ms", "email_to", "email_from", "exec", "exec_timeout_ms"});
  r.boolean(t, "syslog", a.syslog);
  r.string(t, "webhook_url", a.webhook_url);
  r.integer(t, "webhook_timeout_ms", a.webhook_timeout_ms, 1, 60000);
  r.string(t, "email_to", a.email_to);
  r.string(t, "email_from", a.email_from);
  r.string(t, "exec", a.exec);
  r.integer(t, "exec_timeout_ms", a.exec_timeout_ms, 1, 600000);
  if (const toml::node* n = t.get("webhook_url"); n && !a.webhook_url.empty() && a.webhook_url.rfind("http://", 0) != 0)
    r.error(*n, "'webhook_url' must start with http:// (for HTTPS use exec with curl)");
}

void read_type_tables(Reader& r, const toml::table& t, const char* where, Config& c, bool allow) {
  for (const auto& [key, node] : t) {
    auto type = detect::parse_actor_type(key.str());
    if (!type) {
      r.error(node, "unknown actor type '" + std::string(key.str()) +
                        "' (script, local_user, auth_account, client_ip, sender)");
      continue;
    }
    if (allow) {
      const toml::array* arr = node.as_array();
      if (!arr) {
        r.error(node, std::string("[") + where + "] " + std::string(key.str()) + " must be an array of strings");
        continue;
      }
      for (const toml::node& item : *arr) {
        if (auto v = item.value<std::string>()) c.limits.allow[size_t(*type)].insert(detect::normalize_key(*type, *v));
        else r.error(item, "allowlist entries must be strings");
      }
    } else if (const toml::table* lt = node.as_table()) {
      read_actor_limits(r, *lt, std::string(where) + "." + std::string(key.str()), c.limits.by_type[size_t(*type)]);
    } else {
      r.error(node, std::string("[") + where + "." + std::string(key.str()) + "] must be a table");
    }
  }
}

// [actor."local_user:newsletter"] windows = [...]: per-actor overrides.
void read_actor_overrides(Reader& r, const toml::table& t, Config& c) {
  for (const auto& [key, node] : t) {
    auto ref = detect::parse_actor_ref(key.str());
    const toml::table* lt = node.as_table();
    if (!ref) {
      r.error(node,
              "actor '" + std::string(key.str()) + "' must look like \"local_user:name\" or \"auth_account:a@b\"");
      continue;
    }
    if (!lt) {
      r.error(node, "[actor.\"" + std::string(key.str()) + "\"] must be a table");
      continue;
    }
    ActorLimits limits = c.limits.by_type[size_t(ref->type)];
    read_actor_limits(r, *lt, "actor." + std::string(key.str()), limits);
    c.limits.per_actor[{ref->type, ref->key}] = limits;
  }
}

// [serve.limits.<actor>] and [serve.actor."<actor>:<key>"]: windows = [{seconds, messages, recipients}].
void read_serve_windows(Reader& r, const toml::table& t, const std::string& where, std::vector<Window>& out) {
  r.unknown_keys(t, where, {"windows"});
  const toml::node* w = t.get("windows");
  if (!w) return;
  const toml::array* arr = w->as_array();
  if (!arr) return r.error(*w, "'windows' must be an array of tables");
  out.clear();
  for (const toml::node& item : *arr) {
    const toml::table* win = item.as_table();
    if (!win) {
      r.error(item, "each window must be a table like { seconds = 3600, messages = 500, recipients = 2500 }");
      continue;
    }
    r.unknown_keys(*win, where + ".windows", {"seconds", "messages", "recipients"});
    Window s{0, 0, 0};
    r.integer(*win, "seconds", s.seconds, 1, 7 * 86400);
    r.integer(*win, "messages", s.messages, 0, 1000000000);
    r.integer(*win, "recipients", s.recipients, 0, 1000000000);
    if (s.seconds == 0) r.error(item, "a window needs 'seconds'");
    else out.push_back(s);
  }
}

void read_string_list(Reader& r, const toml::table& t, const char* key, std::vector<std::string>& out, bool lower) {
  const toml::node* n = t.get(key);
  if (!n) return;
  const toml::array* arr = n->as_array();
  if (!arr) return r.error(*n, std::string("'") + key + "' must be an array of strings");
  out.clear();
  for (const toml::node& item : *arr) {
    auto v = item.value<std::string>();
    if (!v) {
      r.error(item, std::string("'") + key + "' entries must be strings");
      continue;
    }
    std::string s = *v;
    if (lower)
      for (char& ch : s) ch = char(std::tolower((unsigned char)ch));
    out.push_back(s);
  }
}

void read_serve_lists(Reader& r, const toml::table& t, const std::string& where, Lists& l) {
  r.unknown_keys(t, where, {"ips", "senders", "sender_domains", "helos", "accounts"});
  read_string_list(r, t, "ips", l.ip_texts, false);
  l.ips.clear();
  if (const toml::array* arr = t.get("ips") ? t.get("ips")->as_array() : nullptr)
    for (const toml::node& item : *arr)
      if (auto v = item.value<std::string>()) {
        if (auto range = parse_cidr(*v)) l.ips.push_back(*range);
        else r.error(item, "'" + *v + "' is not an IP address or CIDR range");
      }
  read_string_list(r, t, "senders", l.senders, true);
  read_string_list(r, t, "sender_domains", l.sender_domains, true);
  read_string_list(r, t, "helos", l.helos, true);
  read_string_list(r, t, "accounts", l.accounts, true);
}

void read_serve_policy_tables(Reader& r, const toml::table& t, ServePolicy& p) {
  if (const toml::node* n = t.get("limits")) {
    const toml::table* lt = n->as_table();
    if (!lt) return r.error(*n, "[serve.limits] must be a table");
    for (const auto& [key, node] : *lt) {
      Actor actor;
      if (!parse_actor(key.str(), &actor)) {
        r.error(node, "unknown actor type '" + std::string(key.str()) +
                          "' (auth_account, local_user, script, sender, sender_domain, client_ip)");
      } else if (const toml::table* at = node.as_table()) {
        read_serve_windows(r, *at, "serve.limits." + std::string(key.str()), p.limits[size_t(actor)]);
      } else {
        r.error(node, "[serve.limits." + std::string(key.str()) + "] must be a table");
      }
    }
  }
  if (const toml::node* n = t.get("actor")) {
    const toml::table* at = n->as_table();
    if (!at) return r.error(*n, "[serve.actor] must be a table");
    for (const auto& [key, node] : *at) {
      std::string name(key.str());
      size_t colon = name.find(':');
      Actor actor;
      const toml::table* wt = node.as_table();
      if (colon == std::string::npos || colon + 1 == name.size() || !parse_actor(name.substr(0, colon), &actor)) {
        r.error(node,
                "actor '" + name + "' must look like \"auth_account:news@example.com\" or \"client_ip:192.0.2.1\"");
        continue;
      }
      if (!wt) {
        r.error(node, "[serve.actor.\"" + name + "\"] must be a table");
        continue;
      }
      std::string key_text = name.substr(colon + 1);
      if (actor != Actor::Script && actor != Actor::LocalUser)
        for (char& ch : key_text) ch = char(std::tolower((unsigned char)ch));
      std::vector<Window> windows = p.limits[size_t(actor)];
      read_serve_windows(r, *wt, "serve.actor." + name, windows);
      p.overrides[std::string(actor_name(actor)) + ":" + key_text] = windows;
    }
  }
}

void read_serve(Reader& r, const toml::table& t, ServeConfig& s) {
  r.unknown_keys(t, "serve",
                 {"socket",
                  "socket_group",
                  "listen",
                  "user",
                  "counters",
                  "redis",
                  "redis_prefix",
                  "metrics",
                  "spamd_socket",
                  "spamd_listen",
                  "content_model",
                  "spamd_hold_score",
                  "spamd_max_connections",
                  "spamd_tell_users",
                  "spamd_hold_users",
                  "policy_users",
                  "max_connections",
                  "request_timeout_ms",
                  "idle_timeout_s",
                  "over_limit",
                  "hold",
                  "counter_memory_mb",
                  "max_keys",
                  "limits",
                  "actor",
                  "dictionary",
                  "tarpit",
                  "helo",
                  "allow",
                  "deny"});
  ServePolicy& p = s.policy;
  r.string(t, "socket", s.socket);
  r.string(t, "socket_group", s.socket_group);
  r.string(t, "listen", s.listen);
  r.string(t, "user", s.user);
  r.string(t, "counters", s.counters);
  r.string(t, "redis", s.redis);
  r.string(t, "redis_prefix", s.redis_prefix);
  r.string(t, "metrics", s.metrics);
  r.string(t, "spamd_socket", s.spamd_socket);
  r.string(t, "spamd_listen", s.spamd_listen);
  r.string(t, "content_model", s.content_model);
  r.integer(t, "spamd_hold_score", s.spamd_hold_score, 1, 1000);
  r.integer(t, "spamd_max_connections", s.spamd_max_connections, 1, 10000);
  read_string_list(r, t, "spamd_tell_users", s.spamd_tell_users, false);
  read_string_list(r, t, "spamd_hold_users", s.spamd_hold_users, false);
  read_string_list(r, t, "policy_users", s.policy_users, false);
  r.integer(t, "max_connections", s.max_connections, 1, 100000);
  r.integer(t, "request_timeout_ms", s.request_timeout_ms, 10, 600000);
  r.integer(t, "idle_timeout_s", s.idle_timeout_s, 1, 86400);
  r.boolean(t, "hold", p.hold_on_limit);
  r.integer(t, "counter_memory_mb", p.counter_memory_mb, 16, 1048576);
  // The older setting, a count of per-window keys: about 64 bytes each in the budget's terms.
  size_t max_keys = 0;
  r.integer(t, "max_keys", max_keys, 1000, 1000000000);
  if (max_keys && !t.get("counter_memory_mb")) p.counter_memory_mb = std::max<size_t>(16, (max_keys * 64) >> 20);
  for (const char* key : {"socket", "spamd_socket"})
    if (const toml::node* n = t.get(key);
        n && n->value<std::string>() && !n->value<std::string>()->empty() && n->value<std::string>()->front() != '/')
      r.error(*n, std::string("'") + key + "' must be an absolute path");
  std::string host, problem;
  int port = 0;
  for (const char* key : {"listen", "metrics", "spamd_listen"})
    if (const toml::node* n = t.get(key); n && n->value<std::string>() && !n->value<std::string>()->empty() &&
                                          !parse_loopback_listen(*n->value<std::string>(), &host, &port, &problem))
      r.error(*n, std::string("'") + key + "': " + problem + ", e.g. \"127.0.0.1:10040\"");
  for (auto [key, value] : {std::pair{"counters", &s.counters}, std::pair{"content_model", &s.content_model}})
    if (const toml::node* n = t.get(key); n && *value != "local" && *value != "redis")
      r.error(*n, std::string("'") + key + "' must be \"local\" or \"redis\"");
  if (const toml::node* n = t.get("content_model"); n && s.content_model == "redis")
    if (std::string problem = store::redis_address_error(s.redis); !problem.empty())
      r.error(t.get("redis") ? *t.get("redis") : *n, "content_model = \"redis\": " + problem);
  std::string over = p.over_limit == OverLimit::Defer ? "defer" : "freeze";
  r.string(t, "over_limit", over);
  if (over == "defer") p.over_limit = OverLimit::Defer;
  else if (over == "freeze") p.over_limit = OverLimit::Freeze;
  else r.error(*t.get("over_limit"), "'over_limit' must be \"defer\" or \"freeze\"");
  auto table = [&](const char* key, auto&& read) {
    if (const toml::node* n = t.get(key)) {
      if (const toml::table* sub = n->as_table()) read(*sub);
      else r.error(*n, std::string("[serve.") + key + "] must be a table");
    }
  };
  table("dictionary", [&](const toml::table& d) {
    r.unknown_keys(d, "serve.dictionary", {"tarpit_after", "drop_after", "window_seconds", "drop_seconds"});
    r.integer(d, "tarpit_after", p.dictionary_tarpit_after, 0, 1000000);
    r.integer(d, "drop_after", p.dictionary_drop_after, 0, 1000000);
    r.integer(d, "window_seconds", p.dictionary_window, 1, 7 * 86400);
    r.integer(d, "drop_seconds", p.dictionary_drop_seconds, 1, 30 * 86400);
  });
  table("tarpit", [&](const toml::table& d) {
    r.unknown_keys(d, "serve.tarpit", {"seconds", "max_concurrent"});
    r.integer(d, "seconds", p.tarpit_seconds, 0, 300);
    r.integer(d, "max_concurrent", p.max_tarpitted, 0, 100000);
  });
  table("helo", [&](const toml::table& d) {
    r.unknown_keys(d, "serve.helo", {"enabled", "hostnames", "addresses", "local_domains"});
    r.boolean(d, "enabled", p.helo_checks);
    read_string_list(r, d, "hostnames", p.hostnames, true);
    read_string_list(r, d, "addresses", p.addresses, false);
    read_string_list(r, d, "local_domains", p.local_domains, true);
  });
  table("allow", [&](const toml::table& d) { read_serve_lists(r, d, "serve.allow", p.allow); });
  table("deny", [&](const toml::table& d) { read_serve_lists(r, d, "serve.deny", p.deny); });
  read_serve_policy_tables(r, t, p);
}

}  // namespace

Config default_config() {
  Config c;
  c.log_path = first_existing({"/var/log/exim_mainlog", "/var/log/exim4/mainlog", "/var/log/exim/mainlog"});
  c.spool_dir = first_existing({"/var/spool/exim", "/var/spool/exim4"});
  c.exim_binary = first_existing({"/usr/sbin/exim", "/usr/sbin/exim4"});
  return c;
}

Config parse_config(std::string_view text, const std::string& source_name, std::vector<ConfigError>* errors) {
  Config c = default_config();
  toml::table root;
  try {  // this toml++ build reports syntax errors by exception
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    errors->push_back({int(e.source().begin.line), std::string(e.description())});
    return c;
  }
  Reader r(errors);
  r.unknown_keys(root, "top level",
                 {"paths", "watch", "limits", "signals", "allow", "actor", "alerts", "serve", "content"});
  auto section = [&](const char* name, auto&& read) {
    if (const toml::node* n = root.get(name)) {
      if (const toml::table* t = n->as_table()) read(*t);
      else r.error(*n, std::string("[") + name + "] must be a table");
    }
  };
  section("paths", [&](const toml::table& t) { read_paths(r, t, c); });
  section("watch", [&](const toml::table& t) { read_watch(r, t, c); });
  section("limits", [&](const toml::table& t) { read_type_tables(r, t, "limits", c, false); });
  section("signals", [&](const toml::table& t) { read_signals(r, t, c.limits.signals); });
  section("allow", [&](const toml::table& t) { read_type_tables(r, t, "allow", c, true); });
  section("actor", [&](const toml::table& t) { read_actor_overrides(r, t, c); });
  section("alerts", [&](const toml::table& t) { read_alerts(r, t, c.alerts); });
  section("serve", [&](const toml::table& t) { read_serve(r, t, c.serve); });
  section("content", [&](const toml::table& t) {
    r.unknown_keys(t, "content", {"learn_from_actions", "spamd"});
    r.boolean(t, "learn_from_actions", c.learn_from_actions);
    r.string(t, "spamd", c.content_spamd);
  });
  c.alerts.exim_binary = c.exim_binary;
  c.alerts.exim_config = c.exim_config;
  return c;
}

std::optional<Config> load_config(const std::string& path, bool explicit_path, std::vector<ConfigError>* errors) {
  if (std::error_code ec; std::filesystem::is_directory(path, ec)) {  // ifstream opens one and reads nothing
    errors->push_back({0, path + " is a directory, not a config file"});
    return std::nullopt;
  }
  std::ifstream in(path);
  if (!in) {
    if (!explicit_path) {
      Config c = default_config();
      c.alerts.exim_binary = c.exim_binary;
      return c;
    }
    errors->push_back({0, "cannot read " + path});
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  Config c = parse_config(text.str(), path, errors);
  if (!errors->empty()) return std::nullopt;
  return c;
}

std::string format_error(const std::string& source_name, const ConfigError& e) {
  if (e.line <= 0) return source_name + ": " + e.message;
  return source_name + ":" + std::to_string(e.line) + ": " + e.message;
}

}  // namespace sw::config
