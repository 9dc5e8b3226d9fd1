#include "detect/limits.h"

namespace sw::detect {

DetectorLimits default_limits() {
  DetectorLimits d;
  // Messages/recipients per scale. Scripts and local users send one message per sendmail
  // run; SMTP clients may send one message to many recipients, so recipients matter there.
  // The 2-second scale ("more than 10", i.e. a sustained 6+ msg/s) is what stops a fast burst
  // early: at 50 msg/s it trips on the 11th message, 0.2 s in, where the 10-second scale
  // would let 21 through. A shop's few order mails at once, a notification fan-out of 10 or a
  // mail client's outbox of 10 stay at or below it; it counts messages only (one message to
  // many recipients is the 10-second recipient limit's business).
  ActorLimits submitters{
      .scales = {{2, 10, 0}, {10, 20, 100}, {60, 60, 300}, {600, 200, 1000}, {3600, 500, 2500}, {86400, 3000, 15000}},
      .domains_per_hour = 300};
  for (ActorType t : kAllActorTypes) d.by_type[size_t(t)] = submitters;
  // A client IP may carry several accounts (an office behind one NAT): twice the short scale.
  d.by_type[size_t(ActorType::ClientIp)].scales[0].messages = 20;
  // A sender address may be shared by many legitimate mailboxes' clients (noreply@shop):
  // it gets more headroom than one script or one account.
  d.by_type[size_t(ActorType::Sender)] = ActorLimits{
      .scales = {{2, 20, 0}, {10, 40, 200}, {60, 120, 600}, {600, 400, 2000}, {3600, 1000, 5000}, {86400, 6000, 30000}},
      .domains_per_hour = 600};
  return d;
}

const ActorLimits& limits_for(const DetectorLimits& limits, ActorType type, const std::string& key) {
  auto it = limits.per_actor.find({type, key});
  return it != limits.per_actor.end() ? it->second : limits.by_type[size_t(type)];
}

}  // namespace sw::detect
