// spamwarden's one TOML file (default /etc/spamwarden/spamwarden.toml): paths, limits,
// allowlists, alert targets, metrics. Every key is documented in docs/watch.md. Loading
// reports every problem with its line (toml++ source positions): syntax errors, unknown keys,
// wrong types and bad values, so `spamwarden config check` can point at each.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alert/alerter.h"
#include "config/serve_config.h"
#include "detect/limits.h"

namespace sw::config {

struct Config {
  std::string log_path;   // Exim main log
  std::string spool_dir;  // Exim spool (input/ under it)
  std::string exim_binary;
  std::string exim_config;  // optional -C for exim (tests, the lab)
  std::string state_dir = "/var/lib/spamwarden";
  // Web access logs (files, directories or globs) for `logs`; empty: found by the account.
  std::vector<std::string> access_logs;
  std::string metrics_listen;  // "127.0.0.1:9813"; empty: off
  bool freeze_queued = true;
  bool disable_scripts = false;  // rename a held script's files to NAME.spamwarden-held, chmod 000
  int poll_ms = 50;              // follower wait when idle
  detect::DetectorLimits limits = detect::default_limits();
  alert::AlertConfig alerts;
  ServeConfig serve;  // [serve]: the policy daemon (docs/serve.md)
  // [content]: mail removed by `queue remove --yes` / `release --remove` is taught as spam, mail
  // released with `release --thaw` as ham, through the daemon's spamd listener (TELL).
  bool learn_from_actions = false;
  // Where TELL goes; empty: the running serve's listener (from its model lock), else
  // /run/spamwarden/spamd.sock (daemon::feedback_spamd_address).
  std::string content_spamd;
};

struct ConfigError {
  int line = 0;  // 0 when not tied to a line
  std::string message;
};

inline const std::string kDefaultConfigPath = "/etc/spamwarden/spamwarden.toml";

// Defaults for this machine: cPanel or Debian paths, whichever exist.
Config default_config();

// Parses TOML text over default_config(); errors are collected, nothing throws.
Config parse_config(std::string_view text, const std::string& source_name, std::vector<ConfigError>* errors);

// Reads the file; a missing default file is not an error (defaults apply), a missing
// explicit one is.
std::optional<Config> load_config(const std::string& path, bool explicit_path, std::vector<ConfigError>* errors);

std::string format_error(const std::string& source_name, const ConfigError& e);

}  // namespace sw::config
