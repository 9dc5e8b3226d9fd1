#include "alert/alerter.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "alert/http_post.h"
#include "base/json_text.h"
#include "detect/actor_type.h"
#include "base/text.h"

namespace sw::alert {
namespace {

constexpr size_t kMaxQueued = 1000;  // events are in the store too; the queue only feeds alerts

struct UrlParts {
  std::string scheme_host_port, path;
};

std::optional<UrlParts> split_url(const std::string& url) {
  if (url.rfind("http://", 0) != 0) return std::nullopt;
  size_t slash = url.find('/', 7);
  if (slash == std::string::npos) return UrlParts{url, "/"};
  return UrlParts{url.substr(0, slash), url.substr(slash)};
}

}  // namespace

int run_with_input(const std::vector<std::string>& argv, const std::string& input, int timeout_ms, std::string* error) {
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) {
    *error = std::strerror(errno);
    return -1;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::strerror(errno);
    ::close(in[0]), ::close(in[1]);
    return -1;
  }
  if (pid == 0) {
    ::dup2(in[0], 0);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  while (written < input.size()) {
    ssize_t n = ::write(in[1], input.data() + written, input.size() - written);
    if (n <= 0) break;
    written += size_t(n);
  }
  ::close(in[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  for (;;) {  // bounded by the deadline
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);  // our own child, by pid
      ::waitpid(pid, &status, 0);
      *error = "timed out after " + std::to_string(timeout_ms) + " ms";
      return -1;
    }
    ::usleep(10000);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Alerter::Alerter(AlertConfig config, std::function<void(const std::string&)> log)
    : config_(std::move(config)), log_(std::move(log)), thread_([this] { run(); }) {}

Alerter::~Alerter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Alerter::post(AlertEvent event) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueued) {
      queue_.pop_front();
      ++counts_.dropped;
    }
    queue_.push_back(std::move(event));
  }
  wake_.notify_one();
}

AlertCounts Alerter::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

void Alerter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    AlertEvent event = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    deliver(event);
    lock.lock();
  }
}

void Alerter::deliver(const AlertEvent& event) {
  nlohmann::json body = {
      {"kind", event.kind}, {"actor", event.actor}, {"summary", event.summary}, {"detail", event.detail}};
  if (auto ref = detect::parse_actor_ref(event.actor)) {  // the same two keys as holds, logs and queue JSON
    body["actor_type"] = detect::actor_type_name(ref->type);
    body["actor"] = ref->key;
  }
  if (config_.syslog) {
    ::openlog("spamwarden", LOG_PID, LOG_MAIL);
    ::syslog(event.kind == "error" ? LOG_ERR : LOG_WARNING, "%s", printable(event.summary).c_str());
  }
  auto attempt = [&](const char* channel, bool enabled, auto&& send) {
    if (!enabled) return;
    std::string error;
    bool ok = send(&error);
    std::lock_guard lock(mutex_);
    ok ? ++counts_.sent : ++counts_.failed;
    if (!ok && log_) log_(std::string("alert ") + channel + " failed: " + error);
  };
  attempt("webhook", !config_.webhook_url.empty(), [&](std::string* e) { return send_webhook(body, e); });
  attempt("email", !config_.email_to.empty(), [&](std::string* e) { return send_email(event, e); });
  attempt("exec", !config_.exec.empty(), [&](std::string* e) { return run_exec(body, e); });
}

bool Alerter::send_webhook(const nlohmann::json& body, std::string* error) {
  auto url = split_url(config_.webhook_url);
  if (!url) {
    *error = "webhook_url must start with http://";
    return false;
  }
  int status = 0;
  if (!http_post(url->scheme_host_port, url->path, json_text(body), "application/json", config_.webhook_timeout_ms,
                 &status, error))
    return false;
  if (status / 100 != 2) {
    *error = "HTTP " + std::to_string(status);
    return false;
  }
  return true;
}

bool Alerter::send_email(const AlertEvent& event, std::string* error) {
  if (config_.exim_binary.empty()) {
    *error = "no exim binary";
    return false;
  }
  // Sent by root with our header: the ACL snippets exempt exactly this, so the alert about a
  // held sender is never itself held. -odf delivers at once, in the foreground.
  std::vector<std::string> argv = {config_.exim_binary};
  if (!config_.exim_config.empty()) argv.insert(argv.end(), {"-C", config_.exim_config});
  argv.insert(argv.end(), {"-odf", "-f", config_.email_from, "-t", "-i"});
  std::string message = "From: " + config_.email_from + "\nTo: " + config_.email_to + "\nSubject: [spamwarden] " +
                        printable(event.summary) + "\n" + kAlertHeader + ": " + event.kind + "\n\n" + event.summary +
                        "\n\n" + json_text(event.detail, 2) + "\n";
  int rc = run_with_input(argv, message, 30000, error);
  if (rc != 0 && error->empty()) *error = "exim exited with " + std::to_string(rc);
  return rc == 0;
}

bool Alerter::run_exec(const nlohmann::json& body, std::string* error) {
  int rc = run_with_input({"/bin/sh", "-c", config_.exec}, json_text(body) + "\n", config_.exec_timeout_ms, error);
  if (rc != 0 && error->empty()) *error = "exit status " + std::to_string(rc);
  return rc == 0;
}

}  // namespace sw::alert
