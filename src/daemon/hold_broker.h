// Holds need root: the store and hold lists under the state directory, `exim -Mf` for queued
// mail. The daemon drops privileges after binding, so a child forked before that keeps root
// and does the hold work with the same Containment `watch` uses (store, lists, freezing queued
// mail, alerts). The daemon sends it "hold" lines over a socket pair and gets back the set of
// active holds (serve's, watch's, minus what `spamwarden release` lifted) whenever it changes.
#pragma once
#include <sys/types.h>

#include <functional>
#include <string>
#include <unordered_set>

#include "alert/alerter.h"
#include "detect/actor_type.h"

namespace sw::daemon {

struct HoldBrokerOptions {
  std::string state_dir, spool_dir, exim_binary, exim_config;
  bool freeze_queued = true;
  alert::AlertConfig alerts;
};

class HoldBroker {
 public:
  using Log = std::function<void(const std::string&)>;
  HoldBroker() = default;
  ~HoldBroker();
  HoldBroker(const HoldBroker&) = delete;
  HoldBroker& operator=(const HoldBroker&) = delete;

  // Forks the broker; false with *error when it cannot (the daemon then holds nothing itself
  // and says so; its decisions still defer the actors over their limits).
  bool start(const HoldBrokerOptions& options, Log log, std::string* error);
  // Asks for a hold; returns at once.
  void hold(const detect::ActorRef& actor, const std::string& reason);
  // Asks for a fresh set of active holds (SIGHUP).
  void refresh();
  // Reads what the broker sent (call when fd() is readable); true when a complete set of
  // active holds ("type:key") arrived in *held.
  bool read_updates(std::unordered_set<std::string>* held);
  int fd() const { return fd_; }
  bool running() const { return fd_ >= 0; }
  void stop();  // closes the pipe; the broker writes what it has and exits

 private:
  int fd_ = -1;
  pid_t pid_ = -1;
  Log log_;
  std::string buffer_;
  std::unordered_set<std::string> incoming_;
  bool in_set_ = false;
};

}  // namespace sw::daemon
