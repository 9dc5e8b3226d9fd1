// When the detector calls an actor's sending a burst. Every limit is "more than N within the
// window", 0 means "no limit". The defaults are chosen so an ordinary shop (order mails one
// at a time), a local user or a customer's mail client never reaches them, while a script or
// a hijacked account sending faster than 5 msg/s trips the 2-second scale within a fraction
// of a second (see limits.cc and docs/watch.md). Known bulk
// senders (a newsletter) get their own, higher limits per actor.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "detect/actor_type.h"

namespace sw::detect {

struct ScaleLimit {
  int64_t seconds = 60;
  uint64_t messages = 0;
  uint64_t recipients = 0;
};

struct ActorLimits {
  std::vector<ScaleLimit> scales;  // at most kMaxScales
  uint64_t domains_per_hour = 0;   // distinct recipient domains in the last hour
};
inline constexpr size_t kMaxScales = 6;

// Signals from the forensics findings, checked live.
struct SignalLimits {
  uint64_t many_recipients = 50;            // a message with this many recipients is "bulk"
  uint64_t many_recipient_messages = 5;     // more bulk messages than this in an hour: trip
  uint64_t account_ips = 5;                 // an SMTP-AUTH account sending from more IPs in an hour
  uint64_t failed_logins = 5;               // failed logins for an account within an hour...
  uint64_t after_failures_recipients = 20;  // ...then more recipients than this in 10 min
  uint64_t random_sender_min = 20;          // messages in 10 min before the share counts
  double random_sender_share = 0.5;         // share of random-looking sender local parts
  uint64_t fail_share_min = 50;             // delivery outcomes in an hour before the share counts
  double fail_share = 0.5;                  // share of deferrals and bounces
};

struct DetectorLimits {
  std::array<ActorLimits, kActorTypes> by_type;
  std::map<std::pair<ActorType, std::string>, ActorLimits> per_actor;  // overrides
  std::array<std::set<std::string>, kActorTypes> allow;                // never counted, never held
  SignalLimits signals;
  int64_t idle_expiry_seconds = 90000;  // > the longest scale: an idle actor's windows are empty
};

DetectorLimits default_limits();
const ActorLimits& limits_for(const DetectorLimits& limits, ActorType type, const std::string& key);

}  // namespace sw::detect
