// The live burst detector: fed parsed main-log lines in log order, it keeps sliding windows
// per actor (script directory, local user, SMTP-AUTH account, client IP of an authenticated
// submission, sender of a local or authenticated submission; on cPanel also the user and
// sender of mail a script of theirs handed in over SMTP from this host) and reports a Trip the first
// time an actor crosses one of its limits. Pure: no I/O, time comes from the log lines.
// Memory is bounded by active actors: expire() drops those idle longer than the longest scale.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "detect/actor_type.h"
#include "detect/limits.h"
#include "detect/related_user.h"
#include "detect/sliding_window.h"
#include "eximlog/cwd_matcher.h"
#include "eximlog/early_outcomes.h"
#include "eximlog/log_line.h"
#include "eximlog/sender_identities.h"

namespace sw::detect {

struct Trip {
  ActorRef actor;
  std::string reason;             // "21 messages in 10s (limit 20)"
  std::string related_user;       // scripts: the local user that ran them (held with the script)
  CivilSeconds time = 0;          // log time of the line that crossed the limit
  std::string related_user_note;  // scripts: why no user is held with it (related_user empty)
  // The other actors of the message that crossed the limit (its user, account, sender...):
  // holds of actors seen on the same mail belong to one incident.
  std::vector<ActorRef> companions;
};

struct DetectorCounts {
  uint64_t lines = 0, unparsed = 0, arrivals = 0;
  std::array<uint64_t, kActorTypes> messages_by_type{};
  uint64_t trips = 0;
};

class Detector {
 public:
  explicit Detector(DetectorLimits limits);
  ~Detector();

  // Feeds one line (`raw` its text, kept for mail cPanel may name the user of later); appends
  // any trips to *trips.
  void add(const eximlog::LogLine& line, std::vector<Trip>* trips, std::string_view raw = {});
  // Drops actors idle for longer than limits().idle_expiry_seconds before `now`.
  void expire(CivilSeconds now);
  // Forgets an actor (after a release: its windows start empty, it may trip again).
  void forget(const ActorRef& actor);
  // An actor already held (e.g. after a restart) does not trip again.
  void mark_tripped(const ActorRef& actor);

  size_t active_actors() const;
  const DetectorCounts& counts() const { return counts_; }
  const DetectorLimits& limits() const { return limits_; }

 private:
  struct Actor;
  struct Inflight {
    std::vector<ActorRef> actors;
  };
  struct CwdSlot {
    uint32_t token = eximlog::CwdMatcher::kNone;
    std::string dir;
  };
  static constexpr size_t kCwdSlots = 16384;  // pending cwd= lines remembered
  using Table = std::unordered_map<std::string, std::unique_ptr<Actor>>;

  Actor* touch(ActorType type, std::string_view key, CivilSeconds time);
  void on_arrival(const eximlog::LogLine& l, std::vector<Trip>* trips, std::string_view raw);
  void on_identification(const eximlog::LogLine& l, std::vector<Trip>* trips);
  // Counts an arrival for its actors, remembered until its Completed.
  void count_arrival(const eximlog::LogLine& l, const std::vector<Actor*>& actors, std::vector<Trip>* trips);
  void on_outcome(const eximlog::LogLine& l, std::vector<Trip>* trips);
  void on_auth_failure(const eximlog::LogLine& l);
  void on_cwd(const eximlog::LogLine& l);

  void count_message(Actor& a, const eximlog::LogLine& l, uint32_t rcpts, std::vector<Trip>* trips);
  void check(Actor& a, CivilSeconds time, int64_t time_ms, std::vector<Trip>* trips);
  void trip(Actor& a, CivilSeconds time, std::string reason, std::vector<Trip>* trips);
  Actor* find(const ActorRef& ref);

  DetectorLimits limits_;
  std::array<Table, kActorTypes> tables_;
  eximlog::CwdMatcher cwd_;
  std::vector<CwdSlot> cwd_slots_;  // token % kCwdSlots; a reused slot means a lost cwd= line
  uint32_t next_cwd_token_ = 0;
  std::unordered_map<std::string, Inflight> inflight_;  // message id -> actors, until Completed
  std::deque<std::pair<CivilSeconds, std::string>> inflight_order_;
  eximlog::SenderIdentities identified_;  // cPanel's users of mail over SMTP without a login
  // Cutthrough deliveries, logged before their arrival: successes of the actors it names (a
  // relay that delivers all its mail so would otherwise show only the failures).
  eximlog::EarlyOutcomes early_;
  std::string scratch_;
  DetectorCounts counts_;
};

}  // namespace sw::detect
