#include "daemon/hold_broker.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <ctime>
#include <memory>

#include "contain/containment.h"
#include "queue/exim_runner.h"
#include "store/hold_store.h"

namespace sw::daemon {

namespace {

bool send_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += size_t(n);
  }
  return true;
}

std::string render_set(const std::unordered_set<std::string>& held) {
  std::string out = "BEGIN\n";
  for (const std::string& actor : held) out += actor + "\n";
  return out + "END\n";
}

// The broker's whole life: hold what the daemon asks, send the active holds when they change.
int run_broker(int fd, const HoldBrokerOptions& o, const HoldBroker::Log& log) {
  std::string error;
  std::unique_ptr<store::HoldStore> store = store::HoldStore::open(store::store_path(o.state_dir), &error);
  if (!store) log("state store unavailable, holds kept in memory only: " + error);
  alert::Alerter alerter(o.alerts, log);
  queue::ProcessEximRunner exim(o.exim_binary, o.exim_config);
  bool freeze_queued = o.freeze_queued && !o.spool_dir.empty();
  if (freeze_queued && !queue::verify_exim_spool(exim, o.spool_dir, &error)) {
    log("queued mail of held actors will not be frozen: " + error);
    freeze_queued = false;
  }
  contain::Containment containment({o.state_dir, o.spool_dir, freeze_queued, false}, store.get(), &exim, &alerter, log);
  containment.start();
  std::unordered_set<std::string> sent;
  bool first = true, force = false;
  std::string buffer;
  time_t last_refresh = 0;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, 250);
    if (ready > 0) {
      char chunk[4096];
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0 && !(n < 0 && errno == EINTR)) break;  // the daemon is gone or stopping
      if (n > 0) buffer.append(chunk, size_t(n));
      size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        if (line == "REFRESH") {
          force = true;
          continue;
        }
        if (line.rfind("H ", 0) != 0) continue;
        line.erase(0, 2);
        size_t tab = line.find('\t');
        auto actor = detect::parse_actor_ref(line.substr(0, tab));
        if (!actor) continue;
        detect::Trip trip;
        trip.actor = *actor;
        trip.reason = tab == std::string::npos ? "serve: over its limit" : "serve: " + line.substr(tab + 1);
        trip.time = std::time(nullptr);
        containment.hold(trip, std::time(nullptr));
        force = true;
      }
    }
    time_t now = std::time(nullptr);
    if (!force && now == last_refresh) continue;
    last_refresh = now;
    force = false;
    containment.sync(now);
    if (!store) continue;
    auto active = store->active_holds(&error);
    if (!active) continue;
    std::unordered_set<std::string> held;
    for (const store::HoldRecord& h : *active) held.insert(detect::format_actor_ref(h.actor));
    if (held != sent || first) {
      if (!send_all(fd, render_set(held))) break;
      sent = std::move(held);
      first = false;
    }
  }
  containment.flush();
  return 0;
}

}  // namespace

HoldBroker::~HoldBroker() { stop(); }

bool HoldBroker::start(const HoldBrokerOptions& options, Log log, std::string* error) {
  log_ = log;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    *error = std::string("socketpair: ") + std::strerror(errno);
    return false;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::close(fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlives the daemon
    std::signal(SIGHUP, SIG_IGN);
    std::signal(SIGTERM, SIG_DFL);
    std::signal(SIGINT, SIG_IGN);
    ::_exit(run_broker(fds[1], options, [log](const std::string& line) { log("holds: " + line); }));
  }
  ::close(fds[1]);
  fd_ = fds[0];
  pid_ = pid;
  return true;
}

void HoldBroker::hold(const detect::ActorRef& actor, const std::string& reason) {
  if (fd_ < 0) return;
  std::string line = "H " + detect::format_actor_ref(actor) + "\t" + reason;
  for (char& c : line)
    if (c == '\n') c = ' ';
  line += '\n';
  if (!send_all(fd_, line) && log_) log_("cannot reach the hold process: " + detect::format_actor_ref(actor));
}

void HoldBroker::refresh() {
  if (fd_ >= 0) send_all(fd_, "REFRESH\n");
}

bool HoldBroker::read_updates(std::unordered_set<std::string>* held) {
  char chunk[8192];
  bool complete = false;
  for (;;) {
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, size_t(n));
      continue;
    }
    if (n == 0) {
      if (log_) log_("the hold process ended: new holds are not recorded until serve restarts");
      stop();
    }
    break;
  }
  size_t start = 0, nl;
  while ((nl = buffer_.find('\n', start)) != std::string::npos) {
    std::string_view line(buffer_.data() + start, nl - start);
    start = nl + 1;
    if (line == "BEGIN") {
      incoming_.clear();
      in_set_ = true;
    } else if (line == "END" && in_set_) {
      *held = std::move(incoming_);
      incoming_.clear();
      in_set_ = false;
      complete = true;
    } else if (in_set_) {
      incoming_.emplace(line);
    }
  }
  buffer_.erase(0, start);
  return complete;
}

void HoldBroker::stop() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (pid_ > 0) {
    ::waitpid(pid_, nullptr, 0);  // it flushes the store and exits on EOF
    pid_ = -1;
  }
}

}  // namespace sw::daemon
