// Alerts for containment events: syslog, a JSON webhook (HTTP POST with a timeout), an e-mail
// to the admin and an optional exec hook. All run on one background thread fed by a bounded
// queue, so a hanging webhook or a slow MTA never delays detection or holds.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace sw::alert {

struct AlertConfig {
  bool syslog = true;
  std::string webhook_url;  // http://host:port/path (plain HTTP; use exec + curl for HTTPS)
  int webhook_timeout_ms = 3000;
  std::string email_to;  // empty: no e-mail
  std::string email_from = "spamwarden@localhost";
  std::string exim_binary;  // sends the e-mail with -odf (deliver now, in the foreground)
  std::string exim_config;  // optional -C (the lab)
  std::string exec;         // /bin/sh -c EXEC, the event JSON on stdin
  int exec_timeout_ms = 10000;
};

struct AlertEvent {
  std::string kind;     // hold, release, error
  std::string actor;    // "local_user:userx1"
  std::string summary;  // one line for syslog and the subject
  nlohmann::json detail;
};

struct AlertCounts {
  uint64_t sent = 0, failed = 0, dropped = 0;
};

// The header the e-mail alert carries; the ACL snippets let root's mail with it through a hold.
inline constexpr const char* kAlertHeader = "X-Spamwarden-Alert";

class Alerter {
 public:
  explicit Alerter(AlertConfig config, std::function<void(const std::string&)> log);
  ~Alerter();  // delivers what is queued (each channel bounded by its timeout), then stops
  void post(AlertEvent event);
  AlertCounts counts() const;

 private:
  void run();
  void deliver(const AlertEvent& event);
  bool send_webhook(const nlohmann::json& body, std::string* error);
  bool send_email(const AlertEvent& event, std::string* error);
  bool run_exec(const nlohmann::json& body, std::string* error);

  AlertConfig config_;
  std::function<void(const std::string&)> log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<AlertEvent> queue_;
  AlertCounts counts_;
  bool stopping_ = false;
  std::thread thread_;
};

// Runs argv with `input` on stdin, killing it after timeout_ms; exit status or -1.
int run_with_input(const std::vector<std::string>& argv, const std::string& input, int timeout_ms, std::string* error);

}  // namespace sw::alert
